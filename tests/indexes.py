"""Helpers for the passage-index tests (tests/test_index*.py): random keys and readable hits."""

from __future__ import annotations

import numpy as np


def keys(seed: int, n: int = 5) -> np.ndarray:
    """``n`` random 64-bit keys, the same for the same seed."""
    return np.random.default_rng(seed).integers(0, 2**64 - 1, size=n, dtype=np.uint64)


def pairs(hits) -> list[tuple[int, int]]:
    """``(article id, query position)`` of every hit, sorted."""
    return sorted(zip(hits.article_ids.tolist(), hits.positions.tolist()))


def found(hits) -> list[tuple[int, int]]:
    """``(article id, query positions it was hit at)``, most first."""
    ids, counts = np.unique(hits.article_ids, return_counts=True)
    return sorted(zip(ids.tolist(), counts.tolist()), key=lambda x: (-x[1], x[0]))


def prefix_keys(client, prefix: str) -> set[bytes]:
    """Every Redis key under ``prefix``."""
    return set(client.scan_iter(match=f"{prefix}:*", count=10_000))
