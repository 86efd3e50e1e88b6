"""Bulk imports as jobs: a file of articles registered in chunks, its progress in the database.

Every import is a job stored in ``import_jobs`` (:class:`checker.models.ImportJobRow`), whoever runs
it: a dashboard upload runs as a task (``worker.import_tasks``: a Celery worker when a broker is
configured, else in the web process), ``checker import`` in the command itself. Any web process and
the CLI (``checker imports``) read the same progress.

An upload is checked whole before anything is registered (a file the dashboard refuses stores nothing);
the file itself is stored with its job until the job ends, so a worker on another machine reads it from
the database. A worker registers for a slice of time, stores its progress after every chunk, then sends
the rest as a new task: a job resumes from its stored progress when its worker died, and a job whose
runner stopped for good (nothing moved for :data:`STALE_AFTER`) reads as failed, saying so. Already
registered articles (same url, or same text without a url) are skipped, so a re-upload resumes too.

Flask- and Celery-free: messages are English here; the dashboard says them in the reader's language
by their codes (``web/imports.py``).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker, undefer

from checker.errors import CheckerError, InputError
from checker.jsonl import article_from_json, read_lines
from checker.models import ImportJobRow
from checker.records import ARTICLE_FIELDS, ArticleIn
from checker.textio import decode_bytes

if TYPE_CHECKING:
    from checker.registry import Registered, Registry

LOGGER = logging.getLogger(__name__)

# Articles registered per step; progress is stored after each.
CHUNK = 50
# Line errors kept for the report (a broken file would otherwise fill memory with messages).
MAX_ERRORS = 200
# A running job whose progress has not moved for this long stopped with its process.
STALE_AFTER = timedelta(minutes=10)
# Runs of a job that started and never stored the end of their slice (their worker died, e.g. killed
# by a file too large for its memory): the job is given up at the next start, so such a file cannot
# take down worker after worker as its message is delivered again.
MAX_ATTEMPTS = 3
# Longest stored file name (the column's size); its extension is kept, it says how to read the file.
MAX_NAME = 300
# Why a job failed, by code; the numbers are filled in when the reason is read. The dashboard has the
# same texts translated (web/imports.py).
REASONS = {
    "internal": "the import stopped after %(done)s of %(total)s articles because of an internal error; "
    "upload the file again to resume (articles already registered are skipped)",
    "stopped": "the import stopped after %(done)s of %(total)s articles when its server process stopped; "
    "upload the file again to resume (articles already registered are skipped)",
    "unreadable": "no line of the file could be read as an article (%(n)s line(s) with errors, listed below)",
    "empty": "the file holds no articles",
}
CSV_FIELDS = ARTICLE_FIELDS


class ImportFileError(InputError):
    """A file refused whole, before anything is registered; ``code`` and ``params`` let the dashboard
    say it in the reader's language."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "csv_header": "the CSV header needs a 'text' column (columns: %(columns)s)",
        "csv_line": "the CSV file cannot be read at line %(line)s: %(reason)s; nothing was registered",
        "csv_field": "the CSV file cannot be read at line %(line)s: a field is longer than %(n)s characters, "
        "the most an article may have; nothing was registered",
    }

    def __init__(self, code: str, **params: str) -> None:
        self.code, self.params = code, params
        super().__init__(self.MESSAGES[code] % params)


@dataclass
class ImportJob:
    id: str
    org_id: int
    filename: str
    total: int = 0
    processed: int = 0
    registered: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    status: str = "running"  # running | done | failed
    reason_code: str | None = None  # a key of REASONS
    reason_params: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    # The reasons' texts; the dashboard's subclass has them in the reader's language.
    reasons: ClassVar[Mapping[str, object]] = REASONS

    @property
    def reason(self) -> str | None:
        """Why a failed job failed, in plain words."""
        if self.reason_code is None or self.reason_code not in self.reasons:
            return None
        params = {k: format(v, ",") if isinstance(v, int) else v for k, v in self.reason_params.items()}
        return str(self.reasons[self.reason_code]) % params

    def fail(self, code: str, **params: object) -> None:
        self.status, self.reason_code, self.reason_params = "failed", code, params

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "filename": self.filename,
            "total": self.total,
            "processed": self.processed,
            "registered": self.registered,
            "skipped": self.skipped,
            "errors": self.error_count,
            "reason": self.reason,
            "percent": round(100 * self.processed / self.total) if self.total else 100,
        }


