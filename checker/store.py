"""Database engine and sessions: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from checker.errors import CheckerError
from checker.models import Base


def make_engine(database_url: str) -> Engine:
    """Create the engine (and a SQLite file's folder); SQLite gets WAL, foreign keys, a busy timeout."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for bad URLs
        raise CheckerError(f"CHECKER_DATABASE_URL is not a valid database URL: {database_url!r}") from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Create missing tables."""
    Base.metadata.create_all(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
