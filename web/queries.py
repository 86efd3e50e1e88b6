"""Organisation-scoped reads and the review action, shared by the dashboard, the API and the exports.

Every lookup takes the caller's ``org_id``: another organisation's id is "not found" (404), never
"forbidden", so ids do not leak which records exist.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import overload

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from checker import validate
from checker.attribution import host_of
from checker.errors import InputError, NotFound
from checker.models import AlertEvent, Article, Crawl, MatchRow, Review, Scan, article_search
from checker.records import KINDS, VERDICTS
from checker.scans import STATUSES

REVIEW_STATUSES = ("open", "confirmed", "dismissed", "licensed")
# Review action -> the match's review status ("reopened" puts a decision back to open).
REVIEW_ACTIONS = {
    "confirmed": "confirmed",
    "dismissed": "dismissed",
    "licensed": "licensed",
    "reopened": "open",
}
MAX_NOTE_CHARS = 5000
MAX_PER_PAGE = 100
# A search query is cut to this many characters (it is not stored, so nothing is lost); a domain
# filter is a host name, at most 253 characters.
MAX_QUERY_CHARS = 200
MAX_DOMAIN_CHARS = 253


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def meta(self) -> dict:
        return {"page": self.page, "per_page": self.per_page, "total": self.total, "pages": self.pages}


@overload
def _int(value, name: str, lo: int, hi: int | None = None, default: None = None) -> int | None: ...
@overload
def _int(value, name: str, lo: int, hi: int | None, default: int) -> int: ...
def _int(value, name: str, lo: int, hi: int | None = None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number (got {value!r})") from None
    if n < lo or (hi is not None and n > hi):
        raise InputError(
            f"{name} must be between {lo} and {hi}" if hi is not None else f"{name} must be at least {lo}"
        )
    return n


def _choice(value, name: str, choices) -> str | None:
    if value is None or value == "":
        return None
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
    return value


def _date(value, name: str) -> date | None:
    """A filter date (``2026-11-27``), in :mod:`checker.validate`'s year range: ``until=9999-12-31``
    is refused rather than overflowing "the day after"."""
    return validate.parse_date(value, name)


@dataclass(frozen=True)
class Filters:
    """Filters of the scan and match lists, parsed and checked from query arguments."""

    verdict: str | None = None
    kind: str | None = None
    review_status: str | None = None
    status: str | None = None
    domain: str | None = None
    article_id: int | None = None
    since: date | None = None
    until: date | None = None
    q: str | None = None
    page: int = 1
    per_page: int = 50
    raw: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, args, default_per_page: int = 50) -> Filters:
        domain = (validate.text_field(args.get("domain"), "domain", MAX_DOMAIN_CHARS) or "").lower() or None
        if domain and any(c in domain for c in "/%_ \\"):
            raise InputError(f"domain must be a host name like example.com (got {domain!r})")
        f = cls(
            verdict=_choice(args.get("verdict"), "verdict", VERDICTS),
            kind=_choice(args.get("kind"), "kind", KINDS),
            review_status=_choice(args.get("review_status"), "review_status", REVIEW_STATUSES),
            status=_choice(args.get("status"), "status", STATUSES),
            domain=domain[4:] if domain and domain.startswith("www.") else domain,
            article_id=_int(args.get("article_id"), "article_id", 1, 2**62),
            since=_date(args.get("since"), "since"),
            until=_date(args.get("until"), "until"),
            q=validate.search_text(args.get("q"), "q", MAX_QUERY_CHARS),
            page=_int(args.get("page"), "page", 1, 10**6, 1),
            per_page=_int(args.get("per_page"), "per_page", 1, MAX_PER_PAGE, default_per_page),
        )
        raw = {
            k: v
            for k, v in (
                ("verdict", f.verdict),
                ("kind", f.kind),
                ("review_status", f.review_status),
                ("status", f.status),
                ("domain", f.domain),
                ("article_id", f.article_id),
                ("since", f.since),
                ("until", f.until),
                ("q", f.q),
            )
            if v
        }
        return cls(**{**f.__dict__, "raw": raw})


def _url_on_domain(column, domain: str):
    """SQL: ``column`` is a URL on ``domain`` or one of its subdomains."""
    return or_(
        *(
            column.ilike(p)
            for p in (
                f"%://{domain}",
                f"%://{domain}/%",
                f"%://{domain}:%",
                f"%://%.{domain}",
                f"%://%.{domain}/%",
                f"%://%.{domain}:%",
            )
        )
    )


def _day_range(stmt: Select, column, f: Filters) -> Select:
    if f.since:
        stmt = stmt.where(column >= datetime.combine(f.since, time.min, UTC))
    if f.until:
        stmt = stmt.where(column < datetime.combine(f.until + timedelta(days=1), time.min, UTC))
    return stmt


def count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(session: Session, stmt: Select, f: Filters) -> Page:
    total = count(session, stmt)
    items = list(session.scalars(stmt.limit(f.per_page).offset((f.page - 1) * f.per_page)))
    return Page(items, f.page, f.per_page, total)


# Ids beyond a 64-bit integer cannot exist (and SQLite would raise on them).
MAX_ID = 2**63 - 1


def _check_id(record_id: int, what: str) -> None:
    if not 1 <= record_id <= MAX_ID:
        raise NotFound(f"no {what} with id {record_id}")


# -- articles ------------------------------------------------------------------------------------------
def _get_owned(session: Session, model, org_id: int, record_id: int, what: str, options=()):
    """A record of ``org_id``; another organisation's record is "not found", so ids do not leak."""
    _check_id(record_id, what)
    record = session.get(model, record_id, options=options)
    if record is None or record.org_id != org_id:
        raise NotFound(f"no {what} with id {record_id}")
    return record


