"""The naive registration baseline: textbook datasketch usage, one ``MinHash.update`` call per shingle.

For each article: lowercase, split into ``\\w+`` tokens, build word shingles of the engine's shingle size,
feed them one by one to a ``datasketch.MinHash`` with the engine's ``num_perm``, and insert the sketch into a
``datasketch.MinHashLSH``. No storage, no passages: this is the cost floor of the usual recipe, which the
engine's end-to-end registration (normalisation with offsets, passage fingerprints, SQLite) is compared to.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"\w+")


def engine_parameters() -> tuple[int, int]:
    """``(shingle_size, num_perm)`` of the engine's default fingerprint scheme."""
    from checker.fingerprint import DEFAULT_SCHEME

    return DEFAULT_SCHEME.shingle_size, DEFAULT_SCHEME.num_perm


def shingles(text: str, k: int) -> list[bytes]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < k:
        return [" ".join(tokens).encode("utf-8")] if tokens else []
    return [" ".join(tokens[i : i + k]).encode("utf-8") for i in range(len(tokens) - k + 1)]


class NaiveRegistry:
    """Whole-document MinHash LSH, built the one-update-per-shingle way."""

    def __init__(self, shingle_size: int, num_perm: int, threshold: float = 0.5) -> None:
        self.k = shingle_size
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.count = 0

    def register(self, text: str) -> int:
        m = MinHash(num_perm=self.num_perm)
        for sh in shingles(text, self.k):
            m.update(sh)
        key = self.count
        self.lsh.insert(key, m)
        self.count += 1
        return key

    def register_many(self, texts: Iterable[str]) -> list[int]:
        return [self.register(t) for t in texts]


def registration_rate(
    texts: Sequence[str], shingle_size: int | None = None, num_perm: int | None = None
) -> dict:
    """Articles per second of the naive baseline over ``texts``."""
    if shingle_size is None or num_perm is None:
        shingle_size, num_perm = engine_parameters()
    reg = NaiveRegistry(shingle_size, num_perm)
    t0 = time.perf_counter()
    reg.register_many(texts)
    dt = time.perf_counter() - t0
    return {
        "articles": len(texts),
        "seconds": dt,
        "articles_per_s": len(texts) / dt if dt else float("inf"),
        "shingle_size": shingle_size,
        "num_perm": num_perm,
    }
