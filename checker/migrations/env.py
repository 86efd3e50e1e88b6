"""Alembic's entry point for the checker's schema (see checker/migrate.py, which runs it).

It only runs "online", on the connection checker.migrate passes in ``config.attributes``: that
connection already holds the migration lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock),
so two processes starting on a new database never migrate it twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from alembic import context

from checker.models import Base

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the models' UTCDateTime as the plain column type it stores, so that revisions do not
    import application code that may change after them."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `checker db upgrade` (checker.migrate), which passes a connection"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
