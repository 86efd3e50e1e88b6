"""Database engine and sessions: one place that knows SQLite from PostgreSQL.

Also the data folder's privacy: the folder is created readable by its owner only (0700) and the SQLite
file 0600 before SQLite opens it (SQLite gives the ``-wal`` and ``-shm`` files the database file's mode).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from checker.errors import CheckerError
from checker.models import Base

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# Columns added to tables after databases were first created with them: (table, column, SQL type with a
# default for the rows already there). ``create_all`` makes missing tables whole but never alters an
# existing one; init_db adds these where they are missing. Plain SQL that SQLite and PostgreSQL share.
ADDED_COLUMNS = [
    ("users", "session_version", "INTEGER NOT NULL DEFAULT 0"),
    ("articles", "url_key", "VARCHAR(2000)"),
    ("users", "locale", "VARCHAR(10)"),
    ("users", "site_admin", "BOOLEAN NOT NULL DEFAULT FALSE"),
    ("organisations", "time_zone", "VARCHAR(64) NOT NULL DEFAULT 'UTC'"),
    ("organisations", "min_match_words", "INTEGER"),
    ("organisations", "exclude_quotes", "BOOLEAN NOT NULL DEFAULT TRUE"),
    ("organisations", "excluded_sources", "JSON"),
    ("matches", "words_matched", "INTEGER"),
    ("matches", "suspect_words", "INTEGER"),
    ("matches", "source_words", "INTEGER"),
    ("passages", "words", "INTEGER"),
    ("organisations", "alert_frequency", "VARCHAR(10) NOT NULL DEFAULT 'immediate'"),
    ("organisations", "last_digest_at", "TIMESTAMP WITH TIME ZONE"),
    ("organisations", "alert_emails", "JSON"),
    ("articles", "discovered_at", "TIMESTAMP WITH TIME ZONE"),
    ("watches", "kind", "VARCHAR(10) NOT NULL DEFAULT 'site'"),
    ("watches", "etag", "VARCHAR(500)"),
    ("watches", "last_modified", "VARCHAR(100)"),
    ("watches", "failures", "INTEGER NOT NULL DEFAULT 0"),
    ("watches", "last_error", "TEXT"),
    ("watches", "paused_reason", "TEXT"),
]
# Indexes of ADDED_COLUMNS (create_all makes them only with a new table).
ADDED_INDEXES = [("ix_articles_url_key", "articles", "url_key"),
                 ("ix_articles_discovered_at", "articles", "discovered_at")]


def private_dir(path: str | os.PathLike) -> Path:
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


def create_private_file(path: str | os.PathLike) -> bool:
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
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for bad URLs
        raise CheckerError(f"CHECKER_DATABASE_URL is not a valid database URL: {database_url!r}") from exc
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            private_dir(Path(url.database).parent)
            create_private_file(url.database)  # an empty file is an empty SQLite database
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
    """Create missing tables, then add the columns of ADDED_COLUMNS that older databases lack."""
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)


def _has_column(engine: Engine, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(engine).get_columns(table))


def _add_missing_columns(engine: Engine) -> None:
    quote = engine.dialect.identifier_preparer.quote
    added = set()
    for table, column, ddl in ADDED_COLUMNS:
        if _has_column(engine, table, column):
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column)} {ddl}"))
            added.add((table, column))
        except DBAPIError:
            if not _has_column(engine, table, column):
                raise
            # Another process starting at the same moment added it first.
    for name, table, column in ADDED_INDEXES:
        if (table, column) in added:
            with engine.begin() as conn:
                conn.execute(text(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"))
    if ("articles", "url_key") in added:
        _fill_url_keys(engine)


def _fill_url_keys(engine: Engine) -> None:
    """Give the articles registered before ``url_key`` existed theirs (once, when the column is added)."""
    from checker.validate import canonical_url

    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, url FROM articles WHERE url IS NOT NULL AND url_key IS NULL")).all()
        if rows:
            conn.execute(text("UPDATE articles SET url_key = :key WHERE id = :id"),
                         [{"id": id_, "key": canonical_url(url)} for id_, url in rows])


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
