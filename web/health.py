"""Health endpoints for load balancers and orchestrators (no login, JSON, never cached).

- ``/healthz``: the process answers (liveness). It looks at nothing else, so a database outage does
  not get every web process restarted.
- ``/readyz``: this process can do its work (readiness): the database answers ``SELECT 1``, the
  passage index answers, and the broker's Redis answers when a Redis broker is configured. 503 with
  the failing checks otherwise. Failures are named, not explained (the log has the details): the
  endpoint is public, and connection errors carry host names.
"""

from __future__ import annotations

import logging

import numpy as np
from flask import Blueprint, jsonify
from sqlalchemy import text

from web.db import get_registry

LOGGER = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz():
    return _no_store(jsonify(status="ok"))


def _check_database(registry) -> str:
    with registry.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def _check_index(registry) -> str:
    registry.refresh_index()  # a local index: reads its manifest; the Redis one: nothing to do
    registry.index.query(np.zeros(1, dtype=np.uint64))  # one lookup, on either backend
    return "ok"


def _check_broker(registry) -> str:
    url = registry.settings.redis_broker_url
    if not url:
        return "none: tasks run in this process"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


CHECKS = {"database": _check_database, "index": _check_index, "broker": _check_broker}


@bp.route("/readyz")
def readyz():
    registry = get_registry()
    checks, ready = {}, True
    for name, check in CHECKS.items():
        try:
            checks[name] = check(registry)
        except Exception:  # any failure means not ready; the log has it
            LOGGER.exception("readiness check %s failed", name)
            checks[name], ready = "failing", False
    body = jsonify(status="ready" if ready else "not ready", checks=checks)
    return _no_store(body), 200 if ready else 503
