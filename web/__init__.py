"""The dashboard and REST API: a Flask application factory, in the style of Flask's tutorial app.

Configuration is read once, in this order (later wins): the defaults below (and web.throttle's),
``CHECKER_*`` environment variables (``from_prefixed_env``: ``CHECKER_DATA_DIR`` becomes ``DATA_DIR``,
``CHECKER_SECRET_KEY`` becomes ``SECRET_KEY``, values are parsed as JSON when they can be), then
``test_config``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

# Bulk uploads (JSONL/CSV of many articles) are the largest bodies; a single article is at most
# CHECKER_MAX_TEXT_CHARS (2M characters, ~8 MB of UTF-8 at worst). 32 MiB covers both.
DEFAULT_MAX_CONTENT_LENGTH = 32 * 1024 * 1024

DEFAULTS = {
    "SECRET_KEY": None,  # from the environment, else a generated file in the data folder
    "DATA_DIR": None,  # None: Settings' default (CHECKER_DATA_DIR or ./instance)
    "DATABASE_URL": None,
    "SETTINGS": None,  # a checker.settings.Settings (tests); wins over DATA_DIR/DATABASE_URL
    "MAX_CONTENT_LENGTH": DEFAULT_MAX_CONTENT_LENGTH,
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
    "PAGE_SIZE": 50,
}


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app: settings, registry, blueprints, login, CSRF and throttling."""
    from web import throttle

    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS | throttle.DEFAULTS)
    app.config.from_prefixed_env("CHECKER")
    if test_config:
        app.config.from_mapping(test_config)

    from checker.settings import Settings

    settings = app.config["SETTINGS"] or Settings.from_env(
        data_dir=app.config["DATA_DIR"], database_url=app.config["DATABASE_URL"]
    )
    app.config["SETTINGS"] = settings
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key_file(settings.data_dir)

    from web import admin, api, auth, dashboard, db, exports  # noqa: F401 - exports adds dashboard routes

    db.init_app(app, settings)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    auth.csrf.exempt(api.bp)  # token-authenticated, no cookies: nothing to forge
    throttle.init_app(app, settings)
    return app


def _secret_key_file(data_dir: Path) -> str:
    """The data folder's secret key, generated on first start (readable by the owner only)."""
    path = Path(data_dir) / "secret_key"
    if path.exists():
        key = path.read_text("ascii").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
