"""The life of a scan in the database: queued -> running -> done | failed.

Persist first: a submission is stored as ``queued`` before any task is sent, and a task receives only
the scan id. Every step is idempotent: claiming a finished scan does nothing, and completing a scan
replaces its matches in one transaction, so a task that runs twice (a worker killed after the work but
before the acknowledgement, a redelivery) leaves one set of matches, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from checker import validate
from checker.errors import InputError, NotFound
from checker.models import MatchRow, PassageRow, Scan
from checker.records import Match, ScanResult
from checker.store import rowcount
from checker.textio import check_text

STATUSES = ("queued", "running", "done", "failed")
# A scan error shown to users is one readable line; longer messages are cut.
MAX_ERROR_CHARS = 2000
# Invalid entries of a batch named in its error message (the count says how many more).
MAX_PROBLEMS_SHOWN = 5


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a task needs to run a scan (read once, inside the claiming transaction)."""

    id: int
    org_id: int | None
    source: str
    text: str | None
    url: str | None
    attempts: int
    links: tuple[str, ...] = ()  # stored with a crawled page's text
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """What fetching a URL proved: where the page was, when, and a digest of its exact bytes."""

    final_url: str | None = None
    fetched_at: datetime | None = None
    body_sha256: str | None = None
    page_title: str | None = None
    published_at: datetime | None = None
    links: tuple[str, ...] = ()


def _submission(
    text: str | None, url: str | None, max_chars: int, name: str | None
) -> tuple[str | None, str | None]:
    """A submission's text and URL checked (:mod:`checker.validate`): a text, a URL, or both.
    ``name`` ("URL 3") names the submission in a batch."""
    if text is None and (url is None or (isinstance(url, str) and not url.strip())):
        raise InputError(f"{name}: no text and no URL" if name else "a scan needs a text or a URL")
    if text is not None:
        text = check_text(text, max_chars, f"{name}: suspect text" if name else "suspect text")
    return text, validate.optional_http_url(url, name or "url")


def create_scans(
    Session: sessionmaker[Session],
    submissions: Sequence[tuple[str | None, str | None]],
    *,
    org_id: int | None,
    source: str = "text",
    submitted_by: int | None = None,
    crawl_id: int | None = None,
    max_chars: int = 2_000_000,
    label: str = "submission",
) -> list[int]:
    """Store ``(text, url)`` submissions as ``queued``, all or none: every one is checked first, then
    all are inserted in one transaction. Returns their ids in order. If any is invalid, InputError
    names the bad ones (``"{label} 3: ..."``, counting from 1) and nothing is stored."""
    checked, problems = [], []
    many = len(submissions) > 1
    for n, (text, url) in enumerate(submissions, start=1):
        try:
            checked.append(_submission(text, url, max_chars, f"{label} {n}" if many else None))
        except InputError as exc:
            problems.append(str(exc))
    if problems and not many:
        raise InputError(problems[0])
    if problems:
        more = len(problems) - MAX_PROBLEMS_SHOWN
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise InputError(
            f"{len(problems)} of the {len(submissions)} {label}s are invalid, so none was queued: {shown}"
        )
    with Session.begin() as session:
        rows = [
            Scan(
                org_id=org_id,
                text=text,
                url=url,
                source=source,
                status="queued",
                submitted_by=submitted_by,
                crawl_id=crawl_id,
            )
            for text, url in checked
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def create_scan(
    Session: sessionmaker[Session],
    *,
    org_id: int | None,
    text: str | None = None,
    url: str | None = None,
    source: str = "text",
    submitted_by: int | None = None,
    crawl_id: int | None = None,
    max_chars: int = 2_000_000,
) -> int:
    """Store a submission as ``queued`` and return its id. Needs a text or a URL (an http(s) URL;
    with a text it says where the text was found)."""
    return create_scans(
        Session,
        [(text, url)],
        org_id=org_id,
        source=source,
        submitted_by=submitted_by,
        crawl_id=crawl_id,
        max_chars=max_chars,
    )[0]


def claim(Session: sessionmaker[Session], scan_id: int) -> Claimed | None:
    """Mark a queued (or redelivered running) scan as running; None when it is finished or gone."""
    with Session.begin() as session:
        changed = rowcount(
            session.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.status.in_(("queued", "running")))
                .values(status="running", started_at=now(), attempts=Scan.attempts + 1, error=None)
            )
        )
        if not changed:
            return None
        s = session.get(Scan, scan_id)
        assert s is not None  # just updated in this transaction
        return Claimed(
            s.id, s.org_id, s.source, s.text, s.url, s.attempts, tuple(s.links or ()), s.published_at
        )


