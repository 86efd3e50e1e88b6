"""Bulk registration from an uploaded JSONL or CSV file, with progress the dashboard can poll.

A job lives in the process that runs it (the embedded default has one); a re-upload after a restart
resumes, because already registered articles (same url, or same text without a url) are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checker.errors import CheckerError, InputError
from checker.jsonl import article_from_json, read_lines
from checker.records import ArticleIn
from checker.registry import Registry
from checker.textio import decode_bytes

LOGGER = logging.getLogger(__name__)

# Articles registered per step; progress is reported after each.
CHUNK = 50
# Line errors kept for the report (a broken file would otherwise fill memory with messages).
MAX_ERRORS = 200
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
    reason: str | None = None  # why a failed job failed, in plain words (lazy: in the reader's language)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "filename": self.filename, "total": self.total,
                "processed": self.processed, "registered": self.registered, "skipped": self.skipped,
                "errors": self.error_count, "reason": str(self.reason) if self.reason else None, "percent": round(100 * self.processed / self.total) if self.total else 100}


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
    """Register ``articles`` in chunks, updating ``job`` as it goes."""
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
        job.status = "done"
    except Exception:  # noqa: BLE001 - the job page says it failed; the log has the traceback
        LOGGER.exception("import %s failed", job.id)
        job.reason = _l("the import stopped after %(done)s of %(total)s articles because of an internal error; "
                        "upload the file again to resume (articles already registered are skipped)",
                        done=format(job.processed, ","), total=format(job.total, ","))
        job.status = "failed"


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


def start(jobs: dict[str, ImportJob], data: bytes, filename: str, *, org_id: int, registry: Registry,
          lock: threading.Lock, background: bool) -> ImportJob:
    job = ImportJob(id=uuid.uuid4().hex, org_id=org_id, filename=filename)
    articles = parse_upload(data, filename, registry.settings.max_text_chars, job)
    job.total = len(articles)
    jobs[job.id] = job
    if not articles:
        job.reason = (_l("no line of the file could be read as an article (%(n)s line(s) with errors, listed below)",
                         n=format(job.error_count, ",")) if job.error_count else _l("the file holds no articles"))
        job.status = "failed"
        return job
    if background:
        threading.Thread(target=run, args=(job, articles, registry, lock), daemon=True,
                         name=f"import-{job.id[:8]}").start()
    else:
        run(job, articles, registry, lock)
    return job
