"""Celery tasks: thin wrappers that load state by id and call ``checker``.

Every task is idempotent (see :mod:`checker.scans`): running one twice, as at-least-once delivery
allows, leaves the same rows as running it once.

A scan that outlives its time limits ends ``failed`` saying so, and is not retried: the soft limit
stops it inside the task, the hard limit kills its process and the worker's parent records it
(:meth:`ScanTask.on_failure`). A scan that never finishes for any other reason (its worker dies each
time) is given up after MAX_SCAN_ATTEMPTS starts. Every finished scan frees its organisation's slot
and sends that organisation's next queued scan (docs/fairness.md).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from celery import Task, current_app, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from sqlalchemy import select, update

from checker import logcontext, metrics, monitoring, scans
from checker.errors import CheckerError
from checker.models import AlertEvent, Crawl, MatchRow, Organisation, Scan, Watch, same_org
from checker.records import ScanResult
from checker.settings import AlertSettings, WorkerSettings
from worker import context, dispatch, fairness
from worker.alerts import AlertDeliveryError, post_webhook, send_digest
from worker.celery_app import CRAWL_SOFT_LIMIT_S
from worker.extract import extract_fetched
from worker.fetch import CRAWL_TYPES, HostRateLimiter, RobotsCache, TransientFetchError, fetch
from worker.pages import fetch_options, load_suspect, suspect_text

LOGGER = logging.getLogger(__name__)

# Retries of transient fetch errors (timeouts, 5xx, 429): 30 s, 60 s, 120 s, 240 s, 480 s.
MAX_FETCH_RETRIES = 5
RETRY_BASE_S = 30
# A scan running (or queued) longer than this is re-sent by the sweeper.
STUCK_AFTER = timedelta(minutes=30)
# A scan started this many times is given up: every start but the fetch retries was lost (its
# worker died, or was killed at the hard time limit without the parent recording it).
MAX_SCAN_ATTEMPTS = MAX_FETCH_RETRIES + 3
# Polite crawling: at least this long between two requests to one host.
CRAWL_HOST_INTERVAL_S = 1.0
# Sources whose new unattributed matches raise alerts (a single text scan is watched on screen).
ALERTING_SOURCES = ("watch", "crawl", "batch", "discovery")


def _backoff(retries: int) -> int:
    return min(RETRY_BASE_S * 2**retries, 600)


def too_slow(seconds: int | None, hard: bool = False) -> str:
    """The error of a scan stopped by a time limit."""
    how = " (stopped by the hard time limit)" if hard else ""
    return f"took longer than {seconds} s{how}; the page is too large or too slow to check"


class ScanTask(Task):
    """scan_task's class: records scans stopped by a time limit outside the task's own code."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Celery calls this in the worker's parent process when the hard time limit killed the task
        (and in the task's process when a soft limit struck outside the scan itself, e.g. while it
        sent alerts). The scan, if still unfinished, ends failed, and its organisation moves on."""
        if not args or not isinstance(exc, (SoftTimeLimitExceeded, TimeLimitExceeded)):
            return
        soft, hard = WorkerSettings.from_env().scan_time_limits
        is_hard = isinstance(exc, TimeLimitExceeded)
        reason = too_slow(hard if is_hard else soft, hard=is_hard)
        try:
            with logcontext.bound(scan_id=args[0], task_id=task_id):
                _stopped(self, args[0], reason)
        except Exception:  # the sweeper and MAX_SCAN_ATTEMPTS still end it
            LOGGER.exception("could not record that scan %s was stopped", args[0])


def _stopped(task: Task, scan_id: int, reason: str) -> None:
    """Fail an unfinished scan and send its organisation's next one, on connections of its own: in the
    worker's parent process nothing may be shared with the children it forks."""
    from sqlalchemy.orm import sessionmaker

    from checker.store import make_engine

    settings = task.app.conf.get("checker_settings") or context.registry().settings
    engine = make_engine(settings.database_url)
    slots = None
    try:
        Session = sessionmaker(engine, expire_on_commit=False)
        org_id, source = _fail_unfinished(Session, scan_id, reason)
        if source is not None:  # this ended it: the scan's task cannot count it any more
            metrics.record_scan("failed", None, source)
            LOGGER.info("scan %s failed: %s", scan_id, reason)
        slots = fairness.slots_for(settings, fresh=True)
        if slots is not None:
            slots.release(org_id, scan_id)
            fairness.dispatch_org(Session, slots, org_id, lambda s: task.apply_async((s,)))
    finally:
        engine.dispose()
        if slots is not None:
            slots.client.close()


