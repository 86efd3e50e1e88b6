"""``/metrics``: Prometheus metrics of this install, unauthenticated like ``/healthz`` (scrapers do
not log in; the numbers are counts, no content, no names). ``CHECKER_METRICS=0`` turns it off (404):
then the blueprint is not registered at all.

Exposed: the scan counter and engine-time histogram (checker.metrics: recorded where scans run; with
a broker they run in the workers, which serve their own with ``CHECKER_WORKER_METRICS_PORT``), and
gauges read when scraped by :class:`StateCollector`.
"""

from __future__ import annotations

import logging
import os

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from checker.metrics import scrape_registry
from checker.models import Article, ImportJobRow, Scan
from web.db import get_registry

LOGGER = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

# Celery's Redis transport puts a message of priority p > 0 in the list "<queue>\x06\x16<p>" (kombu's
# default priority steps 0, 3, 6, 9); priority 0, our only one today, in "<queue>".
PRIORITY_SEPARATOR, PRIORITY_STEPS = "\x06\x16", (0, 3, 6, 9)


@bp.route("/metrics")
def metrics():
    body = generate_latest(scrape_registry(StateCollector(get_registry())))
    response = Response(body, mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


class StateCollector(Collector):
    """Gauges of the install's state, read at each scrape (every 15-60 s), each with a bounded cost:

    - ``checker_queue_depth{queue}``: Celery messages waiting, ``LLEN`` of each queue's lists on the
      Redis broker (one pipelined round trip); on the embedded default, the tasks waiting on this
      process's background threads.
    - ``checker_scans_waiting{status}``: scans ``queued`` (in the database; with fair dispatch most wait
      there, not in the broker) and ``running``: an indexed ``GROUP BY`` over those two statuses only.
    - ``checker_articles_registered``: ``count(*)`` of the articles table. The one read that grows with
      the install (PostgreSQL counts rows by scanning; SQLite walks the smallest index), accepted at
      scrape intervals rather than a counter kept by every writer, which would drift when rows are
      deleted by SQL.
    - ``checker_index_articles``: articles in the passage index: ``SCARD`` on Redis; on the local index
      the distinct ids of its segments (as other processes saved them: one ``stat`` when nothing
      changed), computed again only when the segments changed.
    - ``checker_index_bytes``: the local index's files on disk (one directory listing); not for Redis,
      whose memory its own exporter reports.
    - ``checker_import_jobs{state}``: bulk import jobs by state (a small table).

    A read that fails (database or broker down) leaves its gauge out of this scrape and is logged;
    ``/readyz`` is where an outage shows.
    """

    def __init__(self, registry) -> None:
        self.registry = registry

    def describe(self):
        return []  # nothing read at registration

    def collect(self):
        for read in (self._queues, self._scans, self._articles, self._index, self._imports):
            try:
                yield from read()
            except Exception:  # one failing source must not fail the scrape
                LOGGER.warning("metrics: %s failed", read.__name__.lstrip("_"), exc_info=True)

    def _queues(self):
        gauge = GaugeMetricFamily(
            "checker_queue_depth", "Tasks waiting for a worker, by Celery queue", labels=["queue"]
        )
        for queue, depth in queue_depths(self.registry.settings).items():
            gauge.add_metric([queue], depth)
        yield gauge

    def _scans(self):
        with self.registry.Session() as session:
            counts = dict(
                session.execute(
                    select(Scan.status, func.count())
                    .where(Scan.status.in_(("queued", "running")))
                    .group_by(Scan.status)
                ).all()
            )
        gauge = GaugeMetricFamily(
            "checker_scans_waiting", "Scans not finished, by status (queued, running)", labels=["status"]
        )
        for status in ("queued", "running"):
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge

    def _articles(self):
        with self.registry.Session() as session:
            count = session.scalar(select(func.count()).select_from(Article)) or 0
        yield GaugeMetricFamily(
            "checker_articles_registered", "Articles registered (all organisations)", value=count
        )

    def _index(self):
        self.registry.refresh_index()  # what other processes saved (one stat when nothing changed)
        index = self.registry.index
        yield GaugeMetricFamily(
            "checker_index_articles", "Articles in the passage index", value=indexed_articles(index)
        )
        if getattr(index, "directory", None) is not None:
            yield GaugeMetricFamily(
                "checker_index_bytes",
                "Bytes of the local passage index's files on disk",
                value=directory_bytes(index.directory),
            )

    def _imports(self):
        with self.registry.Session() as session:
            counts = dict(
                session.execute(select(ImportJobRow.status, func.count()).group_by(ImportJobRow.status)).all()
            )
        gauge = GaugeMetricFamily("checker_import_jobs", "Bulk import jobs, by state", labels=["state"])
        for state in sorted(set(counts) | {"running", "done", "failed"}):
            gauge.add_metric([state], counts.get(state, 0))
        yield gauge


def queue_depths(settings) -> dict[str, int]:
    """Messages waiting per Celery queue: on the Redis broker, or this process's background threads."""
    from worker import dispatch
    from worker.celery_app import CRAWL_QUEUE, QUEUE

    url = settings.redis_broker_url
    if not settings.broker_url:
        return dispatch.pending()
    if not url:
        return {}  # another broker (e.g. AMQP): its own exporter knows its queues
    client = _broker_client(url)
    pipe = client.pipeline(transaction=False)
    queues = (QUEUE, CRAWL_QUEUE)
    for queue in queues:
        for step in PRIORITY_STEPS:
            pipe.llen(f"{queue}{PRIORITY_SEPARATOR}{step}" if step else queue)
    lengths = pipe.execute()
    n = len(PRIORITY_STEPS)
    return {queue: sum(lengths[i * n : (i + 1) * n]) for i, queue in enumerate(queues)}


_clients: dict[str, object] = {}


def _broker_client(url: str):
    """One client (one connection pool) per broker URL and process, reused by every scrape."""
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return client


def indexed_articles(index) -> int:
    """Articles in ``index``: its own count (Redis: one ``SCARD``; local index: cached while its segments
    and deletions are the same, so a scrape between two saves costs nothing)."""
    return int(index.article_count())


def directory_bytes(path) -> int:
    """Bytes of the regular files directly in ``path`` (0 before the index was first saved)."""
    total = 0
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
    except FileNotFoundError:
        return 0
    return total
