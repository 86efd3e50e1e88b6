"""Bulk registration from an uploaded JSONL or CSV file, with progress the dashboard can poll.

A job runs in the web process that took the upload; its progress is stored in the database
(:class:`checker.models.ImportJobRow`) after every chunk, so any web process (several gunicorn
workers) answers for it. A job whose process stopped (a restart, a crash) shows as failed, saying so,
once it has not moved for :data:`STALE_AFTER`; a re-upload resumes, because already registered articles
(same url, or same text without a url) are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checker.errors import CheckerError, InputError
from checker.models import ImportJobRow
from checker.jsonl import article_from_json, read_lines
from checker.records import ArticleIn
from checker.registry import Registry
from checker.textio import decode_bytes

LOGGER = logging.getLogger(__name__)

# Articles registered per step; progress is reported after each.
CHUNK = 50
# Line errors kept for the report (a broken file would otherwise fill memory with messages).
MAX_ERRORS = 200
# A running job whose progress has not moved for this long stopped with its process.
STALE_AFTER = timedelta(minutes=10)
# Why a job failed, by code; the numbers are filled in when the reason is read, in the reader's language.
REASONS = {
    "internal": _l("the import stopped after %(done)s of %(total)s articles because of an internal error; "
                   "upload the file again to resume (articles already registered are skipped)"),
    "stopped": _l("the import stopped after %(done)s of %(total)s articles when its server process stopped; "
                  "upload the file again to resume (articles already registered are skipped)"),
    "unreadable": _l("no line of the file could be read as an article (%(n)s line(s) with errors, listed below)"),
    "empty": _l("the file holds no articles"),
}
CSV_FIELDS = ("title", "url", "publisher", "license", "partners", "published_at", "text", "required_credit", "aliases")


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
    reason_params: dict = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def reason(self) -> str | None:
        """Why a failed job failed, in plain words (in the language of whoever reads it)."""
        if self.reason_code not in REASONS:
            return None
        params = {k: format(v, ",") if isinstance(v, int) else v for k, v in self.reason_params.items()}
        return str(REASONS[self.reason_code]) % params

    def fail(self, code: str, **params) -> None:
        self.status, self.reason_code, self.reason_params = "failed", code, params

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "filename": self.filename, "total": self.total,
                "processed": self.processed, "registered": self.registered, "skipped": self.skipped,
                "errors": self.error_count, "reason": self.reason,
                "percent": round(100 * self.processed / self.total) if self.total else 100}


_JOB_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex: anything else names no job (and never reaches the database)
_STORED = ("org_id", "filename", "total", "processed", "registered", "skipped", "error_count", "errors", "status",
           "reason_code", "reason_params", "started_at", "updated_at")


def storable(text: str) -> str:
    """``text`` as every database stores it: no NUL (PostgreSQL refuses it in text), no lone surrogate
    (no driver encodes one), each replaced by U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def save(Session, job: ImportJob) -> None:
    """Store the job's progress (its row is created by the first save). The file's name and the line
    errors come from the upload: they are stored cleaned (:func:`storable`)."""
    job.updated_at = datetime.now(timezone.utc)
    with Session.begin() as session:
        row = session.get(ImportJobRow, job.id) or ImportJobRow(id=job.id)
        for name in _STORED:
            setattr(row, name, getattr(job, name))
        row.filename = storable(job.filename)[:300]
        row.errors = [storable(e) for e in job.errors]
        session.merge(row)


def load(session, job_id: str, now: datetime | None = None) -> ImportJob | None:
    """The stored job ``job_id`` (None if there is none). A running job that has not moved for
    STALE_AFTER stopped with its process, and reads as failed, saying so."""
    row = session.get(ImportJobRow, job_id) if _JOB_ID.fullmatch(job_id) else None
    if row is None:
        return None
    job = ImportJob(id=row.id, **{name: getattr(row, name) for name in _STORED})
    job.errors, job.reason_params = list(job.errors or []), dict(job.reason_params or {})
    if job.status == "running" and (now or datetime.now(timezone.utc)) - job.updated_at > STALE_AFTER:
        job.fail("stopped", done=job.processed, total=job.total)
    return job


