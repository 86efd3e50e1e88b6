"""SQLAlchemy 2.0 models: the registry of articles, and scans with their matches and passages.

The database is the source of truth; the passage index is derived from ``articles.text`` and can be
rebuilt from it at any time (``checker index rebuild``). ``fingerprint_version`` records which
fingerprint scheme an article's index entries were made with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SQLColumnExpression,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    or_,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def same_org(column: SQLColumnExpression[int | None], org_id: int | None) -> ColumnElement[bool]:
    """SQL condition: ``column`` belongs to ``org_id`` (None: the organisation-less space that only code
    using the Registry directly, such as bench/, still uses; the CLI and the dashboard always pass one)."""
    return column.is_(None) if org_id is None else column == org_id


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite would drop the offset and keep
    the wall-clock time, so 10:00+07:00 would come back as 10:00 UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Organisation(Base):
    """A publisher: its accounts see only its own articles, scans, matches and reviews."""

    __tablename__ = "organisations"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Where its people are: dates on its pages are shown in this IANA zone, with the zone named.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default=sql_text("'UTC'"))
    # What counts as a match for it (checker.thresholds's defaults when NULL / as the server defaults say):
    # the smallest passage worth reporting, in words; whether quotations are left out of the passages;
    # sources (domains, or URL prefixes) whose copies are not reported, e.g. licensed partners' mirrors.
    min_match_words: Mapped[int | None] = mapped_column(Integer)
    exclude_quotes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sql_text("TRUE"))
    excluded_sources: Mapped[list[str] | None] = mapped_column(JSON)
    # Alerts on new unattributed copies: sent as found ("immediate") or once a day in one digest
    # ("daily"); when the last digest went out.
    alert_frequency: Mapped[str] = mapped_column(
        String(10), default="immediate", server_default=sql_text("'immediate'")
    )
    last_digest_at: Mapped[datetime | None]
    # Who gets its alert e-mails (None or empty: the operator's CHECKER_ALERT_TO).
    alert_emails: Mapped[list[str] | None] = mapped_column(JSON)


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), default="viewer")  # admin | editor | viewer
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every login session's identity: bumping it (logout, disable, password or role change) ends
    # every session of this account. Added by checker.store's migration to databases made before it.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    # The dashboard's language ("en" | "id"); NULL: the browser's preference.
    locale: Mapped[str | None] = mapped_column(String(10))
    # May create organisations (the install's operator; `checker users create --site-admin`).
    site_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("FALSE"))
    # No longer read or written (failed logins back off in the rate-limit store, see web.auth); kept
    # because databases created before that have these columns, failed_logins NOT NULL.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    org: Mapped[Organisation] = relationship()


class ApiToken(Base):
    """An API token: shown once, stored as a SHA-256 digest, revocable."""

    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Article(Base):
    __tablename__ = "articles"
    # AUTOINCREMENT: SQLite must never reuse a deleted article's id, or stale index entries and old
    # matches would point at the wrong article.
    __table_args__ = (Index("ix_articles_text_sha256", "text_sha256"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    # checker.validate.canonical_url(url): what a re-registration of the same article is found by.
    # Added (and filled in) by checker.store's migration to databases made before it.
    url_key: Mapped[str | None] = mapped_column(String(2000), index=True)
    publisher: Mapped[str | None] = mapped_column(String(300), index=True)
    license: Mapped[str] = mapped_column(String(200), default="all-rights-reserved")
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Credit wording the licence requires (e.g. "Sumber: Lingkar.co"); None: any credit naming us.
    required_credit: Mapped[str | None] = mapped_column(String(500))
    # Other names copies may credit the publisher by ("Lingkar", "Harian Lingkar").
    aliases: Mapped[list[str] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    # When discovery last searched the web for copies of it (None: not yet; worker.discovery).
    discovered_at: Mapped[datetime | None] = mapped_column(index=True)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def iso(value: datetime | None) -> str | None:
    """A stored time in JSON (ISO 8601 with its offset), or None: every JSON shape writes times so."""
    return value.isoformat() if value else None


def article_dict(a: Article, *, with_text: bool = False) -> dict[str, Any]:
    """An article's JSON shape, the same in the CLI, the API and the exports."""
    out: dict[str, Any] = {
        "id": a.id,
        "title": a.title,
        "url": a.url,
        "publisher": a.publisher,
        "license": a.license,
        "partners": list(a.partners or []),
        "required_credit": a.required_credit,
        "aliases": list(a.aliases or []),
        "published_at": iso(a.published_at),
        "word_count": a.word_count,
        "created_at": iso(a.created_at),
    }
    if with_text:
        out["text"] = a.text
    return out


def article_search(query: str) -> ColumnElement[bool]:
    """SQL condition: ``query`` occurs in the title, URL or publisher (case-insensitive)."""
    like = f"%{query}%"
    return or_(Article.title.ilike(like), Article.url.ilike(like), Article.publisher.ilike(like))