def requeue(Session: sessionmaker[Session], scan_id: int, reason: str) -> None:
    """Back to ``queued`` (a transient error; a retry is scheduled)."""
    with Session.begin() as session:
        session.execute(
            update(Scan)
            .where(Scan.id == scan_id, Scan.status == "running")
            .values(status="queued", error=reason[:MAX_ERROR_CHARS])
        )


def complete(
    Session: sessionmaker[Session],
    scan_id: int,
    result: ScanResult,
    *,
    text: str | None = None,
    evidence: PageEvidence | None = None,
) -> list[int]:
    """Store the result, replacing any matches of an earlier run; returns the new match ids."""
    with Session.begin() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NotFound(f"no scan with id {scan_id}")
        session.execute(delete(MatchRow).where(MatchRow.scan_id == scan_id))
        if text is not None:
            scan.text = text
        if evidence is not None:
            scan.final_url = evidence.final_url
            scan.fetched_at = evidence.fetched_at
            scan.body_sha256 = evidence.body_sha256
            scan.page_title = (evidence.page_title or "")[:500] or None
            scan.published_at = evidence.published_at
            scan.links = list(evidence.links)
        suspect_url = scan.final_url or scan.url
        rows = [match_row(scan_id, m, suspect_url) for m in result.matches]
        session.add_all(rows)
        scan.status, scan.verdict, scan.result = "done", result.verdict, result.to_dict()
        scan.error, scan.finished_at = None, now()
        session.flush()
        return [r.id for r in rows]


def match_row(scan_id: int | None, m: Match, suspect_url: str | None) -> MatchRow:
    row = MatchRow(
        scan_id=scan_id,
        article_id=m.article.id,
        kind=m.kind,
        verdict=m.verdict,
        score=m.score,
        suspect_coverage=m.suspect_coverage,
        source_coverage=m.source_coverage,
        words_matched=m.words_matched,
        suspect_words=m.suspect_words,
        source_words=m.source_words,
        attributed=m.attributed,
        licensed=m.licensed,
        explanation=m.explanation,
        credits=[c.to_dict() for c in m.credits],
        suspect_url=suspect_url,
    )
    row.passages = [PassageRow(**p.to_dict()) for p in m.passages]
    return row


def readable_error(error: str) -> str:
    """``error`` as it is stored and shown: one line, at most MAX_ERROR_CHARS characters."""
    return " ".join(error.split())[:MAX_ERROR_CHARS]


def fail(Session: sessionmaker[Session], scan_id: int, error: str) -> None:
    """Finish with a readable error."""
    with Session.begin() as session:
        session.execute(
            update(Scan)
            .where(Scan.id == scan_id)
            .values(status="failed", error=readable_error(error), finished_at=now())
        )


def stuck(Session: sessionmaker[Session], older_than: timedelta) -> list[int]:
    """Scans to send again: running past ``older_than`` (their worker died and the broker did not
    redeliver), or queued that long (their message was lost, e.g. a broker restart without
    persistence). Running ones go back to queued."""
    cutoff = now() - older_than
    with Session.begin() as session:
        ids = session.scalars(
            select(Scan.id)
            .where(
                or_(
                    (Scan.status == "running") & (Scan.started_at < cutoff),
                    (Scan.status == "queued") & (Scan.created_at < cutoff),
                )
            )
            .order_by(Scan.id)
        ).all()
        if ids:
            session.execute(
                update(Scan).where(Scan.id.in_(ids), Scan.status == "running").values(status="queued")
            )
        return list(ids)
