"""Submit work: store it first, then send its task (or run it in-process on the embedded default).

Used by the CLI, the dashboard and the API. A submission is in the database before any message is
sent, so a broker outage loses nothing: the scan stays ``queued`` and the sweeper sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache, partial

from celery import current_app
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

import worker.app  # noqa: F401 - configures the default app from the environment
from checker import scans, validate
from checker.errors import InputError
from checker.models import Crawl, Watch
from checker.registry import Registry
from worker import context, fairness

LOGGER = logging.getLogger(__name__)

# Largest crawl a user may ask for (pages), and the default.
MAX_CRAWL_PAGES = 500
DEFAULT_CRAWL_PAGES = 50
MAX_BATCH_URLS = 1000


SCAN_TASK, CRAWL_TASK = "worker.tasks.scan", "worker.tasks.crawl"
DISCOVERY_TASKS = "worker.discovery_tasks."

# Embedded default with background tasks: scans (and other tasks) on one thread, fairly between
# organisations; crawls on a thread of their own.
_background: fairness.FairRunner | None = None
_crawls: fairness.FairRunner | None = None


def run_in_background(enabled: bool = True) -> None:
    """Embedded default only: run tasks on background threads instead of inside the caller (the
    dashboard does this so a request returns at once and the page shows the scan's live status).

    Scans and other tasks run on one thread, because the in-process index is shared and written by
    registration; it takes them one organisation at a time, the least recently served first
    (:class:`worker.fairness.FairRunner`), so one organisation's batch delays another's scan by at
    most the task running now. Crawls (fetching and storing pages, no index) run on a second thread,
    so a long crawl holds up no scan; the scans a crawl queues go through the fair thread."""
    global _background, _crawls
    if enabled and _background is None:
        _background = fairness.FairRunner("checker-task")
        _crawls = fairness.FairRunner("checker-crawl")
    elif not enabled and _background is not None:
        from worker import scheduler

        scheduler.stop_embedded()  # first: it sends tasks to these threads
        assert _crawls is not None  # started and stopped with _background
        _crawls.shutdown(wait=True)  # first: a crawl still running queues scans on the other thread
        _background.shutdown(wait=True)
        _background = _crawls = None


def pending() -> dict[str, int]:
    """Embedded default: tasks waiting on the background threads, by the Celery queue they would be on
    with a broker (scans and short tasks: ``checker``; crawls and discovery: ``checker-crawl``), the
    one running not counted; 0 when tasks run inside the caller."""
    from worker.celery_app import CRAWL_QUEUE, QUEUE

    runners = ((QUEUE, _background), (CRAWL_QUEUE, _crawls))
    return {queue: sum(runner.pending().values()) if runner is not None else 0 for queue, runner in runners}


def send(task, *args) -> None:
    """Send a task to the broker (scans fairly: :func:`send_scans`); on the embedded default run it
    in this process (now, or on a background thread)."""
    if current_app.conf.task_always_eager and _background is not None:
        assert _crawls is not None  # started and stopped with _background
        if task.name == SCAN_TASK:
            send_scans(args[:1])
        elif task.name == CRAWL_TASK:
            _crawls.submit(("crawl", _crawl_org(args[0])), partial(task.apply, args))
        elif task.name.startswith(DISCOVERY_TASKS):  # slow searches that only queue scans: no index
            _crawls.submit(("task", task.name), partial(task.apply, args))
        else:
            _background.submit(("task", task.name), partial(task.apply, args))
        return
    if task.name == SCAN_TASK and not current_app.conf.task_always_eager:
        send_scans(args[:1])
        return
    _deliver(task, *args)


def send_scans(scan_ids: Sequence[int]) -> None:
    """Send stored ``queued`` scans, fairly between organisations (docs/fairness.md).

    With a Redis broker an organisation has at most ``CHECKER_PER_ORG_INFLIGHT`` scans in flight: the
    ones that get a slot are sent now, the rest stay queued and are sent as its scans finish. On the
    embedded default with background tasks each scan joins its organisation's lane of the background
    thread; without them (the CLI, tests) each runs now, in order. A batch should come here in one
    call: its scans are grouped by organisation in one query."""
    from worker.tasks import scan_task

    scan_ids = list(scan_ids)
    if not scan_ids:
        return
    if current_app.conf.task_always_eager:
        if _background is None:
            for scan_id in scan_ids:
                _deliver(scan_task, scan_id)
            return
        for org_id, ids in fairness.orgs_of(_sessions(), scan_ids).items():
            for scan_id in ids:
                _background.submit(("org", org_id), partial(scan_task.apply, (scan_id,)))
        return
    slots = fairness.slots_for(_settings())
    if slots is None:  # no Redis broker: no slots to count with; everything goes at once
        for scan_id in scan_ids:
            _deliver(scan_task, scan_id)
        return
    try:
        fairness.dispatch(_sessions(), slots, scan_ids, scan_task.delay)
    except RedisError as exc:  # the broker's Redis is down: the scans stay queued, the sweeper sends them
        LOGGER.warning("could not send scans %s fairly (%s); they stay queued", scan_ids[:10], exc)


def _deliver(task, *args) -> None:
    try:
        task.delay(*args)
    except OperationalError as exc:  # broker down: the sweeper re-sends queued work later
        LOGGER.warning("could not send %s%r to the broker (%s); it stays queued", task.name, args, exc)


def _settings():
    """The settings of the current Celery app (worker.celery_app stores them in its conf)."""
    return current_app.conf.get("checker_settings") or context.registry().settings


def _sessions():
    """Database sessions for the fair dispatch: the installed registry's (web app, CLI, worker), else
    the current app's database."""
    registry = context.installed()
    if registry is not None:
        return registry.Session
    return _sessions_for(_settings().database_url)


@lru_cache(maxsize=4)
def _sessions_for(database_url: str):
    from sqlalchemy.orm import sessionmaker

    from checker.store import make_engine

    return sessionmaker(make_engine(database_url), expire_on_commit=False)


def _crawl_org(crawl_id: int) -> int | None:
    with _sessions()() as session:
        crawl = session.get(Crawl, crawl_id)
        return crawl.org_id if crawl is not None else None


def submit_scan(
    registry: Registry,
    *,
    org_id: int | None = None,
    text: str | None = None,
    url: str | None = None,
    source: str = "text",
    submitted_by: int | None = None,
) -> int:
    """Store a scan of ``text`` (found at ``url``) or of the page at ``url``, and send it."""
    from worker.tasks import scan_task

    scan_id = scans.create_scan(
        registry.Session,
        org_id=org_id,
        text=text,
        url=url,
        source=source,
        submitted_by=submitted_by,
        max_chars=registry.settings.max_text_chars,
    )
    send(scan_task, scan_id)
    return scan_id


def submit_urls(
    registry: Registry, urls: Sequence[str], *, org_id: int | None = None, submitted_by: int | None = None
) -> list[int]:
    """A batch of URL scans (alerts fire for their new unattributed matches): all URLs are checked
    first and stored in one transaction, then sent; one bad URL refuses the batch and stores nothing."""
    urls = [u.strip() for u in urls if u and u.strip()]
    if not urls:
        raise InputError("no URLs given")
    if len(urls) > MAX_BATCH_URLS:
        raise InputError(f"at most {MAX_BATCH_URLS} URLs per batch (got {len(urls)})")
    ids = scans.create_scans(
        registry.Session,
        [(None, u) for u in urls],
        org_id=org_id,
        source="batch",
        submitted_by=submitted_by,
        label="URL",
    )
    from worker.tasks import scan_task

    for scan_id in ids:
        send(scan_task, scan_id)
    return ids


def _check_site(url: str, max_pages: int) -> str:
    url = validate.http_url(url or "", "site URL")
    if not 1 <= max_pages <= MAX_CRAWL_PAGES:
        raise InputError(f"max pages must be between 1 and {MAX_CRAWL_PAGES}")
    return url


def submit_crawl(
    registry: Registry,
    url: str,
    *,
    org_id: int | None = None,
    max_pages: int = DEFAULT_CRAWL_PAGES,
    max_depth: int = 2,
) -> int:
    """Crawl a site once and scan every page found."""
    from worker.tasks import crawl_task

    url = _check_site(url, max_pages)
    with registry.Session.begin() as session:
        crawl = Crawl(org_id=org_id, url=url, max_pages=max_pages, max_depth=max_depth)
        session.add(crawl)
        session.flush()
        crawl_id = crawl.id
    send(crawl_task, crawl_id)
    return crawl_id


def add_watch(
    registry: Registry,
    url: str,
    *,
    org_id: int | None = None,
    interval_minutes: int = 24 * 60,
    max_pages: int = DEFAULT_CRAWL_PAGES,
    kind: str = "site",
) -> int:
    """Watch a site (``kind="site"``: crawl it) or one feed or sitemap (``kind="feed"``: scan its new
    items) every ``interval_minutes``; the first run at the scheduler's next tick."""
    from checker import monitoring

    url = _check_site(url, max_pages)
    monitoring.check_interval(interval_minutes)
    monitoring.check_kind(kind)
    with registry.Session.begin() as session:
        watch = Watch(
            org_id=org_id, url=url, interval_minutes=interval_minutes, max_pages=max_pages, kind=kind
        )
        session.add(watch)
        session.flush()
        return watch.id
