"""Bulk imports as tasks (issue 12): a dashboard upload is registered by a worker, not by the web
process that took it.

The upload is stored with its job (``import_jobs.payload``, :func:`checker.imports.create`), then this
task is sent through :mod:`worker.dispatch` like a scan: to a Celery worker on any machine when a broker
is configured, else run in the web process (on its background thread, or at once without one).

A run registers for :data:`SLICE_S` seconds (at most a quarter of the broker's visibility timeout),
storing its progress after every chunk, then sends the rest as a new task. So no run comes near the
visibility timeout (a message not acknowledged within it is delivered again: a long import would run
twice at once, and two runs of one job would each count its progress), the embedded background thread passes
from an import to other work between slices, and a worker that dies loses at most the chunk it was on.

Delivery: the app acknowledges late (``task_acks_late``, ``task_reject_on_worker_lost``,
:mod:`worker.celery_app`), and imports keep it: the message of a run whose worker died (kill -9, out of
memory) is delivered again, and the job resumes from its stored progress (articles registered twice are
skipped). A file that kills every worker is given up after :data:`checker.imports.MAX_ATTEMPTS` such runs.
Meanwhile, a job that has not moved for :data:`checker.imports.STALE_AFTER` reads as failed ("stopped",
upload again to resume); a later redelivery still finishes it. Imports write the index, so they go on the
default queue with scans, never on the crawl queue.
"""

from __future__ import annotations

import time

from celery import current_app, shared_task

from checker import imports
from checker.settings import WorkerSettings
from worker import context, dispatch

IMPORT_TASK = "worker.import_tasks.run_import"
# Seconds a run registers before it sends the rest of its job as a new task.
SLICE_S = 60.0


@shared_task(name=IMPORT_TASK)
def import_task(job_id: str) -> str:
    """Register the next slice of stored import ``job_id``; send the rest."""
    registry = context.registry()
    outcome = imports.run_stored(
        registry, job_id, context.write_lock(registry), until=time.monotonic() + slice_s()
    )
    if outcome == "more":
        send(job_id)
    return outcome


def slice_s() -> float:
    """Seconds a run registers: SLICE_S, or a quarter of the broker's visibility timeout if shorter."""
    options = current_app.conf.broker_transport_options or {}
    return min(SLICE_S, (options.get("visibility_timeout") or WorkerSettings.visibility_timeout_s) / 4)


def send(job_id: str) -> None:
    """Send the stored job's task (or run it in this process on the embedded default)."""
    dispatch.send(import_task, job_id)
