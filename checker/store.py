"""Database engine and sessions: one place that knows SQLite from PostgreSQL.

Also the data folder's privacy: the folder is created readable by its owner only (0700) and the SQLite
file 0600 before SQLite opens it (SQLite gives the ``-wal`` and ``-shm`` files the database file's mode).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from checker.errors import CheckerError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# The schema (tables, columns, indexes) is Alembic's: checker/migrate.py and checker/migrations/.
# To add a column, change checker/models.py and write a revision (`checker db revision -m "why"`).


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a folder, created (with missing parents) readable by its owner only. A folder that
    already exists keeps its mode: whoever made it chose it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return path
    os.chmod(path, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask; make it exact
    return path


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Create ``path`` empty, readable by its owner only, unless it exists; True if this call made it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def private_umask() -> None:
    """Files and folders this process creates from now on are its owner's only (umask 077 added to the
    current one). Called by the entry points that create data (the web app, the CLI, the worker)."""
    os.umask(os.umask(0o077) | 0o077)


def make_engine(database_url: str) -> Engine:
    """Create the engine (and a SQLite file's private folder and file); SQLite gets WAL, foreign keys,
    a busy timeout."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # SQLAlchemy raises several types for bad URLs
        raise CheckerError(f"CHECKER_DATABASE_URL is not a valid database URL: {database_url!r}") from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            private_dir(Path(url.database).parent)
            create_private_file(url.database)  # an empty file is an empty SQLite database
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE run by ``Session.execute`` matched. The session returns a
    CursorResult for them, typed as the plain Result, which has no ``rowcount``."""
    return cast("CursorResult[Any]", result).rowcount