def _fail_unfinished(Session, scan_id: int, reason: str) -> tuple[int | None, str | None]:
    """Mark a queued or running scan failed (a finished one keeps its result): its organisation, and
    its source when this failed it (None when it had finished)."""
    with Session.begin() as session:
        row = session.execute(select(Scan.org_id, Scan.source).where(Scan.id == scan_id)).one_or_none()
        org_id, source = row if row is not None else (None, None)
        failed = session.execute(
            update(Scan)
            .where(Scan.id == scan_id, Scan.status.in_(("queued", "running")))
            .values(status="failed", error=scans.readable_error(reason), finished_at=scans.now())
        ).rowcount
        return org_id, source if failed else None


def _slots(registry) -> fairness.Slots | None:
    """The fair-dispatch slots, with a Redis broker; None on the embedded default (its background
    thread is fair by itself) and with other brokers."""
    if current_app.conf.task_always_eager:
        return None
    return fairness.slots_for(registry.settings)


def _send_one(scan_id: int) -> None:
    scan_task.delay(scan_id)


def _next_of_org(registry, org_id: int | None, scan_id: int) -> None:
    """``scan_id`` is finished: free its slot and send its organisation's next queued scans."""
    slots = _slots(registry)
    if slots is None:
        return
    try:
        slots.release(org_id, scan_id)
        fairness.dispatch_org(registry.Session, slots, org_id, _send_one)
    except Exception:  # Redis down: the slot expires, the sweeper sends the rest
        LOGGER.warning("could not send the next scans of organisation %s", org_id, exc_info=True)


def _hold_slot(registry, org_id: int | None, scan_id: int, seconds: int) -> None:
    slots = _slots(registry)
    if slots is not None:
        try:
            slots.hold(org_id, scan_id, seconds)
        except Exception:  # fairness is best effort when Redis is away
            LOGGER.warning("could not hold a slot for scan %s", scan_id, exc_info=True)


@shared_task(bind=True, base=ScanTask, name="worker.tasks.scan", max_retries=MAX_FETCH_RETRIES)
def scan_task(self, scan_id: int) -> str:
    """Run one scan: fetch and extract its URL if it has no text yet, scan, store the result; then
    send the organisation's next queued scan. Every log line meanwhile names the scan and the task
    (and its organisation once known): checker.logcontext."""
    with logcontext.bound(scan_id=scan_id, task_id=self.request.id):
        return _scan(self, scan_id)


def _scan(task, scan_id: int) -> str:
    registry = context.registry()
    claimed = scans.claim(registry.Session, scan_id)
    if claimed is None:  # finished already (a duplicate delivery) or deleted
        if _slots(registry) is not None:
            with registry.Session() as session:
                org_id = session.scalar(select(Scan.org_id).where(Scan.id == scan_id))
            _next_of_org(registry, org_id, scan_id)
        return "skipped"
    logcontext.bind(org_id=claimed.org_id)  # undone with the scan's fields when scan_task returns
    soft, hard = WorkerSettings.from_env().scan_time_limits
    _hold_slot(registry, claimed.org_id, scan_id, hard + fairness.RUN_SLOT_MARGIN_S)
    match_ids: list[int]
    if claimed.attempts > MAX_SCAN_ATTEMPTS:
        scans.fail(
            registry.Session,
            scan_id,
            f"gave up after {claimed.attempts - 1} attempts: the scan never "
            f"finished (its worker stopped, or it ran past the {hard} s time limit)",
        )
        metrics.record_scan("failed", None, claimed.source)
        outcome, match_ids = "failed", []
    else:
        outcome, match_ids = _run_scan(task, registry, claimed, soft)
    _next_of_org(registry, claimed.org_id, scan_id)
    if match_ids and claimed.source in ALERTING_SOURCES:
        _raise_alerts(registry, claimed.org_id, match_ids)
    return outcome