_JOB_ID = re.compile(
    r"[0-9a-f]{32}"
)  # uuid4().hex: anything else names no job (and never reaches the database)
_STORED = (
    "org_id",
    "filename",
    "total",
    "processed",
    "registered",
    "skipped",
    "error_count",
    "errors",
    "status",
    "reason_code",
    "reason_params",
    "started_at",
    "updated_at",
)


def storable(text: str) -> str:
    """``text`` as every database stores it: no NUL (PostgreSQL refuses it in text), no lone surrogate
    (no driver encodes one), each replaced by U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def short_name(name: str) -> str:
    """``name`` cut to MAX_NAME characters, keeping its extension (a worker reads the stored file by it)."""
    if len(name) <= MAX_NAME:
        return name
    ext = os.path.splitext(name)[1][:10]
    return name[: MAX_NAME - len(ext)] + ext


# An ImportJob or a subclass of it (the dashboard's says its reasons in the reader's language).
J = TypeVar("J", bound=ImportJob)


@overload
def new_job(org_id: int, filename: str) -> ImportJob: ...
@overload
def new_job(org_id: int, filename: str, cls: type[J]) -> J: ...
def new_job(org_id: int, filename: str, cls: type[ImportJob] = ImportJob) -> ImportJob:
    return cls(id=uuid.uuid4().hex, org_id=org_id, filename=short_name(filename))


def save(Session: sessionmaker[Session], job: ImportJob, payload: bytes | None = None) -> None:
    """Store the job's progress (its row is created by the first save, with the uploaded ``payload``
    when given); a job that ended drops its payload and its count of runs. The file's name and the line errors come from the
    upload: they are stored cleaned (:func:`storable`)."""
    job.updated_at = datetime.now(UTC)
    with Session.begin() as session:
        row = session.get(ImportJobRow, job.id)
        if row is None:
            row = ImportJobRow(id=job.id, attempts=0)
            session.add(row)
        for name in _STORED:
            setattr(row, name, getattr(job, name))
        row.filename = storable(job.filename)[:MAX_NAME]
        row.errors = [storable(e) for e in job.errors]
        if payload is not None:
            row.payload = payload
        elif job.status != "running":  # ended: no run left to count
            row.payload, row.attempts = None, 0


def _job(row: ImportJobRow, now: datetime, cls: type[J]) -> J:
    job = cls(id=row.id, **{name: getattr(row, name) for name in _STORED})
    job.errors, job.reason_params = list(job.errors or []), dict(job.reason_params or {})
    if job.status == "running" and now - job.updated_at > STALE_AFTER:
        job.fail("stopped", done=job.processed, total=job.total)
    return job


@overload
def load(session: Session, job_id: str, now: datetime | None = None) -> ImportJob | None: ...
@overload
def load(session: Session, job_id: str, now: datetime | None = None, *, cls: type[J]) -> J | None: ...
def load(
    session: Session, job_id: str, now: datetime | None = None, cls: type[ImportJob] = ImportJob
) -> ImportJob | None:
    """The stored job ``job_id`` (None if there is none). A running job that has not moved for
    STALE_AFTER stopped with its process, and reads as failed, saying so."""
    row = session.get(ImportJobRow, job_id) if _JOB_ID.fullmatch(job_id) else None
    if row is None:
        return None
    return _job(row, now or datetime.now(UTC), cls)


@overload
def list_jobs(session: Session, org_id: int, limit: int = 20) -> list[ImportJob]: ...
@overload
def list_jobs(session: Session, org_id: int, limit: int = 20, *, cls: type[J]) -> list[J]: ...
def list_jobs(
    session: Session, org_id: int, limit: int = 20, cls: type[ImportJob] = ImportJob
) -> Sequence[ImportJob]:
    """The organisation's newest ``limit`` jobs, newest first (stopped ones read as failed, as in :func:`load`)."""
    now = datetime.now(UTC)
    rows = session.scalars(
        select(ImportJobRow)
        .where(ImportJobRow.org_id == org_id)
        .order_by(ImportJobRow.started_at.desc(), ImportJobRow.id)
        .limit(limit)
    )
    return [_job(row, now, cls) for row in rows]


