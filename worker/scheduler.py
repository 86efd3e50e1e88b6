"""The embedded scheduler: Celery beat's work when there is no broker (the ``./scripts/run`` default).

With a broker, Celery beat sends the periodic tasks of :func:`worker.celery_app.create_celery`'s
``beat_schedule``. Without one there is no beat, so the dashboard's process runs this thread instead:
every ``CHECKER_SCHEDULER_TICK_S`` seconds it sends the same tasks through :func:`worker.dispatch.send`
(which runs them on the background threads), each at its beat interval. The tasks decide what is due
(:mod:`checker.monitoring` for watches), so a watch runs the same way in both setups.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

LOGGER = logging.getLogger(__name__)


class NamedTask(Protocol):
    """What the scheduler needs of a task: its name (a Celery task; a stand-in in tests)."""

    name: str


def periodic_tasks(tick: float) -> list[tuple[NamedTask, float]]:
    """``(task, every seconds)`` for each entry of Celery beat's schedule at this tick
    (:func:`worker.celery_app.periodic_schedule`), so the two setups cannot drift apart."""
    from celery import current_app

    import worker.app
    import worker.discovery_tasks
    import worker.tasks  # noqa: F401
    from worker.celery_app import periodic_schedule

    return [
        (current_app.tasks[entry["task"]], float(entry["schedule"]))
        for entry in periodic_schedule(tick).values()
    ]


class Scheduler:
    """A daemon thread sending every periodic task when it is due. ``tick`` is how often it looks;
    ``clock`` is injectable for tests."""

    def __init__(
        self,
        tick: float,
        send: Callable | None = None,
        clock: Callable[[], float] = time.monotonic,
        tasks: list[tuple[NamedTask, float]] | None = None,
    ) -> None:
        from worker import dispatch

        self.tick = max(float(tick), 0.05)
        self._send = send or dispatch.send
        self._clock = clock
        self._tasks = tasks if tasks is not None else periodic_tasks(self.tick)
        self._last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def run_pending(self) -> list[str]:
        """Send every task whose interval has passed since it was last sent (all of them on the first
        tick, as beat does); the names sent."""
        now = self._clock()
        sent = []
        for task, every in self._tasks:
            last = self._last.get(task.name)
            # Half a tick of slack: a task every 60 s on a 60 s tick runs every tick, not every other.
            if last is not None and now - last < every - self.tick / 2:
                continue
            self._last[task.name] = now
            try:
                self._send(task)
                sent.append(task.name)
            except Exception:  # one failing task must not stop the schedule
                LOGGER.exception("the scheduler could not send %s", task.name)
        self.ticks += 1
        return sent

    def start(self) -> Scheduler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="checker-scheduler", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        # The first look one tick after start: a process that starts and stops at once (a CLI command,
        # a test) sends nothing.
        while not self._stop.wait(self.tick):
            self.run_pending()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


_running: Scheduler | None = None


def start_embedded(tick: float) -> Scheduler:
    """Start this process's scheduler (once)."""
    global _running
    if _running is None:
        _running = Scheduler(tick).start()
    return _running


def stop_embedded() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None
