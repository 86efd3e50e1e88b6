"""When this process may fork helper processes, and how many are worth having.

Forked helpers start in milliseconds and share the parent's memory (the memory-mapped index pages, the
lexicon), which is why the scan pool and the registration pool use ``fork``. It is used only where it is
safe: a platform with ``fork``, a process with no other thread yet (forking a threaded process can leave
a lock held in the child, so the dashboard never forks), and not a daemon (Celery's prefork children may
not have children). Anywhere else the work is done in this process, one item after another.
"""

from __future__ import annotations

import multiprocessing
import os
import threading

MAX_WORKERS = 8


def can_fork() -> bool:
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def default_workers() -> int:
    """One per CPU this process may run on (at most :data:`MAX_WORKERS`)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))