# -- reading a file -------------------------------------------------------------------------------
def parse_upload(data: bytes, filename: str, max_chars: int, job: ImportJob) -> list[ArticleIn]:
    """Articles from a JSONL (one object a line) or CSV (header row, PRODUCT.md field names) upload;
    bad lines are recorded on ``job`` and skipped. A file that cannot be read at all raises InputError."""
    is_csv = filename.lower().endswith(".csv")
    records: Iterable[tuple[int, dict[str, Any] | None, str | None]] = (
        _csv_records(data, max_chars)
        if is_csv
        else ((ln.number, ln.value, ln.error) for ln in read_lines(io.BytesIO(data)))
    )
    out: list[ArticleIn] = []
    for number, value, error in records:
        if error:
            job.error(error)
            continue
        assert value is not None  # a line without an error has its value (checker.jsonl.read_lines)
        try:
            out.append(article_from_json(value, number, max_chars))
        except InputError as exc:
            job.error(str(exc))
    return out


def _csv_records(data: bytes, max_chars: int) -> Iterator[tuple[int, dict[str, Any], None]]:
    """``(line, fields, None)`` per CSV row. A file the csv module cannot read (a field longer than an
    article may be, a stray quote at the end) is refused whole with the line, before anything is
    registered: the rows after a malformed one cannot be trusted to be the rows the user wrote."""
    # csv refuses fields over field_size_limit() (131,072 by default, process-wide): a long article
    # is one field, so the limit is raised to the longest text an article may have. Only ever raised.
    if csv.field_size_limit() < max_chars + 1:
        csv.field_size_limit(max_chars + 1)
    text = decode_bytes(data, "the CSV file")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if "text" not in set(reader.fieldnames or ()):
            raise ImportFileError("csv_header", columns=", ".join(CSV_FIELDS))
        for n, row in enumerate(reader, start=2):
            value: dict[str, Any] = {
                k: (v if v is not None else None) for k, v in row.items() if k in CSV_FIELDS
            }
            partners = value.get("partners") or ""
            value["partners"] = [p for p in partners.replace(",", " ").replace(";", " ").split() if p]
            value["aliases"] = [a.strip() for a in (value.get("aliases") or "").split(";") if a.strip()]
            yield n, value, None
    except csv.Error as exc:
        line = format(reader.line_num, ",")
        if "field larger than field limit" in str(exc):
            raise ImportFileError("csv_field", line=line, n=format(max_chars, ",")) from None
        raise ImportFileError("csv_line", line=line, reason=str(exc)) from None


@overload
def create(
    Session: sessionmaker[Session], data: bytes, filename: str, *, org_id: int, max_chars: int
) -> ImportJob: ...
@overload
def create(
    Session: sessionmaker[Session], data: bytes, filename: str, *, org_id: int, max_chars: int, cls: type[J]
) -> J: ...
def create(
    Session: sessionmaker[Session],
    data: bytes,
    filename: str,
    *,
    org_id: int,
    max_chars: int,
    cls: type[ImportJob] = ImportJob,
) -> ImportJob:
    """Check the upload whole and store its job with the file, ready for :func:`run_stored`; a file
    refused whole raises InputError and stores nothing. A file without one readable article is stored
    as a failed job, saying why (its lines' errors listed)."""
    job = new_job(org_id, filename, cls)
    job.total = len(parse_upload(data, job.filename, max_chars, job))
    if not job.total:
        if job.error_count:
            job.fail("unreadable", n=job.error_count)
        else:
            job.fail("empty")
        save(Session, job)
        return job
    save(Session, job, payload=data)
    return job


