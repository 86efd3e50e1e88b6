"""Passage fingerprints: datasketch MinHash over windows of hashed shingles, banded for LSH.

Why passages: the Jaccard similarity of a whole article and a new text that copies three of its
paragraphs is small (the copied shingles are a minority of either set), so whole-document MinHash LSH
misses excerpt reuse. We MinHash *windows* of ``window`` consecutive shingles instead. Registered
articles are cut into windows every ``source_stride`` shingles; a suspect is cut every
``query_stride`` shingles (finer, since the query is transient and the index is not), so some suspect
window starts within ``query_stride / 2`` shingles of every source window a copied excerpt contains.

The MinHash is datasketch's ``affine32`` scheme, computed for all shingles and permutations at once:
``h -> a_k * fmix32(h) + b_k (mod 2^32)`` with datasketch's own permutation parameters for ``seed``, then
the minimum over each window with the van Herk/Gil-Werman sliding-minimum (two cumulative minima per
block), so the cost is O(shingles x permutations) numpy work, independent of the window length.
``tests/test_fingerprint.py`` checks the result equals ``datasketch.MinHash.update`` value for value.

LSH: the ``num_perm = bands x rows`` values are cut into ``bands`` bands of ``rows`` values; two
windows with Jaccard similarity ``s`` share at least one band key with probability
``1 - (1 - s^rows)^bands`` (see :func:`collision_probability`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from checker.normalize import Document
from checker.shingles import fmix64, shingle_hashes

SCHEME_NAME = "affine32"


@dataclass(frozen=True, slots=True)
class FingerprintScheme:
    """Everything that decides a fingerprint's value. Indexes store it and refuse another one.

    Calibration (bench/run.py, synthetic corpus; seeds/ scenarios):
    - ``shingle_size=3`` words: with 5% of words edited, about 86% of 3-shingles survive (vs 77% for 5),
      which keeps light edits and close rewrites findable; 3-word shingles shared by unrelated texts
      ("kata dia kepada") are diluted by the window, and alignment verifies every candidate anyway.
    - ``window=40`` shingles (about two sentences): long enough that unrelated windows have Jaccard
      near 0, short enough that an 80-word excerpt contains at least one whole source window.
    - ``bands=20, rows=3``: P(candidate) = 0.997 at window Jaccard 0.75 (a 5%-edited excerpt), 0.55 at
      0.34 (a window of a 25%-reworded rewrite; an article has many such windows), 0.02 at 0.1.
    - ``source_stride=window``: non-overlapping source windows keep the index at about
      ``words / 40 * bands`` keys per article; the finer ``query_stride=6`` makes up for it: some
      suspect window starts within 3 shingles of every source window a copy contains (Jaccard >= 0.85
      before edits). Stride 4 found a few more heavily (20%) edited short excerpts in bench/ at 1.5x
      the lookups; 8 a few fewer.
    """

    version: int = 1
    shingle_size: int = 3
    char_shingle_size: int = 5
    bands: int = 20
    rows: int = 3
    window: int = 40
    source_stride: int = 40
    query_stride: int = 6
    seed: int = 1
    minhash_scheme: str = SCHEME_NAME

    def __post_init__(self) -> None:
        for name in ("shingle_size", "char_shingle_size", "bands", "rows", "window", "source_stride", "query_stride"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.source_stride > self.window:
            raise ValueError("source_stride larger than window would leave shingles unindexed")

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def to_dict(self) -> dict:
        return asdict(self)

    def index_identity(self) -> dict:
        """The fields that decide what an index holds. ``query_stride`` only changes how suspects are
        cut, so changing it needs no rebuild; every other field does."""
        identity = asdict(self)
        del identity["query_stride"]
        return identity

    def shingle_size_for(self, doc: Document) -> int:
        return self.char_shingle_size if doc.char_tokens else self.shingle_size


DEFAULT_SCHEME = FingerprintScheme()


def collision_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two windows with Jaccard ``similarity`` share at least one LSH band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own ``affine32`` permutation parameters ``(a, b)`` (uint32) for ``seed``."""
    # Imported on first use: the datasketch package pulls in scipy (~0.4 s), which a CLI command that
    # fingerprints nothing should not pay.
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME_NAME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def fmix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, datasketch's pre-mix for the affine32 scheme."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def to_hash32(shingles64: np.ndarray) -> np.ndarray:
    """The 32-bit shingle hashes MinHash consumes: the high half of the 64-bit hash."""
    return (shingles64 >> np.uint64(32)).astype(np.uint32)


