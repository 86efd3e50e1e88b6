"""Small numpy building blocks the engine uses in several places."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array. (``np.unique`` does the same; for the few hundred
    to few thousand values of one document, sorting is about four times faster than its hash table.)"""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[lo[i], hi[i])``: every position, and the index ``i`` it came from."""
    counts = hi - lo
    if not counts.sum():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return ranges(lo, counts), np.repeat(np.arange(len(lo), dtype=np.int64), counts)


def in_sorted(held: np.ndarray, values: np.ndarray) -> NDArray[np.bool_]:
    """Which ``values`` the sorted ``held`` contains: one binary search each (``np.isin`` sorts both,
    which costs seconds when ``held`` is a million ids)."""
    if not len(held):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(held, values), len(held) - 1)
    found: NDArray[np.bool_] = held[at] == values
    return found


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + counts[i] - 1`` for every ``i``, in a row."""
    if len(starts) == 1:
        return np.arange(starts[0], starts[0] + counts[0])
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))


def pieces(values: np.ndarray, counts: np.ndarray | list[int]) -> list[np.ndarray]:
    """``values`` cut into consecutive pieces of ``counts`` rows (a lighter ``np.split``)."""
    if len(counts) == 1:
        return [values]
    ends = list(itertools.accumulate(counts.tolist() if isinstance(counts, np.ndarray) else counts))
    return [values[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def windows(sizes: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For segments of ``sizes`` values: how many windows of ``width`` each has (``size - width + 1``,
    and one covering the whole of a shorter, non-empty segment), and the bounds of each segment's
    windows in a row of all of them."""
    counts = np.where(sizes >= width, sizes - width + 1, np.minimum(sizes, 1))
    bounds = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return counts, bounds
