"""Settings read once from the environment (with working defaults) and passed down explicitly.

This module is the only place the product reads its ``CHECKER_*`` environment variables, with one
parser per kind (:func:`flag`, :func:`number`, :func:`text`): a value that cannot be meant (``yes``
for a port, ``maybe`` for a flag) is refused by name (:class:`SettingsError`) rather than read as a
default. The README's configuration table lists every variable. Groups: :class:`Settings` (storage,
index, discovery), :class:`AlertSettings`, :class:`WorkerSettings`, :class:`WebSettings` (the Flask
app's, as ``app.config`` keys). The thresholds of detection are not settings: checker.thresholds.

- ``CHECKER_DATA_DIR``: where the embedded default keeps its files (default ``./instance``).
- ``CHECKER_DATABASE_URL``: SQLAlchemy URL (default: SQLite file ``checker.db`` in the data dir).
- ``CHECKER_BROKER_URL``: Celery broker; unset means tasks run in-process.
- ``CHECKER_INDEX_URL``: Redis URL of the shared passage index (default: the broker URL when it is a
  Redis URL, so every worker shares one index; else the in-process index persisted in the data dir).
  ``redis+cluster://host:port/`` (``rediss+cluster://`` with TLS) names any node of a Redis Cluster;
  ``?bucket_bits=N`` sizes a new index (see :mod:`checker.index_redis`).
- ``CHECKER_INDEX_PREFIX``: key prefix of the shared index in Redis (default ``checker:index``).
- ``CHECKER_ALLOW_PRIVATE_URLS=1``: let the fetcher reach loopback/private addresses (tests only).
- ``CHECKER_MAX_TEXT_CHARS``: the largest text accepted for registration or scanning.
- ``CHECKER_SCHEDULER_TICK_S``: how often the embedded scheduler looks for due work (default 60 s;
  with a broker, Celery beat does this every minute instead).
- Discovery (docs/discovery.md): ``CHECKER_SEARXNG_URL`` (a SearXNG instance), ``CHECKER_BRAVE_API_KEY``
  (Brave Search API; ``CHECKER_BRAVE_URL`` overrides its endpoint), ``CHECKER_SEARCH_DAILY_BUDGET``
  (queries per provider per UTC day, default 100), ``CHECKER_SEARCH_REPEAT_DAYS`` (a phrase is not sent
  again within this many days, default 30), ``CHECKER_DISCOVERY_PHRASES`` (phrases per article,
  default 3), ``CHECKER_REDISCOVER_DAYS`` (older articles are searched again after this many days,
  default 30; 0: never).
- ``CHECKER_AUTO_MIGRATE``: bring the database's schema up to date when a process opens it (default on;
  ``0``: only a new database is set up, an older one asks for ``checker db upgrade``; checker/migrate.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from checker.errors import CheckerError
from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme
from checker.index import DEFAULT_PREFIX
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig

# 2 million characters is ~300k words, a long book; news articles are 2-20 thousand characters.
# Larger inputs are almost always a wrong file (a database dump, a binary), not an article.
DEFAULT_MAX_TEXT_CHARS = 2_000_000
# The Brave Search API's web search endpoint (https://api-dashboard.search.brave.com/app/documentation).
BRAVE_SEARCH_URL = "https://api.search.brave.com/res/v1/web/search"


ON = frozenset({"1", "true", "yes", "on"})
OFF = frozenset({"0", "false", "no", "off"})
LOG_FORMATS = ("text", "json")
# A parser's default: a value (the setting always has one) or None (unset: someone else's default holds).
D = TypeVar("D", bool, int, None)


class SettingsError(CheckerError, ValueError):
    """An environment variable holds a value it cannot take; the message names it."""


def text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """``env[name]`` without surrounding spaces; ``default`` when unset or empty."""
    return (env.get(name) or "").strip() or default


# The ignore: mypy refuses a default for a TypeVar-typed parameter (python/mypy#3737).
def flag(env: Mapping[str, str], name: str, default: D = False) -> bool | D:  # type: ignore[assignment]
    """On (1, true, yes, on) or off (0, false, no, off), in any case; ``default`` when unset or empty."""
    raw = (text(env, name) or "").lower()
    if not raw:
        return default
    if raw in ON or raw in OFF:
        return raw in ON
    raise SettingsError(f"{name} must be on or off (1/0, true/false, yes/no, on/off), not {raw!r}")


def number(
    env: Mapping[str, str], name: str, default: D, *, minimum: int | None = None, maximum: int | None = None
) -> int | D:
    """A whole number within ``[minimum, maximum]``; ``default`` when unset or empty."""
    raw = text(env, name)
    if raw is None:
        return default
    try:
        value: int | None = int(raw)
    except ValueError:
        value = None
    if value is not None and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
        return value
    bounds = ""
    if minimum is not None:
        bounds = f" from {minimum} to {maximum}" if maximum is not None else f" of at least {minimum}"
    raise SettingsError(f"{name} must be a whole number{bounds}, not {raw!r}")


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds; ``default`` when unset or empty."""
    raw = text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def log_format(env: Mapping[str, str] | None = None) -> str:
    """``CHECKER_LOG_FORMAT``: ``text`` (the default) or ``json``."""
    value = (text(os.environ if env is None else env, "CHECKER_LOG_FORMAT") or "text").lower()
    if value not in LOG_FORMATS:
        raise SettingsError(f"CHECKER_LOG_FORMAT must be 'text' or 'json', not {value!r}")
    return value


