"""Schema migrations: Alembic revisions in ``checker/migrations/versions``, applied by
``checker db upgrade`` and, when :attr:`Settings.auto_migrate` is on (the default), by every process
that opens the database (``checker serve``, the workers, the CLI).

A database is at one revision, recorded in its ``alembic_version`` table. Three cases on opening:

- **up to date** (the common one): one ``SELECT`` of the version, nothing else;
- **new or behind**: the missing revisions run under a lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
  ``pg_advisory_xact_lock``) inside one transaction, so processes starting together on a new database
  migrate it once, and a failing revision leaves the database as it was (both backends have
  transactional DDL);
- **from before migrations** (tables, no ``alembic_version``): the baseline revision creates the
  missing tables and adds the columns older releases lacked, then later revisions run as usual.

A database at a revision this code does not know (made by a newer release) is refused: running old code on
a newer schema could lose data.

Adding a column: change ``checker/models.py``, then ``checker db revision -m "why"`` writes a revision
with the difference (check it), and ``tests/test_migrations.py`` fails until models and revisions agree.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from checker.errors import CheckerError

if TYPE_CHECKING:
    from alembic.config import Config

LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
# The PostgreSQL advisory lock key that serialises migrations (any constant no other code uses).
LOCK_KEY = 0x636865636B6572  # "checker"


class SchemaError(CheckerError):
    """The database's schema cannot be used by this code as it is."""


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # Alembic loads only when a migration runs (0.25 s of start-up)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def known_revisions() -> frozenset[str]:
    """The revisions this code knows, from the file names: revision ids are the names' four-digit
    prefixes and each revises the one before (tests/test_migrations.py checks this against Alembic's
    own reading of the files), so the common case needs no Alembic import."""
    return frozenset(
        m.group(1)
        for f in (MIGRATIONS / "versions").glob("*.py")
        if (m := re.fullmatch(r"(\d{4})_\w+\.py", f.name))
    )


def head() -> str:
    """The newest revision this code knows."""
    return max(known_revisions())


def current(connection: Connection) -> str | None:
    """The database's revision: None for a new database or one from before migrations."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _recorded(engine: Engine) -> str | None:
    """The revision in ``alembic_version`` by plain SQL (None: no such table or row)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def state(engine: Engine) -> str:
    """``"current"``, ``"new"`` (no tables), ``"legacy"`` (tables, no revision), ``"behind"`` or
    ``"ahead"`` (a revision this code does not know)."""
    with engine.connect() as conn:
        return state_of(conn)


def state_of(conn: Connection) -> str:
    rev = current(conn)
    if rev == head():
        return "current"
    if rev is None:
        return "legacy" if inspect(conn).get_table_names() else "new"
    return "behind" if rev in known_revisions() else "ahead"


def upgrade(engine: Engine, *, auto: bool = True) -> bool:
    """Bring the database to :func:`head`; True when a revision ran. With ``auto`` False (the
    setting ``CHECKER_AUTO_MIGRATE=0``) only a new database is set up: an older one is refused with the
    command to run, so a rollout can migrate once, on purpose, before the new code starts."""
    if _recorded(engine) == head():
        return False
    found = state(engine)
    if found == "current":
        return False
    if found == "ahead":
        raise SchemaError(_ahead_message(engine))
    if not auto and found != "new":
        raise SchemaError(
            f"the database's schema is older than this release needs ({found}); "
            "run `checker db upgrade`, then start again"
        )
    with engine.connect() as conn:
        _lock(conn)
        found = state_of(conn)  # another process may have migrated while this one waited for the lock
        if found == "current":
            conn.rollback()
            return False
        if found == "ahead":
            conn.rollback()
            raise SchemaError(_ahead_message(engine))
        LOGGER.info("migrating the database (%s) to revision %s", found, head())
        from alembic import command

        command.upgrade(config(conn), "head")
        conn.commit()
    return True


def _lock(conn: Connection) -> None:
    """Take the migration lock inside the connection's transaction (released by its commit/rollback)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _ahead_message(engine: Engine) -> str:
    with engine.connect() as conn:
        rev = current(conn)
    return (
        f"the database is at schema revision {rev}, which this release does not know (its newest is "
        f"{head()}): it was upgraded by a newer release; run that release"
    )


def new_revision(engine: Engine, message: str) -> str:
    """Write a revision with the difference between the models and a database at :func:`head`
    (for developers: ``checker db revision -m``). Returns the new file's path."""
    from alembic import command
    from alembic.script import Script

    upgrade(engine)
    with engine.connect() as conn:
        script = command.revision(
            config(conn), message=message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}"
        )
    # One revision asked for, no hook that splits or drops it (env.py has none): one script.
    assert isinstance(script, Script)
    return script.path
