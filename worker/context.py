"""Process-wide state of a worker (or of the web app's in-process tasks): settings and one registry.

Tasks receive ids, never objects, and load what they need through :func:`registry`, so a task runs the
same in a Celery worker process as in the calling process of the embedded default.
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

from checker.registry import Registry
from checker.settings import Settings

_lock = threading.Lock()
_registry: Registry | None = None
_write_locks: WeakKeyDictionary = WeakKeyDictionary()


def registry() -> Registry:
    """The process's registry, opened on first use from the environment's settings."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry(Settings.from_env())
        return _registry


def use(registry_: Registry | None) -> None:
    """Install a registry (the web app and tests share theirs with in-process tasks); None forgets it."""
    global _registry
    with _lock:
        _registry = registry_


def installed() -> Registry | None:
    """The registry installed (or opened) so far, without opening one."""
    with _lock:
        return _registry


def write_lock(registry_: Registry) -> threading.Lock:
    """The lock that lets one thread at a time register into ``registry_``'s index: the web app's request
    threads and the in-process import task (worker.import_tasks) take the same one."""
    with _lock:
        return _write_locks.setdefault(registry_, threading.Lock())