def _run_scan(task, registry, claimed: scans.Claimed, soft: int | None) -> tuple[str, list[int]]:
    """The scan itself: ``(outcome, new match ids)``. A transient fetch error schedules a retry (the
    scan keeps its slot until then); every other way out finishes the scan, and is counted with its
    engine time (checker.metrics)."""
    scan_id = claimed.id
    engine_s = None

    def failed(error: str) -> tuple[str, list[int]]:
        scans.fail(registry.Session, scan_id, error)
        metrics.record_scan("failed", None, claimed.source, engine_s)
        LOGGER.info("scan %s failed: %s", scan_id, error)
        return "failed", []

    try:
        evidence, text = None, claimed.text
        links, published_at = claimed.links, claimed.published_at
        if text is None:
            assert claimed.url is not None  # a scan is stored with a text or a URL (scans.create_scans)
            page = load_suspect(claimed.url, registry.settings)
            text, evidence = page.text, page.evidence
            links, published_at = evidence.links, evidence.published_at
        suspect_url = (evidence.final_url if evidence else None) or claimed.url
        started = time.perf_counter()
        result = registry.scan(
            text, suspect_url, published_at=published_at, links=links, org_id=claimed.org_id
        )
        engine_s = time.perf_counter() - started
        if claimed.source in ("watch", "discovery"):
            result = _only_new(registry, claimed, result, suspect_url)
        match_ids = scans.complete(
            registry.Session, scan_id, result, text=text if claimed.text is None else None, evidence=evidence
        )
    except SoftTimeLimitExceeded:  # not retried: the same page would take as long again
        return failed(too_slow(soft))
    except TransientFetchError as exc:
        if task.request.retries < MAX_FETCH_RETRIES:
            countdown = _backoff(task.request.retries)
            scans.requeue(registry.Session, scan_id, f"retrying: {exc}")
            _hold_slot(registry, claimed.org_id, scan_id, countdown + fairness.SEND_SLOT_S)
            raise task.retry(exc=exc, countdown=countdown) from None
        return failed(f"gave up after {MAX_FETCH_RETRIES} retries: {exc}")
    except CheckerError as exc:  # UrlRefused, FetchError and the rest: a reason for the user
        return failed(str(exc))
    except Exception as exc:  # record it for the user; the log has the traceback
        LOGGER.exception("scan %s failed", scan_id)
        return failed(f"internal error: {type(exc).__name__}: {exc}")
    metrics.record_scan("done", result.verdict, claimed.source, engine_s)
    LOGGER.info(
        "scan %s done: %s, %d matches, %.1f ms engine time",
        scan_id,
        result.verdict,
        len(result.matches),
        engine_s * 1000,
    )
    return "done", match_ids


def _only_new(registry, claimed: scans.Claimed, result: ScanResult, suspect_url: str | None) -> ScanResult:
    """Monitoring records only matches not seen before (same article, same page) in this organisation."""
    with registry.Session() as session:
        seen = set(
            session.scalars(
                select(MatchRow.article_id)
                .join(Scan, MatchRow.scan_id == Scan.id)
                .where(
                    MatchRow.suspect_url == suspect_url,
                    same_org(Scan.org_id, claimed.org_id),
                    Scan.id != claimed.id,
                )
            )
        )
    fresh = tuple(m for m in result.matches if m.article.id not in seen)
    return replace(result, matches=fresh) if len(fresh) != len(result.matches) else result


def _raise_alerts(registry, org_id: int | None, match_ids: list[int]) -> None:
    """Store an alert event per new unattributed match and send them (once per match and page)."""
    if not match_ids:
        return
    event_ids = []
    with registry.Session.begin() as session:
        for match in session.scalars(select(MatchRow).where(MatchRow.id.in_(match_ids))):
            if match.verdict != "unattributed_reuse":
                continue
            key = f"{match.article_id}:{match.suspect_url or f'scan-{match.scan_id}'}"
            exists = session.scalar(
                select(AlertEvent.id).where(AlertEvent.dedupe_key == key, same_org(AlertEvent.org_id, org_id))
            )
            if exists:
                continue
            article = match.article
            event = AlertEvent(
                org_id=org_id,
                dedupe_key=key,
                kind="new_unattributed_reuse",
                payload={
                    "event": "new_unattributed_reuse",
                    "match_id": match.id,
                    "scan_id": match.scan_id,
                    "suspect_url": match.suspect_url,
                    "kind": match.kind,
                    "score": match.score,
                    "suspect_coverage": match.suspect_coverage,
                    "source_coverage": match.source_coverage,
                    "article": {
                        "id": match.article_id,
                        "title": article.title if article else None,
                        "url": article.url if article else None,
                    },
                    "dashboard_path": f"/matches/{match.id}",
                },
            )
            session.add(event)
            session.flush()
            event_ids.append(event.id)
    if event_ids and not _daily(registry, org_id):
        deliver_alerts.delay(event_ids)


