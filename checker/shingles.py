"""Hashed word shingles, computed with numpy.

A shingle is ``k`` consecutive tokens. Each token gets a stable 64-bit hash (BLAKE2b, cached per
distinct word, so a text costs one dictionary lookup per token); the hash of the shingle starting at
token ``i`` combines its ``k`` token hashes with odd multipliers and the 64-bit MurmurHash3 finaliser,
all as whole-array operations, never one Python call per shingle.

Hashes must be stable across processes and machines because the index is persisted: Python's own
``hash(str)`` is salted per process, so it cannot be used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

# Distinct words kept in the per-process token-hash cache. News vocabularies grow slowly (a 100k-article
# corpus has a few hundred thousand distinct words); past the bound the cache is simply cleared.
TOKEN_CACHE_SIZE = 1_000_000
_token_cache: dict[str, int] = {}

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


def _hash_token(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """Stable uint64 hash of every token."""
    cache = _token_cache
    if len(cache) > TOKEN_CACHE_SIZE:
        cache.clear()
    get = cache.get
    hashes = [get(tok) for tok in tokens]
    if None in hashes:
        for i, h in enumerate(hashes):
            if h is None:
                hashes[i] = cache[tokens[i]] = _hash_token(tokens[i])
    return np.array(hashes, dtype=np.uint64)


def fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: an avalanching bijection on uint64, element-wise."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def shingle_hashes(token_hash: np.ndarray, k: int) -> np.ndarray:
    """uint64 hash of each run of ``k`` consecutive tokens (``len - k + 1`` of them).

    A text shorter than ``k`` tokens (but not empty) yields one shingle over all its tokens, so short
    texts can still be fingerprinted.
    """
    if not 1 <= k <= MAX_SHINGLE_SIZE:
        raise ValueError(f"shingle size must be between 1 and {MAX_SHINGLE_SIZE}, got {k}")
    n = len(token_hash)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    width = min(k, n)
    count = n - width + 1
    acc = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(width):  # k whole-array operations, not one per shingle
            acc += token_hash[j : j + count] * _POSITION_MULTIPLIERS[j]
        return fmix64(acc)
