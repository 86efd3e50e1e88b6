"""SQLAlchemy 2.0 models: the registry of articles, and scans with their matches and passages.

The database is the source of truth; the passage index is derived from ``articles.text`` and can be
rebuilt from it at any time (``checker index rebuild``). ``fingerprint_version`` records which
fingerprint scheme an article's index entries were made with.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite would drop the offset and keep
    the wall-clock time, so 10:00+07:00 would come back as 10:00 UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Article(Base):
    __tablename__ = "articles"
    # AUTOINCREMENT: SQLite must never reuse a deleted article's id, or stale index entries and old
    # matches would point at the wrong article.
    __table_args__ = (Index("ix_articles_text_sha256", "text_sha256"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000), index=True)
    publisher: Mapped[str | None] = mapped_column(String(300), index=True)
    license: Mapped[str] = mapped_column(String(200), default="all-rights-reserved")
    partners: Mapped[list] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Scan(Base):
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    verdict: Mapped[str | None] = mapped_column(String(30), index=True)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]

    matches: Mapped[list[MatchRow]] = relationship(
        back_populates="scan", cascade="all, delete-orphan", order_by="MatchRow.score.desc()"
    )


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
    attributed: Mapped[bool]
    licensed: Mapped[bool]
    explanation: Mapped[str] = mapped_column(Text, default="")

    scan: Mapped[Scan] = relationship(back_populates="matches")
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

    match: Mapped[MatchRow] = relationship(back_populates="passages")
