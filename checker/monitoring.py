"""Watches: what is due, what a run's outcome does to the schedule, and what a person sees of them.

One code path for every setup: Celery beat's ``monitor_due`` task and the embedded scheduler
(:mod:`worker.scheduler`) both call :func:`start_due`, so a watch runs the same way with or without a
broker. A run that fails backs off (the next run waits ``interval x 2^(failures-1)``, at most
:data:`MAX_BACKOFF`); after :data:`MAX_FAILURES` failures in a row the watch is paused with its reason,
until someone resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checker.errors import InputError
from checker.models import Crawl, MatchRow, Scan, Watch, same_org

MAX_FAILURES = 5
MAX_BACKOFF = timedelta(days=7)
WATCH_KINDS = ("site", "feed")
MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 60 * 24 * 90


def now_utc() -> datetime:
    return datetime.now(UTC)


def check_interval(minutes: int) -> int:
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        raise InputError("the interval must be between 5 minutes and 90 days")
    return minutes


def check_kind(kind: str) -> str:
    if kind not in WATCH_KINDS:
        raise InputError(f"a watch is of kind {' or '.join(WATCH_KINDS)} (got {kind!r})")
    return kind


def start_due(session: Session, now: datetime | None = None) -> list[int]:
    """Start a crawl for every active watch that is due; the crawls' ids (to send). Each watch's next
    run is set one interval ahead at once, so two schedulers ticking together start it once only
    (the second sees it not due; on PostgreSQL the rows are locked while this runs)."""
    now = now or now_utc()
    query = select(Watch).where(
        Watch.active.is_(True), (Watch.next_due_at.is_(None)) | (Watch.next_due_at <= now)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    started = []
    for watch in session.scalars(query.order_by(Watch.id)).all():
        crawl = Crawl(org_id=watch.org_id, watch_id=watch.id, url=watch.url, max_pages=watch.max_pages)
        session.add(crawl)
        watch.last_crawled_at = now
        watch.next_due_at = now + timedelta(minutes=watch.interval_minutes)
        session.flush()
        started.append(crawl.id)
    return started


def backoff(interval_minutes: int, failures: int) -> timedelta:
    """How long after a failed run the next one waits: the interval, doubled for each failure in a row
    after the first, at most MAX_BACKOFF (or the interval, when that is longer)."""
    interval = timedelta(minutes=interval_minutes)
    factor: int = 2 ** max(failures - 1, 0)
    return max(interval, min(interval * factor, MAX_BACKOFF))


def record_run(
    session: Session, watch_id: int | None, error: str | None, now: datetime | None = None
) -> None:
    """What a finished run of a watch does to it: a run that worked clears the failures; a failed run
    counts, says why, backs off, and pauses the watch after MAX_FAILURES in a row."""
    watch = session.get(Watch, watch_id) if watch_id is not None else None
    if watch is None:
        return
    now = now or now_utc()
    if not error:
        watch.failures, watch.last_error = 0, None
        return
    watch.failures = (watch.failures or 0) + 1
    watch.last_error = error
    watch.next_due_at = now + backoff(watch.interval_minutes, watch.failures)
    if watch.failures >= MAX_FAILURES:
        watch.active = False
        watch.paused_reason = f"paused after {watch.failures} failed runs in a row; the last: {error}"


def pause(session: Session, watch: Watch, reason: str = "paused by a person") -> None:
    watch.active, watch.paused_reason = False, reason


def resume(session: Session, watch: Watch, now: datetime | None = None) -> None:
    """Active again, due at once, its failures forgotten."""
    watch.active, watch.paused_reason, watch.failures = True, None, 0
    watch.next_due_at = now or now_utc()


@dataclass(frozen=True)
class WatchSummary:
    """A watch as its monitoring page and ``checker watch list`` show it."""

    id: int
    url: str
    kind: str
    interval_minutes: int
    max_pages: int
    active: bool
    paused_reason: str | None
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_status: str | None  # the last crawl's: queued | running | done | failed
    pages_seen: int  # pages the last finished run found
    new_matches: int  # matches recorded by all its runs (monitoring records only new ones)
    failures: int
    last_error: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("last_run_at", "next_run_at", "created_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def summaries(session: Session, org_id: int | None, watch_id: int | None = None) -> list[WatchSummary]:
    """Every watch of the organisation (or the one ``watch_id``), oldest first, with its last run."""
    query = select(Watch).where(same_org(Watch.org_id, org_id)).order_by(Watch.id)
    if watch_id is not None:
        query = query.where(Watch.id == watch_id)
    watches = session.scalars(query).all()
    if not watches:
        return []
    ids = [w.id for w in watches]
    last_crawl: dict[int | None, Crawl]
    last_done: dict[int | None, Crawl]
    last_crawl, last_done = {}, {}  # each watch's last run, and its last finished one
    for run in session.scalars(select(Crawl).where(Crawl.watch_id.in_(ids)).order_by(Crawl.id)):
        last_crawl[run.watch_id] = run  # ascending ids: the last one wins
        if run.status in ("done", "failed"):
            last_done[run.watch_id] = run
    matches = dict(
        session.execute(
            select(Crawl.watch_id, func.count(MatchRow.id))
            .join(Scan, Scan.crawl_id == Crawl.id)
            .join(MatchRow, MatchRow.scan_id == Scan.id)
            .where(Crawl.watch_id.in_(ids))
            .group_by(Crawl.watch_id)
        ).all()
    )
    out = []
    for w in watches:
        crawl, done = last_crawl.get(w.id), last_done.get(w.id)
        out.append(
            WatchSummary(
                id=w.id,
                url=w.url,
                kind=w.kind or "site",
                interval_minutes=w.interval_minutes,
                max_pages=w.max_pages,
                active=bool(w.active),
                paused_reason=w.paused_reason,
                last_run_at=w.last_crawled_at,
                next_run_at=w.next_due_at if w.active else None,
                last_status=crawl.status if crawl else None,
                pages_seen=done.pages_found if done else 0,
                new_matches=int(matches.get(w.id, 0)),
                failures=w.failures or 0,
                last_error=w.last_error,
                created_at=w.created_at,
            )
        )
    return out