class Scan(Base):
    """One submitted suspect (text, URL or crawled page). Stored before any work starts ("queued"), so a
    submission is never lost; states: queued -> running -> done | failed."""

    __tablename__ = "scans"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20), default="text")  # text | url | crawl | batch | watch
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    # Evidence from fetching: where the page really was, when, and a digest of the exact bytes.
    final_url: Mapped[str | None] = mapped_column(String(2000))
    fetched_at: Mapped[datetime | None]
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    page_title: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None]
    links: Mapped[list[str] | None] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(30), index=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    crawl_id: Mapped[int | None] = mapped_column(ForeignKey("crawls.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    matches: Mapped[list[MatchRow]] = relationship(
        back_populates="scan", cascade="all, delete-orphan", order_by="MatchRow.score.desc()"
    )


class Crawl(Base):
    """A site crawl, once or on a watch's schedule."""

    __tablename__ = "crawls"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    max_pages: Mapped[int] = mapped_column(Integer, default=50)
    max_depth: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    pages_found: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Watch(Base):
    """A site re-crawled on a schedule; only matches not seen before raise alerts."""

    __tablename__ = "watches"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    interval_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    max_pages: Mapped[int] = mapped_column(Integer, default=50)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_crawled_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "site": crawl the site (robots.txt, sitemaps, feeds, links); "feed": read one RSS/Atom feed or
    # sitemap and scan the items not seen before, with a conditional request (etag / last_modified).
    kind: Mapped[str] = mapped_column(String(10), default="site", server_default=sql_text("'site'"))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # Failed runs in a row (0 after a run that worked), the last run's error, and why the watch was
    # paused (by a person, or after checker.monitoring.MAX_FAILURES failures in a row).
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    paused_reason: Mapped[str | None] = mapped_column(Text)


class SearchQuery(Base):
    """One phrase sent to a web search provider by discovery (worker.discovery), kept as the cache of
    its results, the proof it is not sent again within the repeat period, and the day's usage."""

    __tablename__ = "search_queries"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    # sha256 of the normalised phrase: what "the same query" means.
    phrase_key: Mapped[str] = mapped_column(String(64), index=True)
    phrase: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="done")  # done | failed
    result_urls: Mapped[list[str] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    queried_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ImportJobRow(Base):
    """A bulk import's progress (checker/imports.py), in the database so that every web process and the
    CLI can answer for it, and a job whose process stopped is seen as stopped, not running for ever."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str] | None] = mapped_column(JSON)  # the first few line errors, for the report
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | failed
    # Why a failed job failed, as a code and its numbers, put in words in the reader's language.
    reason_code: Mapped[str | None] = mapped_column(String(30))
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The uploaded file until the job ends: the import task reads it here, so a worker on any machine
    # can run it. Deferred: progress updates never load it. None for CLI imports and finished jobs.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # Runs of the import task that started and did not finish their slice (their worker died): a file
    # that kills every worker is given up after checker.imports.MAX_ATTEMPTS.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))


class MatchRow(Base):
    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    # A deleted article leaves its matches as history, pointing nowhere.
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str] = mapped_column(String(30))
    score: Mapped[float] = mapped_column(Float)
    suspect_coverage: Mapped[float] = mapped_column(Float)
    source_coverage: Mapped[float] = mapped_column(Float)
    # The counts behind the shares (records.Match); NULL on rows stored before they were counted.
    words_matched: Mapped[int | None] = mapped_column(Integer)
    suspect_words: Mapped[int | None] = mapped_column(Integer)
    source_words: Mapped[int | None] = mapped_column(Integer)
    attributed: Mapped[bool]
    licensed: Mapped[bool]
    explanation: Mapped[str] = mapped_column(Text, default="")
    credits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # Where the copy was found (the scan's final URL) and whether monitoring saw this pair before.
    suspect_url: Mapped[str | None] = mapped_column(String(2000), index=True)
    review_status: Mapped[str] = mapped_column(
        String(20), default="open"
    )  # open|confirmed|dismissed|licensed
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    scan: Mapped[Scan] = relationship(back_populates="matches")
    article: Mapped[Article | None] = relationship()
    reviews: Mapped[list[Review]] = relationship(
        back_populates="match", cascade="all, delete-orphan", order_by="Review.created_at"
    )
    passages: Mapped[list[PassageRow]] = relationship(
        back_populates="match", cascade="all, delete-orphan", order_by="PassageRow.suspect_start"
    )


class PassageRow(Base):
    __tablename__ = "passages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    suspect_start: Mapped[int]
    suspect_end: Mapped[int]
    source_start: Mapped[int]
    source_end: Mapped[int]
    similarity: Mapped[float] = mapped_column(Float)
    words: Mapped[int | None] = mapped_column(Integer)  # the suspect's words in it; NULL on older rows

    match: Mapped[MatchRow] = relationship(back_populates="passages")


class Review(Base):
    """A reviewer's decision on a match, kept as an audit trail (never updated in place)."""

    __tablename__ = "reviews"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # confirmed | dismissed | licensed | reopened
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    match: Mapped[MatchRow] = relationship(back_populates="reviews")
    user: Mapped[User | None] = relationship()


class AlertEvent(Base):
    """A webhook or e-mail alert: stored before sending so a failed delivery can be retried."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("org_id", "dedupe_key"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # new_unattributed_reuse
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    webhook_status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sent|failed|skipped
    email_status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