def parse_upload(data: bytes, filename: str, max_chars: int, job: ImportJob) -> list[ArticleIn]:
    """Articles from a JSONL (one object a line) or CSV (header row, PRODUCT.md field names) upload;
    bad lines are recorded on ``job`` and skipped."""
    is_csv = filename.lower().endswith(".csv")
    records = (_csv_records(data, max_chars) if is_csv else
               ((ln.number, ln.value, ln.error) for ln in read_lines(io.BytesIO(data))))
    out = []
    for number, value, error in records:
        if error:
            job.error(error)
            continue
        try:
            out.append(article_from_json(value, number, max_chars))
        except InputError as exc:
            job.error(str(exc))
    return out


def _csv_records(data: bytes, max_chars: int):
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
        missing = {"text"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(_("the CSV header needs a 'text' column (columns: %(columns)s)",
                               columns=", ".join(CSV_FIELDS)))
        for n, row in enumerate(reader, start=2):
            value = {k: (v if v is not None else None) for k, v in row.items() if k in CSV_FIELDS}
            partners = value.get("partners") or ""
            value["partners"] = [p for p in partners.replace(",", " ").replace(";", " ").split() if p]
            value["aliases"] = [a.strip() for a in (value.get("aliases") or "").split(";") if a.strip()]
            yield n, value, None
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            reason = _("a field is longer than %(n)s characters, the most an article may have", n=format(max_chars, ","))
        else:
            reason = str(exc)
        raise InputError(_("the CSV file cannot be read at line %(line)s: %(reason)s; nothing was registered",
                           line=format(reader.line_num, ","), reason=reason)) from None


def run(job: ImportJob, articles: list[ArticleIn], registry: Registry, lock: threading.Lock) -> None:
    """Register ``articles`` in chunks, storing ``job``'s progress after each."""
    try:
        for i in range(0, len(articles), CHUNK):
            chunk = articles[i:i + CHUNK]
            try:
                with lock:
                    outcomes = registry.register_many(chunk, skip_existing=True, org_id=job.org_id)
            except CheckerError:
                outcomes = _one_by_one(job, chunk, registry, lock)
            job.registered += sum(1 for o in outcomes if not o.existing)
            job.skipped += sum(1 for o in outcomes if o.existing)
            job.processed += len(chunk)
            if job.processed < job.total:
                save(registry.Session, job)
        job.status = "done"
    except Exception:  # noqa: BLE001 - the job page says it failed; the log has the traceback
        LOGGER.exception("import %s failed", job.id)
        job.fail("internal", done=job.processed, total=job.total)
    try:
        save(registry.Session, job)
    except Exception:  # noqa: BLE001 - the database is gone: the job reads as stopped after STALE_AFTER
        LOGGER.exception("could not store the end of import %s", job.id)


def _one_by_one(job: ImportJob, chunk: list[ArticleIn], registry: Registry, lock: threading.Lock):
    """A chunk with an invalid article: register the others and name the bad one."""
    outcomes = []
    for article in chunk:
        try:
            with lock:
                outcomes.extend(registry.register_many([article], skip_existing=True, org_id=job.org_id))
        except CheckerError as exc:
            job.error(f"{article.title[:80]!r}: {exc}")
    return outcomes


def start(data: bytes, filename: str, *, org_id: int, registry: Registry, lock: threading.Lock,
          background: bool) -> ImportJob:
    """Parse the upload, store the job, and register its articles (on a thread of their own with
    ``background``); the job as it stands."""
    job = ImportJob(id=uuid.uuid4().hex, org_id=org_id, filename=filename[:300])
    articles = parse_upload(data, filename, registry.settings.max_text_chars, job)
    job.total = len(articles)
    if not articles:
        if job.error_count:
            job.fail("unreadable", n=job.error_count)
        else:
            job.fail("empty")
        save(registry.Session, job)
        return job
    save(registry.Session, job)
    if background:
        threading.Thread(target=run, args=(job, articles, registry, lock), daemon=True,
                         name=f"import-{job.id[:8]}").start()
    else:
        run(job, articles, registry, lock)
    return job
