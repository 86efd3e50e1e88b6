"""The dashboard and REST API: a Flask application factory, in the style of Flask's tutorial app.

Configuration is read once, in this order (later wins): the defaults below (and web.throttle's), the
environment's (:class:`checker.settings.WebSettings`, which reads and checks every ``CHECKER_*``
variable the app has, e.g. ``CHECKER_SECRET_KEY`` as ``SECRET_KEY``), then ``test_config``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, request

# Bulk uploads (JSONL/CSV of many articles) are the largest bodies; a single article is at most
# CHECKER_MAX_TEXT_CHARS (2M characters, ~8 MB of UTF-8 at worst). 32 MiB covers both.
DEFAULT_MAX_CONTENT_LENGTH = 32 * 1024 * 1024

DEFAULTS = {
    "SECRET_KEY": None,  # from the environment, else a generated file in the data folder
    "DATA_DIR": None,  # None: Settings' default (CHECKER_DATA_DIR or ./instance)
    "DATABASE_URL": None,
    "SETTINGS": None,  # a checker.settings.Settings (tests); wins over DATA_DIR/DATABASE_URL
    "MAX_CONTENT_LENGTH": DEFAULT_MAX_CONTENT_LENGTH,
    # Where users reach the app, e.g. https://checker.example.org: the API document's server and the
    # docs' examples. None: the OpenAPI server is "/" (relative) and never the request's Host header.
    "BASE_URL": None,
    # Cookies: never readable from scripts, not sent on cross-site POSTs, HTTPS-only in production.
    # `checker serve` speaks plain HTTP on a laptop and turns SESSION_COOKIE_SECURE off.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    # Embedded default: tasks run on one background thread so requests return at once.
    "BACKGROUND_TASKS": True,
    # With background tasks and no broker: run the periodic tasks in this process (worker.scheduler).
    "SCHEDULER": True,
    "PAGE_SIZE": 50,
    # /metrics for Prometheus (web.metrics), public like /healthz; CHECKER_METRICS=0: not served (404).
    "METRICS": True,
}

# Every page's scripts and styles are files under /static: no inline script, style or event handler.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app: settings, registry, blueprints, login, CSRF, throttling, headers.

    Files this process creates from here on are its owner's only (umask 077): the data folder holds the
    database, the index, the secret key and the demo credentials."""
    from web import throttle

    app = Flask(__name__)
    from checker.settings import WebSettings

    app.config.from_mapping(DEFAULTS | throttle.DEFAULTS)
    app.config.from_mapping(WebSettings.from_env().flask_config())
    if test_config:
        app.config.from_mapping(test_config)
    app.config["BASE_URL"] = _base_url(app.config["BASE_URL"])

    from checker import logcontext
    from checker.settings import Settings
    from checker.store import private_dir, private_umask

    logcontext.configure()  # CHECKER_LOG_FORMAT=json: one JSON object per log line
    logcontext.add_provider(_log_fields)

    private_umask()
    settings = app.config["SETTINGS"] or Settings.from_env(
        data_dir=app.config["DATA_DIR"], database_url=app.config["DATABASE_URL"]
    )
    app.config["SETTINGS"] = settings
    private_dir(settings.data_dir)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key_file(settings.data_dir)

    from web import (
        activity,
        admin,
        api,
        auth,
        dashboard,
        db,
        errors,
        exports,
        health,
        i18n,
        monitoring,
        org_settings,
    )
    from worker.celery_app import celery_init_app

    celery_init_app(app, settings)
    db.init_app(app, settings)
    i18n.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(activity.bp)
    app.register_blueprint(health.bp)
    if app.config["METRICS"]:
        from web import metrics

        app.register_blueprint(metrics.bp)
    app.register_blueprint(monitoring.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(org_settings.bp)
    app.register_blueprint(api.bp)
    auth.csrf.exempt(api.bp)  # token-authenticated, no cookies: nothing to forge
    throttle.init_app(app, settings)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.after_request(_security_headers)
    return app


def _log_fields() -> dict:
    """The organisation of the request's account, for structured logs, when the request already loaded
    it (a session's or an API token's); never loads it for a log line."""
    from flask import g, has_request_context

    if not has_request_context():
        return {}
    account = g.get("account") or g.get("_login_user")
    return {"org_id": getattr(account, "org_id", None)}


def _favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the pages link: the same SVG icon."""
    from pathlib import Path

    from flask import Response

    icon = Path(__file__).with_name("static") / "favicon.svg"
    response = Response(icon.read_bytes(), mimetype="image/svg+xml")  # small: read, not streamed
    response.cache_control.public, response.cache_control.max_age = True, 86400
    return response


def _security_headers(response):
    """The same security headers on every response (pages, JSON, static files, errors)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # HTTPS (behind a proxy: with CHECKER_TRUSTED_PROXIES and X-Forwarded-Proto)
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _base_url(value: str | None) -> str | None:
    """CHECKER_BASE_URL without its trailing slash; only http(s) URLs of a host, without query."""
    if not value:
        return None
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"CHECKER_BASE_URL must be an http(s) URL like https://checker.example.org (got {value!r})"
        )
    return parts.geturl().rstrip("/")


def _secret_key_file(data_dir: Path) -> str:
    """The data folder's secret key, generated on first start (readable by the owner only).

    Created atomically: the key is written whole to a temporary file which is then hard-linked to the
    final name; the link fails if another process (a gunicorn worker booting at the same moment) was
    first, and then everyone reads the winner's key."""
    path = Path(data_dir) / "secret_key"
    try:
        key = path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    else:
        if not key:
            raise RuntimeError(f"{path} is empty: delete it (a new key is made) or set CHECKER_SECRET_KEY")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text("ascii").strip()