def _daily(registry, org_id: int | None) -> bool:
    """Whether the organisation takes its alerts in a daily digest (send_digests sends them)."""
    if org_id is None:
        return False
    with registry.Session() as session:
        return (
            session.scalar(select(Organisation.alert_frequency).where(Organisation.id == org_id)) == "daily"
        )


def _org_alert_settings(registry, settings: AlertSettings, org_id: int | None) -> AlertSettings:
    """The operator's alert settings, with the organisation's own alert addresses when it set some."""
    if org_id is None:
        return settings
    with registry.Session() as session:
        emails = session.scalar(select(Organisation.alert_emails).where(Organisation.id == org_id))
    return replace(settings, mail_to=tuple(emails)) if emails else settings


@shared_task(bind=True, name="worker.tasks.deliver_alerts", max_retries=6)
def deliver_alerts(self, event_ids: list[int], digest: bool = False) -> str:
    """Send pending events, all of one organisation: each to the webhook (or, as a ``digest``, all in
    one POST) and all in one e-mail; retried with backoff."""
    registry = context.registry()
    with registry.Session() as session:
        events = session.scalars(
            select(AlertEvent).where(AlertEvent.id.in_(event_ids)).order_by(AlertEvent.id)
        ).all()
    if not events:
        return "nothing"
    settings = _org_alert_settings(registry, AlertSettings.from_env(), events[0].org_id)
    for event in events:
        event.payload["dashboard_url"] = settings.link(event.payload.get("dashboard_path", ""))
    # Per event: the channels' new statuses and this run's failure reasons (each event keeps its own).
    statuses: dict[int, dict] = {e.id: {} for e in events}
    failures: dict[int, list[str]] = {e.id: [] for e in events}
    pending_hook = [e for e in events if e.webhook_status == "pending"]
    if pending_hook and not settings.webhook_url:
        for e in pending_hook:
            statuses[e.id]["webhook_status"] = "skipped"
    elif pending_hook and digest:
        body = {"event": "digest", "org_id": events[0].org_id, "events": [e.payload for e in pending_hook]}
        try:
            post_webhook(settings, f"digest-{pending_hook[0].id}-{pending_hook[-1].id}", body)
            for e in pending_hook:
                statuses[e.id]["webhook_status"] = "sent"
        except AlertDeliveryError as exc:
            for e in pending_hook:
                failures[e.id].append(str(exc))
    else:
        for event in pending_hook:
            try:
                post_webhook(settings, event.id, event.payload)
                statuses[event.id]["webhook_status"] = "sent"
            except AlertDeliveryError as exc:
                failures[event.id].append(str(exc))
    pending_mail = [e for e in events if e.email_status == "pending"]
    if pending_mail:
        if not settings.email_enabled:
            for e in pending_mail:
                statuses[e.id]["email_status"] = "skipped"
        else:
            try:
                send_digest(settings, [e.payload for e in pending_mail])
                for e in pending_mail:
                    statuses[e.id]["email_status"] = "sent"
            except AlertDeliveryError as exc:
                for e in pending_mail:
                    failures[e.id].append(f"e-mail: {exc}")
    for event in events:
        _update_event(registry, event.id, statuses[event.id], failures[event.id])
    errors = [reason for reasons in failures.values() for reason in reasons]
    if errors:
        if self.request.retries < self.max_retries:
            raise self.retry(
                countdown=_backoff(self.request.retries), exc=AlertDeliveryError("; ".join(errors))
            )
        with registry.Session.begin() as session:
            session.execute(
                update(AlertEvent)
                .where(AlertEvent.id.in_(event_ids), AlertEvent.webhook_status == "pending")
                .values(webhook_status="failed")
            )
            session.execute(
                update(AlertEvent)
                .where(AlertEvent.id.in_(event_ids), AlertEvent.email_status == "pending")
                .values(email_status="failed")
            )
        return "failed"
    return "sent"


# A daily digest goes out at most once in this long, and only when there is something new.
DIGEST_EVERY = timedelta(days=1)
# A match reviewed as one of these before its digest went out is left out of it.
SETTLED_REVIEWS = ("dismissed", "licensed")


