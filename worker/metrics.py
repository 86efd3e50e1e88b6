"""A Celery worker's own ``/metrics`` (its scans: checker.metrics), for Prometheus to scrape.

``CHECKER_WORKER_METRICS_PORT`` turns it on: an HTTP server on a daemon thread of the worker's main
process, started once when the worker is ready (worker.celery_app), on ``CHECKER_WORKER_METRICS_ADDR``
(default ``127.0.0.1``: only this machine; ``0.0.0.0`` in a container that Prometheus reaches).

Scans run in the pool's processes, not in the main one (Celery's default pool forks them), so with
that pool the worker must be started with ``PROMETHEUS_MULTIPROC_DIR`` set: each pool process then
writes its numbers to files there and the main process adds them up when scraped. Without it the
port shows only the main process's (no scans), and the worker says so in its log at start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from checker.metrics import multiprocess_dir, start_server
from checker.settings import SettingsError, WorkerSettings

LOGGER = logging.getLogger(__name__)

_server = None  # the running server of this process, if any


def serve_from_env(env: Mapping[str, str] | None = None, *, forks: bool = False):
    """Start the metrics server as the environment asks, once per process; returns the server (None
    when off or refused: a bad port or address is logged in words, the worker runs on without it).
    ``forks``: the worker's scans run in forked processes (the prefork pool)."""
    global _server
    if _server is not None:
        return _server
    try:
        settings = WorkerSettings.from_env(env)
    except SettingsError as exc:
        LOGGER.error("%s: no metrics served", exc)
        return None
    port, addr = settings.metrics_port, settings.metrics_addr
    if port is None:
        return None
    if forks and not multiprocess_dir():
        LOGGER.warning(
            "metrics: scans run in forked pool processes but PROMETHEUS_MULTIPROC_DIR is not set, "
            "so port %d shows none of them; set it to an empty folder (or use --pool=solo/threads)",
            port,
        )
    try:
        _server, _thread = start_server(port, addr)
    except OSError as exc:
        LOGGER.error("metrics: cannot listen on %s port %d (%s): no metrics served", addr, port, exc)
        return None
    return _server


def stop() -> None:
    """Stop the server (tests; a worker's server ends with its process)."""
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None
