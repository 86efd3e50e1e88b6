"""The passage index interface: LSH band keys of registered articles' windows -> article ids.

The matcher does not know the backend. Backends:

- :class:`checker.index_memory.MemoryIndex`: sorted numpy arrays in segments, persisted as ``.npy``
  files (memory-mapped on load, so a restart reads nothing eagerly and fingerprints nothing again).
- a Redis backend arrives with the worker (shared by every worker process).

:func:`open_index` picks one from a config mapping and rejects unknown types, like datasketch's storage
factory. Every backend stores the :class:`~checker.fingerprint.FingerprintScheme` it was built with and
raises :class:`SchemeMismatch` when asked to mix schemes: hash values carry no trace of the scheme that
produced them, so mixing would silently return wrong results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from checker.errors import CheckerError
from checker.fingerprint import FingerprintScheme

# A band key posted by more articles than this is a stop-window (a footer or agency boilerplate that
# every article of a publisher repeats): it says nothing about which article was copied, so queries
# skip it instead of verifying hundreds of candidates.
MAX_POSTINGS_PER_KEY = 200


class SchemeMismatch(CheckerError):
    """The index was built with another fingerprint scheme; rebuild it (``checker index rebuild``)."""


@dataclass(frozen=True, slots=True)
class Hits:
    """Band-key collisions of one query: ``article_ids[i]`` matched query window ``query_windows[i]``."""

    article_ids: np.ndarray
    query_windows: np.ndarray

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    def candidates(self, limit: int) -> list[tuple[int, int]]:
        """``(article_id, distinct query windows hit)``, best first, at most ``limit``."""
        if not len(self.article_ids):
            return []
        # Distinct (article, query window) pairs, as one int64 each (query windows < 2^24).
        pairs = np.unique((self.article_ids << 24) | self.query_windows)
        ids, counts = np.unique(pairs >> 24, return_counts=True)
        order = np.lexsort((ids, -counts))[:limit]
        return [(int(ids[i]), int(counts[i])) for i in order]


class PassageIndex(Protocol):
    """What the matcher needs from an index."""

    scheme: FingerprintScheme

    def add(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        """Index ``(article_id, band_keys)`` pairs; ``band_keys`` is ``(windows, bands)`` uint64."""

    def remove(self, article_ids: Iterable[int]) -> None:
        """Forget these articles."""

    def query(self, keys: np.ndarray) -> Hits:
        """Articles sharing a band key with any row of ``keys`` (``(windows, bands)`` uint64)."""

    def article_ids(self) -> np.ndarray:
        """Sorted ids of the indexed articles."""

    def save(self) -> None:
        """Make the changes durable (a no-op for backends that write through)."""

    def clear(self) -> None:
        """Drop everything (before a rebuild)."""


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[lo[i], hi[i])``: every position, and the index ``i`` it came from."""
    counts = hi - lo
    total = int(counts.sum())
    if not total:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return lo[owner] + offsets, owner


def open_index(config: dict[str, Any], scheme: FingerprintScheme) -> PassageIndex:
    """Build the index backend named by ``config["type"]``."""
    kind = config.get("type", "memory")
    if kind == "memory":
        from checker.index_memory import MemoryIndex

        return MemoryIndex(scheme, directory=config.get("directory"))
    if kind == "redis":
        from checker.index_redis import RedisIndex

        return RedisIndex(
            scheme,
            url=config.get("url") or "redis://127.0.0.1:6379/0",
            prefix=config.get("prefix") or "checker:index",
        )
    raise ValueError(f"unknown index type {kind!r} (expected 'memory' or 'redis')")
