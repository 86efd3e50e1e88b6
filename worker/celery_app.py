"""The Celery application, configured from :class:`checker.settings.Settings`.

Reliability settings and why:
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged only after it ran, so a
  worker killed mid-scan (OOM, ``kill -9``) leaves the message to be delivered to another worker.
- ``worker_prefetch_multiplier=1``: scans and crawls are long; a worker reserves one at a time.
- ``visibility_timeout`` (Redis transport): a message not acknowledged within it is delivered again.
  It must exceed the longest task and any countdown, or tasks run twice; ours is 2 h against a
  crawl cap of 30 min and retry countdowns of at most 10 min.
- No result backend: scan state lives in our own tables (``checker.scans``).
- Without ``CHECKER_BROKER_URL``, tasks run eagerly in the calling process (the embedded default).
"""

from __future__ import annotations

from celery import Celery

from checker.settings import Settings

VISIBILITY_TIMEOUT_S = 2 * 60 * 60
# Longest a crawl task may run (soft limit raises inside the task; hard limit kills it).
CRAWL_SOFT_LIMIT_S = 30 * 60
# Beat: due watches are looked for every minute; stuck scans every 5 minutes.
MONITOR_EVERY_S = 60
SWEEP_EVERY_S = 5 * 60
QUEUE = "checker"


def visibility_timeout(settings: Settings) -> int:
    """``CHECKER_VISIBILITY_TIMEOUT`` seconds (tests shorten it to see redelivery), else the default."""
    import os

    return int(os.environ.get("CHECKER_VISIBILITY_TIMEOUT") or VISIBILITY_TIMEOUT_S)


def transport_options(visibility: int) -> dict:
    """Redis transport options. Unacknowledged messages are looked for every ``interval x throttle``
    seconds (kombu's default 10 x 10); with a short visibility timeout (tests) look every second, so
    a killed worker's task is redelivered soon after the timeout rather than minutes later."""
    short = visibility < 600
    return {
        "visibility_timeout": visibility,
        "unacked_restore_interval": 1 if short else 10,
        "unacked_restore_throttle": 1 if short else 10,
    }


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery("checker", include=["worker.tasks"])
    app.conf.update(
        broker_url=settings.broker_url or "memory://localhost/",
        task_always_eager=settings.broker_url is None,
        task_eager_propagates=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=QUEUE,
        broker_transport_options=transport_options(visibility_timeout(settings)),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "monitor-watches": {"task": "worker.tasks.monitor_due", "schedule": MONITOR_EVERY_S},
            "sweep-stuck-scans": {"task": "worker.tasks.sweep_stuck", "schedule": SWEEP_EVERY_S},
        },
    )
    return app
