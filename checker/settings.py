"""Settings read once from the environment (with working defaults) and passed down explicitly.

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
from typing import Any

from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig

# 2 million characters is ~300k words, a long book; news articles are 2-20 thousand characters.
# Larger inputs are almost always a wrong file (a database dump, a binary), not an article.
DEFAULT_MAX_TEXT_CHARS = 2_000_000
# The Brave Search API's web search endpoint (https://api-dashboard.search.brave.com/app/documentation).
BRAVE_SEARCH_URL = "https://api.search.brave.com/res/v1/web/search"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None = None
    index_url: str | None = None
    index_prefix: str = "checker:index"
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
            index_prefix=env.get("CHECKER_INDEX_PREFIX") or "checker:index",
            allow_private_urls=_truthy(env.get("CHECKER_ALLOW_PRIVATE_URLS")),
            max_text_chars=int(env.get("CHECKER_MAX_TEXT_CHARS") or DEFAULT_MAX_TEXT_CHARS),
            scheduler_tick_s=float(env.get("CHECKER_SCHEDULER_TICK_S") or 60),
            searxng_url=env.get("CHECKER_SEARXNG_URL") or None,
            brave_api_key=env.get("CHECKER_BRAVE_API_KEY") or None,
            brave_url=env.get("CHECKER_BRAVE_URL") or BRAVE_SEARCH_URL,
            search_daily_budget=int(env.get("CHECKER_SEARCH_DAILY_BUDGET") or 100),
            search_repeat_days=int(env.get("CHECKER_SEARCH_REPEAT_DAYS") or 30),
            discovery_phrases=int(env.get("CHECKER_DISCOVERY_PHRASES") or 3),
            rediscover_days=int(env.get("CHECKER_REDISCOVER_DAYS") or 30),
            auto_migrate=_truthy(env.get("CHECKER_AUTO_MIGRATE", "1")),
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
