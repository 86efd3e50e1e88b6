"""Stable token hashes and hashed word shingles, computed with numpy.

Token hash: a polynomial hash of the token's (folded) code points,
``h(t) = fmix64(sum_j c_j * P**j  ^  len(t) * L)`` in uint64 arithmetic, computed for every token of a
text at once from prefix sums (``(H[end] - H[start]) * P**-start``; ``P`` is odd, so it is invertible
modulo 2**64). Stable across processes and machines, which the persisted index needs (Python's own
``hash(str)`` is salted per process).

Shingle hash: the ``k`` token hashes of a shingle combined with odd per-position multipliers and the
64-bit MurmurHash3 finaliser, as ``k`` whole-array operations, never one Python call per shingle.

A polynomial hash modulo 2**64 can be made to collide by a text crafted for it (Thue-Morse strings);
a collision only makes two words look alike to the matcher, whose every candidate passage is verified
over many words, so we accept that in exchange for a fully vectorised tokeniser.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from checker.arrays import ranges, windows

_P = 0x100000001B3  # the 64-bit FNV prime: odd
_P_INV = pow(_P, -1, 1 << 64)
_LENGTH_MIX = np.uint64(0x9E3779B97F4A7C15)

# Odd 64-bit multipliers, one per shingle position (from the golden ratio and SplitMix64 constants).
_POSITION_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15,
        0xBF58476D1CE4E5B9,
        0x94D049BB133111EB,
        0xD6E8FEB86659FD93,
        0xA0761D6478BD642F,
        0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
        0x589965CC75374CC3,
    ],
    dtype=np.uint64,
)
MAX_SHINGLE_SIZE = len(_POSITION_MULTIPLIERS)


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` as uint32 (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


_power_cache: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """``base**0 .. base**n`` modulo 2**64, from a cache that grows by doubling."""
    cached = _power_cache.get(base)
    if cached is None or len(cached) <= n:
        size = max(n + 1, 2 * len(cached) if cached is not None else 4096)
        out = np.full(size, base, dtype=np.uint64)
        out[0] = 1
        with np.errstate(over="ignore"):
            cached = _power_cache[base] = np.multiply.accumulate(out)
    return cached[: n + 1]


def fmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection on uint64, element-wise."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xFF51AFD7ED558CCD)
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xC4CEB9FE1A85EC53)
        return x ^ (x >> np.uint64(33))


def span_hashes(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Token hash of ``cps[starts[i]:ends[i]]`` for every ``i`` (see the module docstring)."""
    if not len(starts):
        return np.empty(0, dtype=np.uint64)
    n = len(cps)
    with np.errstate(over="ignore"):
        weighted = cps.astype(np.uint64) * _powers(_P, n)[:n]
        prefix = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(weighted, dtype=np.uint64)])
        poly = (prefix[ends] - prefix[starts]) * _powers(_P_INV, n)[starts]
        lengths = (ends - starts).astype(np.uint64)
        return fmix64(poly ^ (lengths * _LENGTH_MIX))


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """Stable uint64 hash of every token (the same values :func:`span_hashes` gives inside a text)."""
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    ends = np.cumsum(lengths)
    return span_hashes(codepoints("".join(tokens)), ends - lengths, ends)


def shingle_hashes(token_hash: np.ndarray, k: int) -> np.ndarray:
    """uint64 hash of each run of ``k`` consecutive tokens (``len - k + 1`` of them).

    A text shorter than ``k`` tokens (but not empty) yields one shingle over all its tokens, so short
    texts can still be fingerprinted.
    """
    return shingles_many([token_hash], k)[0]


def shingles_many(token_hashes: Sequence[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shingle_hashes` of each document's token hashes, in a row, and the bounds of each
    document's shingles in it: ``k`` whole-array operations over all the documents' tokens at once
    (the shingles that would straddle two documents are computed and left out)."""
    if not 1 <= k <= MAX_SHINGLE_SIZE:
        raise ValueError(f"shingle size must be between 1 and {MAX_SHINGLE_SIZE}, got {k}")
    if len(token_hashes) == 1:  # one document: nothing to leave out
        one = np.asarray(token_hashes[0])
        grams = _shingles(one, min(k, len(one))) if len(one) else np.empty(0, dtype=np.uint64)
        return grams, np.array([0, len(grams)], dtype=np.int64)
    sizes = np.array([len(h) for h in token_hashes], dtype=np.int64)
    counts, bounds = windows(sizes, k)
    out = np.empty(int(bounds[-1]), dtype=np.uint64)
    long = np.flatnonzero(sizes >= k)
    if len(long):
        every = np.concatenate(token_hashes)
        starts = np.cumsum(sizes) - sizes
        out[ranges(bounds[long], counts[long])] = _shingles(every, k)[ranges(starts[long], counts[long])]
    for d in np.flatnonzero((sizes > 0) & (sizes < k)).tolist():
        out[bounds[d]] = _shingles(np.asarray(token_hashes[d]), int(sizes[d]))[0]
    return out, bounds


def _shingles(token_hash: np.ndarray, width: int) -> np.ndarray:
    """The hash of every run of ``width`` consecutive tokens (``width <= len(token_hash)``)."""
    count = len(token_hash) - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(width):  # ``width`` whole-array operations, not one per shingle
            acc += token_hash[j : j + count] * _POSITION_MULTIPLIERS[j]
    return fmix64(acc)
