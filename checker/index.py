"""The passage index interface: 64-bit keys of registered articles -> article ids.

Keys are whatever :mod:`checker.fingerprint` makes (winnowed k-grams and sentence sketches); the index
only maps each key to the articles that posted it.

The matcher does not know the backend. Backends:

- :class:`checker.index_memory.MemoryIndex`: sorted numpy arrays in segments, persisted as ``.npy``
  files (memory-mapped on load, so a restart reads nothing eagerly and fingerprints nothing again).
- :class:`checker.index_redis.RedisIndex`: packed postings in Redis or Redis Cluster, shared by every
  worker process.

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

from checker.arrays import distinct
from checker.errors import CheckerError
from checker.fingerprint import FingerprintScheme

# A key posted by more articles than this is a stop key (a footer, agency boilerplate that every article
# of a publisher repeats, a sentence sketch made of two very common words): it says nothing about which
# article was copied, so queries skip it instead of verifying hundreds of candidates.
MAX_POSTINGS_PER_KEY = 200
# The key prefix of a shared (Redis) index when none is configured (CHECKER_INDEX_PREFIX).
DEFAULT_PREFIX = "checker:index"


class SchemeMismatch(CheckerError):
    """The index was built with another fingerprint scheme; rebuild it (``checker index rebuild``)."""


@dataclass(frozen=True, slots=True)
class Hits:
    """Key collisions of one query: article ``article_ids[i]`` posted the query's key ``positions[i]``
    (an index into the query's key array; a key repeated in the query hits at each position)."""

    article_ids: np.ndarray
    positions: np.ndarray

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


class PassageIndex(Protocol):
    """What the matcher needs from an index."""

    scheme: FingerprintScheme

    def add(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        """Index ``(article_id, keys)`` pairs; ``keys`` is a 1-D uint64 array (repeats allowed). Adding an
        article that is indexed already replaces its postings (two processes syncing may both add it)."""

    def remove(self, article_ids: Iterable[int]) -> None:
        """Forget these articles."""

    def query(self, keys: np.ndarray) -> Hits:
        """Articles posting any of ``keys`` (1-D uint64), stop keys skipped."""

    def article_ids(self) -> np.ndarray:
        """Sorted ids of the indexed articles."""

    def article_count(self) -> int:
        """How many articles are indexed (``len(article_ids())``, cheaply: the metrics ask often)."""

    def id_figures(self) -> tuple[int, int, int]:
        """``(count, top, sum)`` of the indexed ids, ``top`` at least the largest (0 when empty): what
        :meth:`~checker.registry.Registry.sync_index` compares with the database on every open, so a
        backend answers it without listing the ids where it can (Redis keeps them as it writes)."""

    def save(self) -> None:
        """Make the changes durable (a no-op for backends that write through)."""

    def refresh(self) -> bool:
        """See what other processes saved since; True when that changed anything here (always False
        for backends every process shares live)."""

    def clear(self) -> None:
        """Drop everything (before a rebuild)."""


def figures_of(ids: np.ndarray) -> tuple[int, int, int]:
    """:meth:`PassageIndex.id_figures` of the ids ``ids`` (top: the largest)."""
    if not len(ids):
        return 0, 0, 0
    return len(ids), int(ids.max()), int(ids.sum())


def checked_keys(article_id: int, keys: np.ndarray, max_id: int) -> np.ndarray:
    """The distinct keys of one article to index, or ValueError for an id or array no backend can store."""
    if not 0 < int(article_id) <= max_id:
        raise ValueError(f"article id {article_id} outside 1..{max_id}")
    keys = np.asarray(keys)
    if keys.ndim != 1 or keys.dtype != np.uint64:
        raise ValueError(f"expected a 1-D uint64 key array, got {keys.dtype} {keys.shape}")
    # Distinct: a repeated paragraph posts the article once, so the stop-key limit counts articles.
    return distinct(keys)


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
            prefix=config.get("prefix") or DEFAULT_PREFIX,
        )
    raise ValueError(f"unknown index type {kind!r} (expected 'memory' or 'redis')")