def get_article(session: Session, org_id: int, article_id: int) -> Article:
    return _get_owned(session, Article, org_id, article_id, "article")


def articles_query(org_id: int, f: Filters) -> Select:
    stmt = select(Article).where(Article.org_id == org_id).order_by(Article.id.desc())
    if f.q:
        stmt = stmt.where(article_search(f.q))
    return stmt


# -- scans ---------------------------------------------------------------------------------------------
def get_scan(session: Session, org_id: int, scan_id: int, *, with_matches: bool = False) -> Scan:
    """A scan; ``with_matches`` loads its status, matches and their passages in one SELECT (and the
    matched articles in a second). One statement is one snapshot on both databases: loading the matches
    later, lazily, could see matches that a worker committed after the status was read (a page saying
    "running" above them). The articles were registered before the scan: joined, each one's whole text
    would come back once per passage row."""
    matches = joinedload(Scan.matches)
    options = (
        (matches.joinedload(MatchRow.passages), matches.selectinload(MatchRow.article))
        if with_matches
        else ()
    )
    return _get_owned(session, Scan, org_id, scan_id, "scan", options)


def scans_query(org_id: int, f: Filters) -> Select:
    stmt = select(Scan).where(Scan.org_id == org_id).order_by(Scan.id.desc())
    if f.verdict:
        stmt = stmt.where(Scan.verdict == f.verdict)
    if f.status:
        stmt = stmt.where(Scan.status == f.status)
    if f.domain:
        stmt = stmt.where(or_(_url_on_domain(Scan.final_url, f.domain), _url_on_domain(Scan.url, f.domain)))
    return _day_range(stmt, Scan.created_at, f)


# -- matches -------------------------------------------------------------------------------------------
def get_match(session: Session, org_id: int, match_id: int) -> MatchRow:
    _check_id(match_id, "match")
    match = session.scalar(
        select(MatchRow)
        .join(Scan, MatchRow.scan_id == Scan.id)
        .where(MatchRow.id == match_id, Scan.org_id == org_id)
        .options(selectinload(MatchRow.passages), selectinload(MatchRow.reviews))
    )
    if match is None:
        raise NotFound(f"no match with id {match_id}")
    return match


def matches_query(org_id: int, f: Filters) -> Select:
    stmt = (
        select(MatchRow)
        .join(Scan, MatchRow.scan_id == Scan.id)
        .where(Scan.org_id == org_id)
        .order_by(MatchRow.id.desc())
    )
    if f.verdict:
        stmt = stmt.where(MatchRow.verdict == f.verdict)
    if f.kind:
        stmt = stmt.where(MatchRow.kind == f.kind)
    if f.review_status:
        stmt = stmt.where(MatchRow.review_status == f.review_status)
    if f.article_id:
        stmt = stmt.where(MatchRow.article_id == f.article_id)
    if f.domain:
        stmt = stmt.where(_url_on_domain(MatchRow.suspect_url, f.domain))
    return _day_range(stmt, MatchRow.created_at, f)


