"""The registry and database sessions of the app: one registry per app, one session per request."""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from checker.registry import Registry
from checker.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Open the registry, share it with in-process tasks, close sessions on teardown."""
    from worker import context, dispatch

    registry = Registry(settings)
    app.extensions["checker.registry"] = registry
    # Registration writes the in-process index; one writer at a time across request threads and tasks.
    app.extensions["checker.write_lock"] = context.write_lock(registry)  # shared with in-process imports
    context.use(registry)
    dispatch.run_in_background(bool(app.config["BACKGROUND_TASKS"]))
    if app.config["BACKGROUND_TASKS"] and app.config["SCHEDULER"] and not settings.broker_url:
        # No broker, so no Celery beat: this process runs the periodic tasks (watches, discovery, digests).
        from worker import scheduler

        scheduler.start_embedded(settings.scheduler_tick_s)
    app.teardown_appcontext(close_session)


def get_registry() -> Registry:
    return current_app.extensions["checker.registry"]


def write_lock() -> threading.Lock:
    return current_app.extensions["checker.write_lock"]


def get_session() -> Session:
    """This request's database session (opened on first use, closed on teardown)."""
    if "db" not in g:
        g.db = get_registry().Session()
    return g.db


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
