"""Scan many texts on several processes, results in input order (what ``checker scan-batch`` uses).

Each text is scanned alone, so the work splits cleanly. Worker processes are forked from the command's
own process after its registry is open: they start in milliseconds, share the memory-mapped index
pages, and each drops the inherited database connections (``engine.dispose(close=False)``, as
SQLAlchemy documents for forked processes) and opens its own. Forking is used only where it is safe
(:func:`checker.forking.can_fork`); anywhere else the texts are scanned in this process, one after another.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterable, Iterator
from typing import Self

from checker.errors import InputError
from checker.forking import can_fork
from checker.match_options import MatchOptions
from checker.records import ScanResult
from checker.registry import Registry

LOGGER = logging.getLogger(__name__)

# Texts handed to a worker at a time: amortises the round trip without holding back ordered output.
CHUNK = 4

Task = tuple[str, "str | None"]  # (text, url)
Outcome = tuple[ScanResult | None, "str | None"]  # (result, error message)

_registry: Registry | None = None  # the worker's (set before forking, reconnected in the child)
_org_id: int | None = None  # whose articles the workers scan against
_options: MatchOptions | None = None  # with which match settings (None: the organisation's)


def _scan_here(
    registry: Registry, task: Task, org_id: int | None = None, options: MatchOptions | None = None
) -> Outcome:
    text, url = task
    try:
        return registry.scan(text, url, org_id=org_id, options=options), None
    except InputError as exc:
        return None, str(exc)


def _child_init() -> None:
    assert _registry is not None
    _registry.engine.dispose(close=False)  # the parent's connections stay the parent's


def _child_scan(task: Task) -> Outcome:
    assert _registry is not None
    return _scan_here(_registry, task, _org_id, _options)


class ScanPool:
    """``ScanPool(registry, workers)`` then ``pool.map(tasks)``: outcomes in input order. Create it
    before starting threads (a progress bar's, say): the workers are forked right away."""

    def __init__(
        self,
        registry: Registry,
        workers: int,
        *,
        org_id: int | None = None,
        options: MatchOptions | None = None,
    ) -> None:
        """``org_id``: scan against that organisation's articles only (None: every article);
        ``options``: the match settings (None: the organisation's, read per scan)."""
        global _registry, _org_id, _options
        self.registry = registry
        self.org_id = org_id
        self.options = options
        self._pool = None
        if workers > 1 and can_fork():
            _registry, _org_id, _options = registry, org_id, options
            self._pool = multiprocessing.get_context("fork").Pool(workers, initializer=_child_init)
            LOGGER.info("scanning in %d worker processes", workers)

    @property
    def workers(self) -> int:
        return self._pool._processes if self._pool is not None else 1  # type: ignore[attr-defined]

    def map(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        if self._pool is None:
            return (_scan_here(self.registry, t, self.org_id, self.options) for t in tasks)
        return self._pool.imap(_child_scan, tasks, chunksize=CHUNK)

    def close(self) -> None:
        global _registry, _org_id, _options
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        _registry = _org_id = _options = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._pool is not None:
            self._pool.terminate()
        self.close()
