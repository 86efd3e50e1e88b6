"""The Celery application, configured from :class:`checker.settings.Settings`.

Reliability settings and why:
- ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged only after it ran, so a
  worker killed mid-scan (OOM, ``kill -9``) leaves the message to be delivered to another worker.
- ``worker_prefetch_multiplier=1``: scans and crawls are long; a worker reserves one at a time.
- ``visibility_timeout`` (Redis transport): a message not acknowledged within it is delivered again.
  It must exceed the longest task and any countdown, or tasks run twice; ours is 2 h against a
  crawl cap of 30 min and retry countdowns of at most 10 min.
- No result backend: scan state lives in our own tables (``checker.scans``).
- Time limits: a scan gets ``CHECKER_SCAN_SOFT_TIME_LIMIT`` seconds (default 300; the task then ends
  the scan ``failed``, saying it took too long) and is killed at ``CHECKER_SCAN_TIME_LIMIT`` (default
  330; the worker's parent process then marks it failed), as read by the worker at start
  (:func:`apply_scan_time_limits`). Celery enforces them only in a worker's prefork pool (the
  default pool), not with ``--pool=solo`` or threads, and not on the embedded default, where the
  bound on a scan is the work itself: linear-time text processing on a page of at most 5 MB,
  fetches with timeouts (see docs/fairness.md).
- Two queues: scans and short tasks on ``checker``, crawls and discovery (long tasks) on ``checker-crawl``,
  so crawls never hold the scan workers (compose runs a ``crawler`` service for them). A worker
  started without ``-Q`` consumes both.
- Without ``CHECKER_BROKER_URL``, tasks run eagerly in the calling process (the embedded default).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import Token

from celery import Celery, signals
from kombu import Queue

from checker import logcontext
from checker.settings import Settings, WorkerSettings
from checker.store import private_umask

# Longest a crawl task may run (soft limit raises inside the task; hard limit kills it).
CRAWL_SOFT_LIMIT_S = 30 * 60
# Beat (and the embedded scheduler, worker.scheduler): due watches, articles due for discovery and
# daily alert digests are looked for every CHECKER_SCHEDULER_TICK_S (default a minute); stuck scans
# every 5 minutes.
SWEEP_EVERY_S = 5 * 60
QUEUE = "checker"
CRAWL_QUEUE = "checker-crawl"


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


@signals.worker_init.connect
@signals.beat_init.connect
def _private_files(**_kwargs) -> None:
    """What a worker or beat writes (a local index, beat's schedule file) is its owner's only."""
    private_umask()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _log_format(logger=None, **_kwargs) -> None:
    """``CHECKER_LOG_FORMAT=json``: a worker's and beat's log lines are JSON objects too, with the scan
    a line is about (checker.logcontext); Celery has just given ``logger`` its handlers."""
    logcontext.configure(logger=logger)


_task_tokens: dict[str, Token[Mapping[str, object]]] = {}


@signals.task_prerun.connect
def _bind_task(task_id=None, **_kwargs) -> None:
    """Every task's log lines name it (``task_id``, checker.logcontext), in a worker and in-process."""
    if task_id is not None:
        _task_tokens[task_id] = logcontext.bind(task_id=task_id)


@signals.task_postrun.connect
def _unbind_task(task_id=None, **_kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:  # prerun and postrun run on the task's thread, so in the context it was bound in
        logcontext.unbind(token)


@signals.worker_ready.connect
def _serve_metrics(sender=None, **_kwargs) -> None:
    """``CHECKER_WORKER_METRICS_PORT``: serve this worker's metrics (worker.metrics), from its main
    process, once it is ready to take tasks."""
    from celery.concurrency.prefork import TaskPool

    from worker.metrics import serve_from_env

    pool = getattr(getattr(sender, "controller", None), "pool_cls", None)
    serve_from_env(forks=isinstance(pool, type) and issubclass(pool, TaskPool))


def periodic_schedule(tick_s: float) -> dict[str, dict]:
    """Celery beat's schedule, and the embedded scheduler's (worker.scheduler): name -> task, seconds."""
    return {
        "monitor-watches": {"task": "worker.tasks.monitor_due", "schedule": tick_s},
        "discover-articles": {"task": "worker.discovery_tasks.discover_due", "schedule": tick_s},
        "alert-digests": {"task": "worker.tasks.send_digests", "schedule": tick_s},
        "sweep-stuck-scans": {"task": "worker.tasks.sweep_stuck", "schedule": max(SWEEP_EVERY_S, tick_s)},
    }


def create_celery(settings: Settings | None = None, *, set_as_current: bool = True) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery(
        "checker",
        include=["worker.tasks", "worker.discovery_tasks", "worker.import_tasks"],
        set_as_current=set_as_current,
    )
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
        task_queues=(Queue(QUEUE, routing_key=QUEUE), Queue(CRAWL_QUEUE, routing_key=CRAWL_QUEUE)),
        # Crawls and discovery (long, mostly waiting on other sites; they only queue scans) on the crawl queue.
        task_routes={
            name: {"queue": CRAWL_QUEUE, "routing_key": CRAWL_QUEUE}
            for name in ("worker.tasks.crawl", "worker.discovery_tasks.*")
        },
        # The settings this app was made from: worker.dispatch reads the database and the broker's
        # Redis through them when it sends scans fairly (docs/fairness.md).
        checker_settings=settings,
        broker_transport_options=transport_options(settings.worker.visibility_timeout_s),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=periodic_schedule(settings.scheduler_tick_s),
    )
    return app


def celery_init_app(app, settings: Settings) -> Celery:
    """Flask's Celery pattern: the web app's factory makes its Celery app from the web app's own
    settings, makes it the default for tasks this process sends (shared tasks use the default app)
    and keeps it in ``app.extensions["celery"]``. So a dashboard created with other settings than the
    environment's (its tests, a second site) sends to its own broker, or runs tasks in-process
    without one. (Flask's recipe also wraps each task in an app context; our tasks take what they
    need from ``worker.context``, never from Flask.)"""
    import worker.app  # noqa: F401 - the environment's app, made the default on import: replaced here

    celery = create_celery(settings, set_as_current=False)  # not this thread's only: every thread's
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


@signals.worker_init.connect
def apply_scan_time_limits(sender=None, **_) -> None:
    """A worker enforces its own environment's scan time limits. They are set on the task in the
    worker's main process (whose pool enforces them), not at app creation: a sender embeds its task's
    limits in every message, and the web process's environment should not decide them."""
    soft, hard = WorkerSettings.from_env().scan_time_limits
    task = sender.app.tasks["worker.tasks.scan"]
    task.soft_time_limit, task.time_limit = soft, hard
