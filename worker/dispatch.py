"""Submit work: store it first, then send its task (or run it in-process on the embedded default).

Used by the CLI, the dashboard and the API. A submission is in the database before any message is
sent, so a broker outage loses nothing: the scan stays ``queued`` and the sweeper sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from kombu.exceptions import OperationalError

from checker import scans, validate
from checker.errors import InputError
from checker.models import Crawl, Watch
from checker.registry import Registry
from celery import current_app

import worker.app  # noqa: F401 - configures the default app from the environment

LOGGER = logging.getLogger(__name__)

# Largest crawl a user may ask for (pages), and the default.
MAX_CRAWL_PAGES = 500
DEFAULT_CRAWL_PAGES = 50
MAX_BATCH_URLS = 1000


_background: ThreadPoolExecutor | None = None


def run_in_background(enabled: bool = True) -> None:
    """Embedded default only: run tasks on one background thread instead of inside the caller (the
    dashboard does this so a request returns at once and the page shows the scan's live status).
    One thread, because the in-process index is shared and written by registration."""
    global _background
    if enabled and _background is None:
        _background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checker-task")
    elif not enabled and _background is not None:
        _background.shutdown(wait=True)
        _background = None


def send(task, *args) -> None:
    """Send a task to the broker; on the embedded default run it in this process (now, or on the
    background thread)."""
    if current_app.conf.task_always_eager and _background is not None:
        _background.submit(task.apply, args)
        return
    try:
        task.delay(*args)
    except OperationalError as exc:  # broker down: the sweeper re-sends queued work later
        LOGGER.warning("could not send %s%r to the broker (%s); it stays queued", task.name, args, exc)


def submit_scan(registry: Registry, *, org_id: int | None = None, text: str | None = None, url: str | None = None,
                source: str = "text", submitted_by: int | None = None) -> int:
    """Store a scan of ``text`` (found at ``url``) or of the page at ``url``, and send it."""
    from worker.tasks import scan_task

    scan_id = scans.create_scan(registry.Session, org_id=org_id, text=text, url=url, source=source,
                                submitted_by=submitted_by, max_chars=registry.settings.max_text_chars)
    send(scan_task, scan_id)
    return scan_id


def submit_urls(registry: Registry, urls: Sequence[str], *, org_id: int | None = None,
                submitted_by: int | None = None) -> list[int]:
    """A batch of URL scans (alerts fire for their new unattributed matches): all URLs are checked
    first and stored in one transaction, then sent; one bad URL refuses the batch and stores nothing."""
    urls = [u.strip() for u in urls if u and u.strip()]
    if not urls:
        raise InputError("no URLs given")
    if len(urls) > MAX_BATCH_URLS:
        raise InputError(f"at most {MAX_BATCH_URLS} URLs per batch (got {len(urls)})")
    ids = scans.create_scans(registry.Session, [(None, u) for u in urls], org_id=org_id, source="batch",
                             submitted_by=submitted_by, label="URL")
    from worker.tasks import scan_task

    for scan_id in ids:
        send(scan_task, scan_id)
    return ids


def _check_site(url: str, max_pages: int) -> str:
    url = validate.http_url(url or "", "site URL")
    if not 1 <= max_pages <= MAX_CRAWL_PAGES:
        raise InputError(f"max pages must be between 1 and {MAX_CRAWL_PAGES}")
    return url


def submit_crawl(registry: Registry, url: str, *, org_id: int | None = None,
                 max_pages: int = DEFAULT_CRAWL_PAGES, max_depth: int = 2) -> int:
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


def add_watch(registry: Registry, url: str, *, org_id: int | None = None, interval_minutes: int = 24 * 60,
              max_pages: int = DEFAULT_CRAWL_PAGES) -> int:
    """Watch a site: beat re-crawls it every ``interval_minutes`` (the first crawl at the next tick)."""
    url = _check_site(url, max_pages)
    if not 5 <= interval_minutes <= 60 * 24 * 90:
        raise InputError("the interval must be between 5 minutes and 90 days")
    with registry.Session.begin() as session:
        watch = Watch(org_id=org_id, url=url, interval_minutes=interval_minutes, max_pages=max_pages)
        session.add(watch)
        session.flush()
        return watch.id
