"""Preparing new articles for registration: normalise and fingerprint each text, on every CPU when a
registration is large.

Fingerprinting is most of a registration's time and each text is independent, so a large import maps
chunks of texts over forked processes (:mod:`checker.forking`) and only the database insert and the
index write stay in the registering process. A chunk's texts are fingerprinted together
(:func:`checker.fingerprint.fingerprints`): for 600-word articles, 0.6-0.7 ms each on one core against
1.0 ms one at a time, the same keys. A child returns the word count and the fingerprint keys (a few
KB), never the normalised text. Small registrations (fewer than :data:`MIN_PARALLEL` texts), and
processes that may not fork (the dashboard, Celery's children), prepare texts here, a chunk at a time;
the results are the same either way (tests/test_prepare.py)"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
from collections.abc import Sequence

import numpy as np

from checker.fingerprint import FingerprintScheme, fingerprints
from checker.forking import can_fork, default_workers
from checker.normalize import normalize

# Below this many texts in one call the pool's start (tens of milliseconds) is not worth it.
MIN_PARALLEL = 200
# Texts prepared together (and sent to a child at a time): large enough to amortise numpy's per-call
# overhead and pickling (prepare_many over 25 articles costs about 0.6 of one at a time; 100 are no
# cheaper), small enough to balance the children. A chunk also ends at CHUNK_CHARS characters, so that
# the arrays of one chunk of long texts stay a few tens of MB.
CHUNK = 25
CHUNK_CHARS = 200_000

Prepared = tuple[int, np.ndarray]  # (word count, fingerprint keys)

_scheme: FingerprintScheme | None = None  # the children's (set by the pool's initializer)


def prepare(text: str, scheme: FingerprintScheme) -> Prepared:
    return prepare_many([text], scheme)[0]


def prepare_many(texts: Sequence[str], scheme: FingerprintScheme) -> list[Prepared]:
    """:func:`prepare` of each text, the same values; each chunk of texts (:func:`chunks`) is
    fingerprinted together (:func:`checker.fingerprint.fingerprints`)."""
    return [item for chunk in chunks(texts) for item in _prepare_chunk(chunk, scheme)]


def chunks(texts: Sequence[str]) -> list[Sequence[str]]:
    """``texts`` cut into consecutive chunks of at most CHUNK texts and, unless one text is longer,
    CHUNK_CHARS characters."""
    out: list[Sequence[str]] = []
    start, chars = 0, 0
    for i, text in enumerate(texts):
        if i > start and (i - start == CHUNK or chars + len(text) > CHUNK_CHARS):
            out.append(texts[start:i])
            start, chars = i, 0
        chars += len(text)
    if start < len(texts):
        out.append(texts[start:])
    return out


def _prepare_chunk(texts: Sequence[str], scheme: FingerprintScheme) -> list[Prepared]:
    docs = [normalize(t) for t in texts]
    return [(len(d), fp.keys) for d, fp in zip(docs, fingerprints(docs, scheme))]


def _init(scheme: FingerprintScheme) -> None:
    global _scheme
    _scheme = scheme


def _prepare_in_child(texts: Sequence[str]) -> list[Prepared]:
    assert _scheme is not None
    return _prepare_chunk(texts, _scheme)


class Preparer:
    """Prepares batches of texts; a pool of ``workers`` processes is started at the first batch large
    enough to use it and stopped by :meth:`close` (use it as a context manager)."""

    def __init__(self, scheme: FingerprintScheme, workers: int | None = None) -> None:
        self.scheme = scheme
        self.workers = default_workers() if workers is None else workers
        self._pool: multiprocessing.pool.Pool | None = None
        # Chunks handed to the pool ahead of the map() that will ask for them (see ahead)
        self._ahead: list[tuple[Sequence[str], multiprocessing.pool.AsyncResult[list[Prepared]]]] = []

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

    def map(self, texts: Sequence[str], ahead: Sequence[str] = ()) -> list[Prepared]:
        """``texts`` prepared. ``ahead``: the texts the next call will probably ask for. When the pool
        runs, they are handed to it after these and prepared while this process goes on (a registration
        inserts and indexes one batch while the children fingerprint the next); the next call takes the
        results of those it asks for and drops the others."""
        ready: dict[str, Prepared] = {}
        for chunk, result in self._ahead:
            ready.update(zip(chunk, result.get()))
        self._ahead = []
        todo = [t for t in texts if t not in ready]
        if self._pool is None and len(todo) >= MIN_PARALLEL:
            self.start()
        if self._pool is None:
            done = prepare_many(todo, self.scheme)
        else:
            pending = (
                self._pool.map_async(_prepare_in_child, chunks(todo), chunksize=1) if len(todo) > 1 else None
            )
            self._ahead = [
                (chunk, self._pool.apply_async(_prepare_in_child, (chunk,))) for chunk in chunks(ahead)
            ]
            done = (
                prepare_many(todo, self.scheme) if pending is None else [p for c in pending.get() for p in c]
            )
        ready.update(zip(todo, done))
        return [ready[t] for t in texts]

    def close(self) -> None:
        self._ahead = []
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