@shared_task(name="worker.tasks.send_digests")
def send_digests() -> int:
    """Send each daily-digest organisation its pending alerts, once a day (beat or the embedded
    scheduler calls this every tick); how many digests were sent. Events whose match was dismissed or
    found licensed in the meantime are skipped, saying so."""
    registry = context.registry()
    now = datetime.now(UTC)
    batches = []
    with registry.Session.begin() as session:
        orgs = session.scalars(
            select(Organisation).where(
                Organisation.alert_frequency == "daily",
                Organisation.last_digest_at.is_(None) | (Organisation.last_digest_at <= now - DIGEST_EVERY),
            )
        ).all()
        for org in orgs:
            events = session.scalars(
                select(AlertEvent)
                .where(
                    AlertEvent.org_id == org.id,
                    AlertEvent.attempts == 0,
                    (AlertEvent.webhook_status == "pending") | (AlertEvent.email_status == "pending"),
                )
                .order_by(AlertEvent.id)
            ).all()
            keep = []
            for event in events:
                match = session.get(MatchRow, event.payload.get("match_id") or 0)
                if match is not None and match.review_status in SETTLED_REVIEWS:
                    event.webhook_status = event.email_status = "skipped"
                    event.last_error = (
                        f"left out of the digest: the match was {match.review_status} before it went out"
                    )
                else:
                    keep.append(event.id)
            if keep:
                org.last_digest_at = now
                batches.append(keep)
    for ids in batches:
        deliver_alerts.delay(ids, digest=True)
    return len(batches)


def _update_event(registry, event_id: int, values: dict, errors: list[str]) -> None:
    with registry.Session.begin() as session:
        event = session.get(AlertEvent, event_id)
        event.attempts += 1
        for k, v in values.items():
            setattr(event, k, v)
        if errors:
            event.last_error = "; ".join(errors)[:2000]
        if event.webhook_status != "pending" and event.email_status != "pending":
            event.sent_at = datetime.now(UTC)


@shared_task(
    name="worker.tasks.crawl", soft_time_limit=CRAWL_SOFT_LIMIT_S, time_limit=CRAWL_SOFT_LIMIT_S + 60
)
def crawl_task(crawl_id: int) -> str:
    """Crawl a site (robots.txt, sitemaps, feeds, links) and queue a scan for every page found."""
    from worker.discover import Crawler

    registry = context.registry()
    Session = registry.Session
    with Session.begin() as session:
        crawl = session.get(Crawl, crawl_id)
        if crawl is None or crawl.status in ("done", "failed"):
            return "skipped"
        crawl.status, crawl.started_at = "running", datetime.now(UTC)
        url, org_id, max_pages, max_depth = crawl.url, crawl.org_id, crawl.max_pages, crawl.max_depth
        watch_id, source = crawl.watch_id, "watch" if crawl.watch_id else "crawl"
        watch = session.get(Watch, watch_id) if watch_id else None
        kind = watch.kind if watch is not None else "site"
    options = replace(fetch_options(registry.settings), accepted_types=CRAWL_TYPES)
    if kind == "feed":
        assert watch_id is not None  # the kind is its watch's
        return _read_feed_watch(registry, crawl_id, org_id, watch_id, url, max_pages, options)
    crawler = Crawler(
        lambda u: fetch(u, options=options),
        RobotsCache(options),
        HostRateLimiter(CRAWL_HOST_INTERVAL_S),
        user_agent=options.user_agent,
        max_depth=max_depth,
        max_pages=max_pages,
    )
    queued = []
    try:
        with Session() as session:
            done_urls = set(session.scalars(select(Scan.url).where(Scan.crawl_id == crawl_id)))
        for page_url, page in crawler.crawl(url):
            if page_url in done_urls:
                continue  # a re-run of this crawl task: the page is queued already
            if (scan_id := _queue_page(Session, crawl_id, org_id, source, page_url, page)) is not None:
                queued.append(scan_id)
    except (CheckerError, ValueError) as exc:
        _finish_crawl(registry, crawl_id, len(queued), f"{exc}")
        _send_scans(queued)
        return "failed" if not queued else "done"
    why = None if queued else why_nothing_found(crawler, url)
    _finish_crawl(registry, crawl_id, len(queued), why)
    _send_scans(queued)
    return "failed" if why else "done"


def _queue_page(Session, crawl_id: int, org_id: int | None, source: str, page_url: str, page) -> int | None:
    """Store a fetched page of a crawl as a queued scan (None when it has no text to check)."""
    extracted = extract_fetched(page)
    text = suspect_text(extracted)
    if not text.strip():
        return None
    with Session.begin() as session:
        scan = Scan(
            org_id=org_id,
            source=source,
            status="queued",
            text=text,
            url=page_url,
            crawl_id=crawl_id,
            final_url=page.final_url,
            fetched_at=page.fetched_at,
            body_sha256=page.body_sha256,
            page_title=(extracted.title or "")[:500] or None,
            published_at=extracted.date,
            links=list(extracted.links),
        )
        session.add(scan)
        session.flush()
        return scan.id


