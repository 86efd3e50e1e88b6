"""Preparing new articles for registration: normalise and fingerprint each text, on every CPU when a
registration is large.

Fingerprinting is three quarters of a registration's time (normalising, sentence signatures, winnowing:
about 1 ms per 600-word article on one core) and each text is independent, so a large import maps the
texts over forked processes (:mod:`checker.forking`) and only the database insert and the index write
stay in the registering process. A child returns the word count and the fingerprint keys (a few KB),
never the normalised text. Small registrations (fewer than :data:`MIN_PARALLEL` texts), and processes
that may not fork (the dashboard, Celery's children), prepare texts here, one after another; the results
are the same either way (tests/test_prepare.py).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
from collections.abc import Sequence

import numpy as np

from checker.fingerprint import FingerprintScheme, fingerprint
from checker.forking import can_fork, default_workers
from checker.normalize import normalize

# Below this many texts in one call the pool's start (tens of milliseconds) is not worth it.
MIN_PARALLEL = 200
# Texts sent to a child at a time: large enough to amortise pickling, small enough to balance.
CHUNK = 25

Prepared = tuple[int, np.ndarray]  # (word count, fingerprint keys)

_scheme: FingerprintScheme | None = None  # the children's (set by the pool's initializer)


def prepare(text: str, scheme: FingerprintScheme) -> Prepared:
    doc = normalize(text)
    return len(doc), fingerprint(doc, scheme).keys


def _init(scheme: FingerprintScheme) -> None:
    global _scheme
    _scheme = scheme


def _prepare_in_child(text: str) -> Prepared:
    assert _scheme is not None
    return prepare(text, _scheme)


class Preparer:
    """Prepares batches of texts; a pool of ``workers`` processes is started at the first batch large
    enough to use it and stopped by :meth:`close` (use it as a context manager)."""

    def __init__(self, scheme: FingerprintScheme, workers: int | None = None) -> None:
        self.scheme = scheme
        self.workers = default_workers() if workers is None else workers
        self._pool: multiprocessing.pool.Pool | None = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> bool:
        """Start the pool now (if this process may fork and more than one worker is asked for); True
        if it runs."""
        if self._pool is None and self.workers > 1 and can_fork():
            self._pool = multiprocessing.get_context("fork").Pool(
                self.workers, initializer=_init, initargs=(self.scheme,)
            )
        return self._pool is not None

    def map(self, texts: Sequence[str]) -> list[Prepared]:
        if self._pool is None and len(texts) >= MIN_PARALLEL:
            self.start()
        if self._pool is None or len(texts) < 2:
            return [prepare(t, self.scheme) for t in texts]
        return self._pool.map(_prepare_in_child, texts, chunksize=CHUNK)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