# -- registering ----------------------------------------------------------------------------------
def register(
    job: ImportJob,
    articles: list[ArticleIn],
    registry: Registry,
    lock: threading.Lock,
    until: float | None = None,
) -> bool:
    """Register ``articles`` from ``job.processed`` on, a chunk at a time, storing ``job``'s progress
    after each; stop after the chunk that passes ``until`` (``time.monotonic()``). True when all are done."""
    for i in range(job.processed, len(articles), CHUNK):
        chunk = articles[i : i + CHUNK]
        try:
            with lock:
                outcomes = registry.register_many(chunk, skip_existing=True, org_id=job.org_id)
        except CheckerError:
            outcomes = _one_by_one(job, chunk, registry, lock)
        job.registered += sum(1 for o in outcomes if not o.existing)
        job.skipped += sum(1 for o in outcomes if o.existing)
        job.processed += len(chunk)
        save(registry.Session, job)
        if until is not None and time.monotonic() >= until and job.processed < len(articles):
            return False
    return True


def _one_by_one(
    job: ImportJob, chunk: list[ArticleIn], registry: Registry, lock: threading.Lock
) -> list[Registered]:
    """A chunk with an invalid article: register the others and name the bad one."""
    outcomes: list[Registered] = []
    for article in chunk:
        try:
            with lock:
                outcomes.extend(registry.register_many([article], skip_existing=True, org_id=job.org_id))
        except CheckerError as exc:
            job.error(f"{article.title[:80]!r}: {exc}")
    return outcomes


def claim(Session: sessionmaker[Session], job_id: str) -> tuple[ImportJob, bytes] | None:
    """Start a run of the stored job: the job and its file, or None when there is nothing to run (the
    job ended; a message delivered twice). The job's ``attempts`` count the runs that did not finish
    their slice; one started with MAX_ATTEMPTS of them is given up, failed as stopped."""
    with Session.begin() as session:
        row = (
            session.execute(
                select(ImportJobRow)
                .where(ImportJobRow.id == job_id)
                .options(undefer(ImportJobRow.payload))
                .with_for_update()
            ).scalar_one_or_none()
            if _JOB_ID.fullmatch(job_id)
            else None
        )
        if row is None or row.status != "running" or row.payload is None:
            return None
        job = _job(row, datetime.min.replace(tzinfo=UTC), ImportJob)  # never stale here: it runs now
        if (row.attempts or 0) >= MAX_ATTEMPTS:
            LOGGER.error(
                "import %s given up: %s runs stopped before the end of their slice", job_id, row.attempts
            )
            job.fail("stopped", done=job.processed, total=job.total)
            row.status, row.reason_code, row.reason_params = job.status, job.reason_code, job.reason_params
            row.payload, row.updated_at = None, datetime.now(UTC)  # attempts kept: they say why
            return None
        row.attempts = (row.attempts or 0) + 1
        row.updated_at = datetime.now(UTC)  # moving again: no longer read as stopped
        return job, row.payload


def run_stored(registry: Registry, job_id: str, lock: threading.Lock, until: float | None = None) -> str:
    """Run a slice of stored job ``job_id`` (until ``until``, ``time.monotonic()``): ``"done"``,
    ``"failed"``, ``"more"`` (the caller sends the rest as a new run) or ``"nothing"``."""
    claimed = claim(registry.Session, job_id)
    if claimed is None:
        return "nothing"
    job, payload = claimed
    try:
        articles = parse_upload(
            payload, job.filename, registry.settings.max_text_chars, ImportJob(job.id, 0, "")
        )
        job.total = len(articles)  # the same file read the same way: the count the upload stored
        if not register(job, articles, registry, lock, until):
            _end_slice(registry.Session, job_id)
            return "more"
        job.status = "done"
    except Exception:  # the job page says it failed; the log has the traceback
        LOGGER.exception("import %s failed", job.id)
        job.fail("internal", done=job.processed, total=job.total)
    try:
        save(registry.Session, job)
    except Exception:  # the database is gone: the job reads as stopped after STALE_AFTER
        LOGGER.exception("could not store the end of import %s", job.id)
    return job.status


def _end_slice(Session: sessionmaker[Session], job_id: str) -> None:
    """The run stopped on time, not by dying: it does not count against the job."""
    with Session.begin() as session:
        session.execute(update(ImportJobRow).where(ImportJobRow.id == job_id).values(attempts=0))
