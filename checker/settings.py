"""Settings read once from the environment (with working defaults) and passed down explicitly.

- ``CHECKER_DATA_DIR``: where the embedded default keeps its files (default ``./instance``).
- ``CHECKER_DATABASE_URL``: SQLAlchemy URL (default: SQLite file ``checker.db`` in the data dir).
- ``CHECKER_BROKER_URL``: Celery broker; unset means tasks run in-process.
- ``CHECKER_INDEX_URL``: Redis URL of the shared passage index (default: the broker URL when it is a
  Redis URL, so every worker shares one index; else the in-process index persisted in the data dir).
- ``CHECKER_INDEX_PREFIX``: key prefix of the shared index in Redis (default ``checker:index``).
- ``CHECKER_ALLOW_PRIVATE_URLS=1``: let the fetcher reach loopback/private addresses (tests only).
- ``CHECKER_MAX_TEXT_CHARS``: the largest text accepted for registration or scanning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from checker.config import DEFAULT_MATCH_CONFIG, MatchConfig
from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme

# 2 million characters is ~300k words, a long book; news articles are 2-20 thousand characters.
# Larger inputs are almost always a wrong file (a database dump, a binary), not an article.
DEFAULT_MAX_TEXT_CHARS = 2_000_000


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``env`` (default ``os.environ``); keyword arguments that are not None win."""
        env = os.environ if env is None else env
        data_dir = Path(overrides.pop("data_dir", None) or env.get("CHECKER_DATA_DIR") or "instance").absolute()
        database_url = overrides.pop("database_url", None) or env.get("CHECKER_DATABASE_URL") or (
            f"sqlite:///{data_dir / 'checker.db'}"
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
    def index_config(self) -> dict:
        """The passage index backend these settings select (see :func:`checker.index.open_index`)."""
        if self.index_url:
            return {"type": "redis", "url": self.index_url, "prefix": self.index_prefix}
        return {"type": "memory", "directory": self.index_dir}


def redis_only(url: str | None) -> str | None:
    """``url`` if it names a Redis server (``redis://``, ``rediss://``), else None."""
    return url if url and url.startswith(("redis://", "rediss://")) else None
