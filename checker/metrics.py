"""Prometheus metrics recorded where scans run (worker tasks, the embedded default, the CLI), and the
registries that expose them (the web app's ``/metrics``, the worker's own port). No Flask or Celery.

Recorded per process: ``checker_scans_total`` (finished scans by status, verdict and source) and
``checker_scan_duration_seconds`` (engine time: matching only, not fetching a page or storing the
result, so it measures the index and the matcher rather than other sites).

Several processes: a Prometheus client keeps its numbers in the memory of the process that recorded
them, so a gunicorn with several workers, or a Celery worker whose scans run in forked pool processes,
would each show only its own share. Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder, writable by
the service, in the environment of the process *before it starts* (the client chooses its storage
when it is first imported): every process then writes its numbers to files there and a scrape adds
them up (``prometheus_client.multiprocess``). Empty the folder when the service (re)starts, give each
service (web, worker) a folder of its own so that no scrape counts another's scans, and keep it on
local disk (tmpfs is best). The gauges read at scrape time (queue depth, index size: web.metrics) are
not stored there, so no ``mark_process_dead`` is needed when a gunicorn worker exits.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, Metric, start_http_server
from prometheus_client.registry import Collector

LOGGER = logging.getLogger(__name__)

# Engine time of one scan: milliseconds for news articles on a local index, seconds for books or a
# busy shared index; the scan time limit (300 s) is the end of the scale.
SCAN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# Labels are given on every use (none created up front), so each value is made in the process that
# records it: in multiprocess mode a forked pool process writes its own file.
SCANS = Counter(
    "checker_scans",
    "Scans finished, by status (done, failed), verdict (none when failed) and "
    "source (text, url, batch, crawl, watch, discovery, cli)",
    ["status", "verdict", "source"],
)
SCAN_SECONDS = Histogram(
    "checker_scan_duration_seconds",
    "Engine time of a scan (matching against the index, without fetching or storing), by source",
    ["source"],
    buckets=SCAN_BUCKETS,
)


def record_scan(status: str, verdict: str | None, source: str | None, seconds: float | None = None) -> None:
    """Count a finished scan; ``seconds`` is its engine time (None when it failed before matching).
    Never raises: a scan's result matters more than its metric."""
    try:
        SCANS.labels(status, verdict or "none", source or "unknown").inc()
        if seconds is not None:
            SCAN_SECONDS.labels(source or "unknown").observe(seconds)
    except Exception:  # e.g. an unwritable multiprocess folder
        LOGGER.warning("could not record a scan's metrics", exc_info=True)


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when set: the processes' numbers are added up from files there."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ThisProcess(Collector):
    """What the default registry holds (our scan metrics, the process's CPU, memory and GC)."""

    def describe(self) -> list[Metric]:
        return []  # not checked against other collectors' names, and nothing collected to register

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry for one scrape: the scan metrics (of every process in multiprocess mode, else this
    one's), plus ``collectors`` (gauges read at scrape time)."""
    registry = CollectorRegistry(auto_describe=True)
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in the client
    else:
        registry.register(_ThisProcess())
    for collector in collectors:
        registry.register(collector)
    return registry


def start_server(port: int, addr: str = "127.0.0.1") -> tuple[WSGIServer, threading.Thread]:
    """Serve the scan metrics on ``addr:port`` from a daemon thread (a worker's ``/metrics``); returns
    ``(server, thread)``: ``server.shutdown()`` stops it."""
    server, thread = start_http_server(port, addr=addr, registry=scrape_registry())
    LOGGER.info("metrics on http://%s:%d/metrics", addr if ":" not in addr else f"[{addr}]", port)
    return server, thread