def permuted(hash32: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """``(len(hash32), num_perm)`` uint32 matrix of every shingle under every permutation."""
    a, b = permutations(num_perm, seed)
    with np.errstate(over="ignore"):
        return fmix32(hash32)[:, None] * a[None, :] + b[None, :]


def window_starts(n_shingles: int, window: int, stride: int) -> np.ndarray:
    """Start of each window: every ``stride`` shingles, plus one ending at the last shingle."""
    if n_shingles <= window:
        return np.zeros(1 if n_shingles else 0, dtype=np.int64)
    starts = np.arange(0, n_shingles - window + 1, stride, dtype=np.int64)
    if starts[-1] != n_shingles - window:
        starts = np.append(starts, n_shingles - window)
    return starts


def window_minhashes(values: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """Minimum of ``values[s:s+window]`` (along axis 0) for each ``s`` in ``starts``.

    van Herk/Gil-Werman: cut the rows into blocks of ``window``; the minimum over any window is the
    minimum of the suffix-minimum of the block it starts in and the prefix-minimum of the block it
    ends in.
    """
    n, p = values.shape
    w = min(window, n)
    # Registered articles: windows back to back (plus one ending at the last shingle), so each window
    # is one block of a reshape and a single reduction finds all the minima.
    body = starts[:-1] if len(starts) > 1 and starts[-1] - starts[-2] < w else starts
    if len(body) and np.all(np.diff(body) == w) and body[-1] + w <= n:
        m, first = len(body), int(body[0])
        minima = values[first : first + m * w].reshape(m, w, p).min(axis=1)
        if len(body) < len(starts):
            minima = np.vstack([minima, values[starts[-1] : starts[-1] + w].min(axis=0)])
        return minima
    blocks = -(-n // w)
    padded = np.full((blocks * w, p), np.iinfo(values.dtype).max, dtype=values.dtype)
    padded[:n] = values
    shaped = padded.reshape(blocks, w, p)
    prefix = np.minimum.accumulate(shaped, axis=1).reshape(-1, p)
    suffix = np.minimum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].reshape(-1, p)
    return np.minimum(suffix[starts], prefix[starts + w - 1])


_ROW_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD,
     0xC4CEB9FE1A85EC53, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3],
    dtype=np.uint64,
)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(windows, bands)`` uint64 keys: each band's ``rows`` MinHash values and the band number,
    mixed into one 64-bit value (64 bits so that 10^8 indexed keys collide by chance about never)."""
    m = signatures.shape[0]
    if rows > len(_ROW_MULTIPLIERS):
        raise ValueError(f"at most {len(_ROW_MULTIPLIERS)} rows per band are supported")
    vals = signatures.reshape(m, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = (np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x2545F4914F6CDD1D))[None, :].repeat(m, 0)
        for r in range(rows):
            acc = acc + vals[:, :, r] * _ROW_MULTIPLIERS[r]
        return fmix64(acc)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A document's shingles and the LSH keys of its windows.

    Attributes:
        token_hashes: uint64 hash per token (the alignment compares tokens by these).
        shingles: uint64 hash per shingle (shingle ``i`` covers tokens ``i .. i + k - 1``).
        shingle_size: ``k``.
        starts: first shingle of each window; a window covers shingles ``[start, start + window)``.
        keys: ``(windows, bands)`` uint64 band keys.
    """

    token_hashes: np.ndarray
    shingles: np.ndarray
    shingle_size: int
    starts: np.ndarray
    keys: np.ndarray

    def token_span(self, window: int, n_tokens: int, i: int) -> tuple[int, int]:
        """First and last token (inclusive) covered by window ``i``."""
        first = int(self.starts[i])
        last = min(first + window + self.shingle_size - 2, n_tokens - 1)
        return first, last


def fingerprint(doc: Document, scheme: FingerprintScheme = DEFAULT_SCHEME, *, query: bool = False) -> Fingerprint:
    """Fingerprint ``doc``: shingles, window starts (source or query stride) and band keys."""
    k = scheme.shingle_size_for(doc)
    tokens = doc.hashes
    shingles = shingle_hashes(tokens, k)
    stride = scheme.query_stride if query else scheme.source_stride
    starts = window_starts(len(shingles), scheme.window, stride)
    if not len(starts):
        return Fingerprint(tokens, shingles, k, starts, np.empty((0, scheme.bands), dtype=np.uint64))
    values = permuted(to_hash32(shingles), scheme.num_perm, scheme.seed)
    signatures = window_minhashes(values, starts, scheme.window)
    return Fingerprint(tokens, shingles, k, starts, band_keys(signatures, scheme.bands, scheme.rows))
