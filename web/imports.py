"""Bulk registration from an uploaded JSONL or CSV file, with progress the dashboard can poll.

The upload is read whole here, so a file that cannot be used is refused at once (nothing stored); the
job is then stored with the file and registered by a task (:mod:`worker.import_tasks`: a Celery worker
when a broker is configured, else this process). Its progress is in the database
(:mod:`checker.imports`), so every web process and the CLI answer for it; a job whose runner stopped
shows as failed, saying so, once it has not moved for :data:`STALE_AFTER`; a re-upload resumes, because
already registered articles (same url, or same text without a url) are skipped.

This module puts the job's words in the reader's language: :mod:`checker.imports` says them in English.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checker import imports as core
from checker.errors import InputError
from checker.imports import CHUNK, STALE_AFTER  # noqa: F401 - read by the dashboard and tests, as before
from checker.registry import Registry

# Why a job failed, by code (checker.imports.REASONS, translated); the numbers are filled in when the
# reason is read, in the reader's language.
REASONS = {
    "internal": _l(
        "the import stopped after %(done)s of %(total)s articles because of an internal error; "
        "upload the file again to resume (articles already registered are skipped)"
    ),
    "stopped": _l(
        "the import stopped after %(done)s of %(total)s articles when its server process stopped; "
        "upload the file again to resume (articles already registered are skipped)"
    ),
    "unreadable": _l(
        "no line of the file could be read as an article (%(n)s line(s) with errors, listed below)"
    ),
    "empty": _l("the file holds no articles"),
}


class ImportJob(core.ImportJob):
    """A job whose reason reads in the reader's language."""

    reasons = REASONS


def load(session, job_id: str, now=None) -> ImportJob | None:
    """The stored job ``job_id`` (None if there is none); see :func:`checker.imports.load`."""
    return core.load(session, job_id, now, cls=ImportJob)


def recent(session, org_id: int, limit: int = 10) -> list[ImportJob]:
    """The organisation's newest jobs, dashboard uploads and ``checker import`` runs alike."""
    return core.list_jobs(session, org_id, limit, cls=ImportJob)


def start(data: bytes, filename: str, *, org_id: int, registry: Registry) -> ImportJob:
    """Check the upload, store its job with the file, and send its task; the job as it stands. A file
    refused whole raises InputError (say it with :func:`message`)."""
    from worker import import_tasks

    job = core.create(
        registry.Session,
        data,
        filename,
        org_id=org_id,
        max_chars=registry.settings.max_text_chars,
        cls=ImportJob,
    )
    if job.status == "running":
        import_tasks.send(job.id)
    return job


def message(exc: InputError) -> str:
    """Why a file was refused, in the reader's language."""
    if not isinstance(exc, core.ImportFileError):
        return str(exc)
    if exc.code == "csv_header":
        return _("the CSV header needs a 'text' column (columns: %(columns)s)", **exc.params)
    reason = (
        _("a field is longer than %(n)s characters, the most an article may have", n=exc.params["n"])
        if exc.code == "csv_field"
        else exc.params["reason"]
    )
    return _(
        "the CSV file cannot be read at line %(line)s: %(reason)s; nothing was registered",
        line=exc.params["line"],
        reason=reason,
    )