def _read_feed_watch(
    registry, crawl_id: int, org_id: int | None, watch_id: int, url: str, max_pages: int, options
) -> str:
    """A feed watch's run: one conditional request for the feed (an unchanged feed costs just that),
    then the items no run of this watch has scanned yet, each queued as a scan."""
    from worker.feedwatch import read_feed

    Session = registry.Session
    with Session() as session:
        watch = session.get(Watch, watch_id)
        etag, last_modified = watch.etag, watch.last_modified
        seen = set(
            session.scalars(
                select(Scan.url).join(Crawl, Scan.crawl_id == Crawl.id).where(Crawl.watch_id == watch_id)
            )
        )
    run = read_feed(
        url,
        etag=etag,
        last_modified=last_modified,
        seen=seen,
        max_items=max_pages,
        fetch_page=partial(fetch, options=options),
        robots=RobotsCache(options),
        limiter=HostRateLimiter(CRAWL_HOST_INTERVAL_S),
        user_agent=options.user_agent,
    )
    queued = [
        scan_id
        for page_url, page in run.pages
        if (scan_id := _queue_page(Session, crawl_id, org_id, "watch", page_url, page)) is not None
    ]
    if run.error is None:
        with Session.begin() as session:
            watch = session.get(Watch, watch_id)
            watch.etag, watch.last_modified = run.etag, run.last_modified
    _finish_crawl(registry, crawl_id, len(queued), run.error)
    _send_scans(queued)
    return "failed" if run.error and not queued else "done"


def why_nothing_found(crawler, start_url: str) -> str | None:
    """Why a crawl found no page to scan, in plain words, when it is a failure: the start page was
    refused (the address guard), could not be fetched, or is disallowed by robots.txt, or no page at all
    could be fetched. None when pages were fetched but none had text to check."""
    from worker.discover import normalise_url

    report = crawler.report
    start = normalise_url(start_url) or start_url
    for url, reason in report.errors:
        if url == start:
            return f"the start page could not be fetched: {reason}"
    if start in report.disallowed:
        unreachable = crawler.robots.unreachable(start) if hasattr(crawler.robots, "unreachable") else None
        if unreachable:
            return f"the site could not be reached: {unreachable}"
        return f"the site's robots.txt does not allow crawling the start page {start}"
    if not report.pages:
        if report.errors:
            return f"no page of the site could be fetched: {report.errors[0][1]}"
        return "no web page was found at the start address"
    return None


def _finish_crawl(registry, crawl_id: int, pages: int, error: str | None) -> None:
    with registry.Session.begin() as session:
        crawl = session.get(Crawl, crawl_id)
        crawl.status = "failed" if error and not pages else "done"
        crawl.error = scans.readable_error(error) if error else None
        crawl.pages_found, crawl.finished_at = pages, datetime.now(UTC)
        monitoring.record_run(session, crawl.watch_id, crawl.error if crawl.status == "failed" else None)


def _send_scans(scan_ids: list[int]) -> None:
    """A crawl's pages go the fair way, like any batch (docs/fairness.md)."""
    dispatch.send_scans(scan_ids)


@shared_task(name="worker.tasks.monitor_due")
def monitor_due() -> int:
    """Start a crawl for every active watch that is due (Celery beat, or the embedded scheduler, calls
    this every tick; checker.monitoring decides what is due)."""
    registry = context.registry()
    with registry.Session.begin() as session:
        started = monitoring.start_due(session)
    for crawl_id in started:
        dispatch.send(crawl_task, crawl_id)
    return len(started)


@shared_task(name="worker.tasks.sweep_stuck")
def sweep_stuck() -> int:
    """Re-send scans stuck in running or queued past STUCK_AFTER (a lost message or a dead worker);
    the number sent. With fair dispatch, every organisation with queued scans sends what its free
    slots allow (a slot whose scan was lost has expired by then), so nothing stays stranded and the
    per-organisation limit holds; a scan re-sent too often is given up by scan_task."""
    registry = context.registry()
    ids = scans.stuck(registry.Session, STUCK_AFTER)
    slots = _slots(registry)
    if slots is None:
        _send_scans(ids)
        return len(ids)
    return len(fairness.dispatch_all(registry.Session, slots, _send_one))