def review_match(session: Session, match: MatchRow, *, user_id: int, action: str, note: str = "") -> Review:
    """Record a reviewer's decision (the audit trail) and set the match's review status."""
    if action not in REVIEW_ACTIONS:
        raise InputError(f"action must be one of {', '.join(REVIEW_ACTIONS)} (got {action!r})")
    note = validate.text_field(note, "note", MAX_NOTE_CHARS) or ""
    review = Review(match_id=match.id, user_id=user_id, action=action, note=note)
    session.add(review)
    match.review_status = REVIEW_ACTIONS[action]
    session.flush()
    return review


# -- overview and domains ------------------------------------------------------------------------------
def verdict_counts(session: Session, org_id: int) -> dict[str, int]:
    """Finished scans per verdict."""
    rows = session.execute(
        select(Scan.verdict, func.count())
        .where(Scan.org_id == org_id, Scan.status == "done")
        .group_by(Scan.verdict)
    )
    counts = dict.fromkeys(VERDICTS, 0)
    counts.update({v: n for v, n in rows if v})
    return counts


def weekly_reuse(session: Session, org_id: int, weeks: int = 12, today: date | None = None) -> list[dict]:
    """Matches found per ISO week (Monday first) for the last ``weeks`` weeks, by verdict."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    start = datetime.combine(first, time.min, UTC)
    rows = session.execute(
        select(MatchRow.created_at, MatchRow.verdict)
        .join(Scan, MatchRow.scan_id == Scan.id)
        .where(Scan.org_id == org_id, MatchRow.created_at >= start)
    )
    buckets: dict[date, Counter] = defaultdict(Counter)
    for created, verdict in rows:
        d = created.date()
        buckets[d - timedelta(days=d.weekday())][verdict] += 1
    return [
        {"week": first + timedelta(weeks=n), "counts": buckets[first + timedelta(weeks=n)]}
        for n in range(weeks)
    ]


def domain_table(session: Session, org_id: int) -> list[dict]:
    """Sites that reuse this organisation's articles, most matches first, with their verdict mix."""
    rows = session.execute(
        select(MatchRow.suspect_url, MatchRow.verdict, MatchRow.article_id, MatchRow.created_at)
        .join(Scan, MatchRow.scan_id == Scan.id)
        .where(Scan.org_id == org_id)
    )
    table: dict[str, dict] = {}
    for url, verdict, article_id, created in rows:
        host = host_of(url) or "(pasted text)"
        entry = table.setdefault(
            host,
            {"domain": host, "matches": 0, "verdicts": Counter(), "articles": set(), "last_seen": created},
        )
        entry["matches"] += 1
        entry["verdicts"][verdict] += 1
        entry["articles"].add(article_id)
        entry["last_seen"] = max(entry["last_seen"], created)
    return sorted(
        table.values(), key=lambda e: (-e["verdicts"]["unattributed_reuse"], -e["matches"], e["domain"])
    )


# -- crawls and alert deliveries -----------------------------------------------------------------------
def get_crawl(session: Session, org_id: int, crawl_id: int) -> Crawl:
    return _get_owned(session, Crawl, org_id, crawl_id, "crawl")


def crawls_query(org_id: int, f: Filters) -> Select:
    stmt = select(Crawl).where(Crawl.org_id == org_id).order_by(Crawl.id.desc())
    if f.status:
        stmt = stmt.where(Crawl.status == f.status)
    if f.domain:
        stmt = stmt.where(_url_on_domain(Crawl.url, f.domain))
    return _day_range(stmt, Crawl.created_at, f)


def crawl_scans_query(crawl: Crawl) -> Select:
    return select(Scan).where(Scan.crawl_id == crawl.id, Scan.org_id == crawl.org_id).order_by(Scan.id)


def alerts_query(org_id: int, f: Filters) -> Select:
    return _day_range(
        select(AlertEvent).where(AlertEvent.org_id == org_id).order_by(AlertEvent.id.desc()),
        AlertEvent.created_at,
        f,
    )