def base_url(env: Mapping[str, str]) -> str | None:
    """``CHECKER_BASE_URL`` without its trailing slash (checked where it is used: web.create_app)."""
    return (text(env, "CHECKER_BASE_URL") or "").rstrip("/") or None


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (worker.alerts): ``CHECKER_WEBHOOK_*``, ``CHECKER_SMTP_*``, ``CHECKER_ALERT_*``."""

    webhook_url: str | None = None
    webhook_secret: str = ""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "reuse-checker@localhost"
    mail_to: tuple[str, ...] = ()
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        env = os.environ if env is None else env
        return cls(
            webhook_url=text(env, "CHECKER_WEBHOOK_URL"),
            webhook_secret=env.get("CHECKER_WEBHOOK_SECRET", ""),
            smtp_host=text(env, "CHECKER_SMTP_HOST"),
            smtp_port=number(env, "CHECKER_SMTP_PORT", 25, minimum=1, maximum=65535),
            smtp_user=text(env, "CHECKER_SMTP_USER"),
            smtp_password=env.get("CHECKER_SMTP_PASSWORD") or None,
            smtp_starttls=flag(env, "CHECKER_SMTP_STARTTLS"),
            mail_from=text(env, "CHECKER_ALERT_FROM") or "reuse-checker@localhost",
            mail_to=tuple(a.strip() for a in (env.get("CHECKER_ALERT_TO") or "").split(",") if a.strip()),
            base_url=base_url(env),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.mail_to)

    def link(self, path: str) -> str:
        """A dashboard path as a link people can follow: in full when CHECKER_BASE_URL is set."""
        return f"{self.base_url}{path}" if self.base_url else path


@dataclass(frozen=True)
class WorkerSettings:
    """A worker process's: fair sharing, time limits, the broker's redelivery, its metrics port."""

    per_org_inflight: int = 2  # scans of one organisation in flight at once (worker.fairness)
    scan_soft_time_limit_s: int = 300  # 0: none
    scan_time_limit_s: int = 330
    # Redis transport: a message not acknowledged within this is delivered again. It must exceed the
    # longest task and any countdown (a crawl's 30 min, retries' 10 min), or tasks run twice.
    visibility_timeout_s: int = 2 * 60 * 60
    metrics_port: int | None = None  # the worker's own /metrics (worker.metrics); None: off
    metrics_addr: str = "127.0.0.1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerSettings:
        env = os.environ if env is None else env
        return cls(
            per_org_inflight=number(env, "CHECKER_PER_ORG_INFLIGHT", cls.per_org_inflight, minimum=1),
            scan_soft_time_limit_s=number(
                env, "CHECKER_SCAN_SOFT_TIME_LIMIT", cls.scan_soft_time_limit_s, minimum=0
            ),
            scan_time_limit_s=number(env, "CHECKER_SCAN_TIME_LIMIT", cls.scan_time_limit_s, minimum=1),
            visibility_timeout_s=number(
                env, "CHECKER_VISIBILITY_TIMEOUT", cls.visibility_timeout_s, minimum=1
            ),
            metrics_port=number(env, "CHECKER_WORKER_METRICS_PORT", None, minimum=1, maximum=65535),
            metrics_addr=text(env, "CHECKER_WORKER_METRICS_ADDR") or cls.metrics_addr,
        )

    @property
    def scan_time_limits(self) -> tuple[int | None, int]:
        """``(soft, hard)`` seconds for a scan task (soft None: none). A hard limit not above the soft
        one is raised to soft + 30 s, so the soft limit always gets to record why the scan stopped."""
        soft, hard = self.scan_soft_time_limit_s, self.scan_time_limit_s
        if soft <= 0:
            return None, hard
        return soft, hard if hard > soft else soft + 30


@dataclass(frozen=True)
class WebSettings:
    """The dashboard's, from the environment; None: not set (web.create_app's default holds). Names
    are ``app.config`` keys in lower case (:meth:`flask_config`)."""

    secret_key: str | None = None
    base_url: str | None = None
    trusted_proxies: int | None = None
    login_rate_limit: str | None = None
    login_backoff_after: int | None = None
    login_backoff_max_s: int | None = None
    login_backoff_window_s: int | None = None
    ratelimit_storage_uri: str | None = None
    session_cookie_secure: bool | None = None
    metrics: bool | None = None
    page_size: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        return cls(
            secret_key=text(env, "CHECKER_SECRET_KEY"),
            base_url=text(env, "CHECKER_BASE_URL"),
            trusted_proxies=number(env, "CHECKER_TRUSTED_PROXIES", None, minimum=0),
            login_rate_limit=text(env, "CHECKER_LOGIN_RATE_LIMIT"),
            login_backoff_after=number(env, "CHECKER_LOGIN_BACKOFF_AFTER", None, minimum=1),
            login_backoff_max_s=number(env, "CHECKER_LOGIN_BACKOFF_MAX_S", None, minimum=1),
            login_backoff_window_s=number(env, "CHECKER_LOGIN_BACKOFF_WINDOW_S", None, minimum=1),
            ratelimit_storage_uri=text(env, "CHECKER_RATELIMIT_STORAGE_URI"),
            session_cookie_secure=flag(env, "CHECKER_SESSION_COOKIE_SECURE", None),
            metrics=flag(env, "CHECKER_METRICS", None),
            page_size=number(env, "CHECKER_PAGE_SIZE", None, minimum=1),
        )

    def flask_config(self) -> dict[str, object]:
        """The values set, as ``app.config`` keys (``SESSION_COOKIE_SECURE`` sets the remember-me
        cookie's flag too)."""
        config: dict[str, object] = {
            name.upper(): value for name, value in vars(self).items() if value is not None
        }
        if self.session_cookie_secure is not None:
            config["REMEMBER_COOKIE_SECURE"] = self.session_cookie_secure
        return config


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None = None
    index_url: str | None = None
    index_prefix: str = DEFAULT_PREFIX
    allow_private_urls: bool = False
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    scheme: FingerprintScheme = field(default=DEFAULT_SCHEME)
    match: MatchConfig = field(default=DEFAULT_MATCH_CONFIG)
    scheduler_tick_s: float = 60.0
    searxng_url: str | None = None
    brave_api_key: str | None = None
    brave_url: str = BRAVE_SEARCH_URL
    search_daily_budget: int = 100
    search_repeat_days: int = 30
    discovery_phrases: int = 3
    rediscover_days: int = 30
    auto_migrate: bool = True
    log_format: str = "text"
    alerts: AlertSettings = field(default_factory=AlertSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    web: WebSettings = field(default_factory=WebSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``env`` (default ``os.environ``); keyword arguments that are not None win."""
        env = os.environ if env is None else env
        data_dir = Path(
            overrides.pop("data_dir", None) or env.get("CHECKER_DATA_DIR") or "instance"
        ).absolute()
        database_url = (
            overrides.pop("database_url", None)
            or env.get("CHECKER_DATABASE_URL")
            or (f"sqlite:///{data_dir / 'checker.db'}")
        )
        broker_url = env.get("CHECKER_BROKER_URL") or None
        index_url = env.get("CHECKER_INDEX_URL") or redis_only(broker_url)
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            broker_url=broker_url,
            index_url=index_url,
            index_prefix=env.get("CHECKER_INDEX_PREFIX") or DEFAULT_PREFIX,
            allow_private_urls=flag(env, "CHECKER_ALLOW_PRIVATE_URLS"),
            max_text_chars=number(env, "CHECKER_MAX_TEXT_CHARS", DEFAULT_MAX_TEXT_CHARS, minimum=1),
            scheduler_tick_s=seconds(env, "CHECKER_SCHEDULER_TICK_S", 60.0),
            searxng_url=text(env, "CHECKER_SEARXNG_URL"),
            brave_api_key=text(env, "CHECKER_BRAVE_API_KEY"),
            brave_url=text(env, "CHECKER_BRAVE_URL") or BRAVE_SEARCH_URL,
            search_daily_budget=number(env, "CHECKER_SEARCH_DAILY_BUDGET", 100, minimum=0),
            search_repeat_days=number(env, "CHECKER_SEARCH_REPEAT_DAYS", 30, minimum=0),
            discovery_phrases=number(env, "CHECKER_DISCOVERY_PHRASES", 3, minimum=1),
            rediscover_days=number(env, "CHECKER_REDISCOVER_DAYS", 30, minimum=0),
            auto_migrate=flag(env, "CHECKER_AUTO_MIGRATE", True),
            log_format=log_format(env),
            alerts=AlertSettings.from_env(env),
            worker=WorkerSettings.from_env(env),
            web=WebSettings.from_env(env),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def redis_broker_url(self) -> str | None:
        """The broker's URL when the broker is Redis (what the shared index, the fair-dispatch slots and
        the login counts use by default), else None."""
        return redis_only(self.broker_url)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def index_config(self) -> dict[str, Any]:
        """The passage index backend these settings select (see :func:`checker.index.open_index`)."""
        if self.index_url:
            return {"type": "redis", "url": self.index_url, "prefix": self.index_prefix}
        return {"type": "memory", "directory": self.index_dir}


def redis_only(url: str | None) -> str | None:
    """``url`` if it names a Redis server (``redis://``, ``rediss://``), else None."""
    return url if url and url.startswith(("redis://", "rediss://")) else None
