"""Index keys of a document: winnowed word k-grams for copied text, sentence sketches for reworded text.

Two families of 64-bit keys, both stored in one passage index (key -> article ids):

**Exact keys (winnowing).** Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document
fingerprinting" (SIGMOD 2003). Hash every run of ``k`` consecutive tokens (a k-gram); in every window of
``w`` consecutive k-gram hashes select the minimum; the document's exact keys are the selected values.
*Guarantee*: two texts that share a run of ``t = w + k - 1`` tokens share at least one key, because that
run's ``w`` k-grams form a window in both texts and both select its minimum. With ``k = 8`` and
``t = 15`` (``MatchConfig.min_passage_words``), ``w = 8``: about ``2 / (w + 1)`` = one key per 4.5
tokens (~140 for a 600-word article). Every article sharing a key is verified, so the keys must be
specific: in 30,000 synthetic news articles a whole article shared at least one 5-gram key with 3.8
others on average (16 at the 95th percentile), one 7-gram key with 0.19, one 8-gram key with 0.02, for
105, 126 and 140 keys per article.

**Sentence sketches (MinHash LSH).** A reworded copy keeps few runs of identical words but keeps, per
sentence, most of its content words (names, numbers, nouns) in some form. Each sentence's set of
content lemmas (stopwords left out, :mod:`checker.lexicon`) is MinHashed with datasketch's ``affine32``
scheme and cut into ``bands`` bands of ``rows`` values. Two sentences whose lemma sets have Jaccard
similarity ``s`` share a band key with probability ``1 - (1 - s^rows)^bands``
(:func:`collision_probability`): with 16 x 3, 0.88 at ``s = 0.5`` (a lightly reworded sentence), 0.45
at ``s = 1/3`` (a machine paraphrase), 0.12 at 0.2 and 0.016 at 0.1 (sentences on the same topic). A
single chance collision says little; the matcher asks for hits on neighbouring sentences
(:mod:`checker.candidates`).

The MinHash is computed for all lemmas and permutations at once, ``h -> a_k * fmix32(h) + b_k
(mod 2^32)`` with datasketch's own permutation parameters for ``seed``, then the minimum per sentence
with one ``np.minimum.reduceat``; ``tests/test_fingerprint.py`` checks it equals ``MinHash.update``
value for value.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from checker.arrays import distinct, pieces, ranges, windows
from checker.normalize import Document, analyse_documents
from checker.shingles import fmix64, shingles_many

SCHEME_NAME = "affine32"
# Mixed into exact keys so that the two families never share a key value.
_EXACT_TAG = np.uint64(0x243F6A8885A308D3)


@dataclass(frozen=True, slots=True)
class FingerprintScheme:
    """Everything that decides a fingerprint's value. Indexes store it and refuse another one.

    - ``shingle_size=3`` words (``char_shingle_size=5`` characters for scripts without spaces): the
      seeds of the alignment (:mod:`checker.align`). With 5% of words edited about 86% of 3-shingles
      survive.
    - ``winnow_k=8`` and ``guarantee_tokens=15``: exact keys (see the module docstring). Scripts
      without spaces use ``char_shingle_size`` (5 characters) instead, a window spanning 15 characters.
    - ``bands=16, rows=3``: sentence sketches. Measured on the PAN development split (``bench/pan.py``,
      all 3,169 sources indexed): 8 x 2 keys made the topic words that sources on one subject share
      collide so often that a suspect had 250 candidates on average and a third of the reworded copies
      ranked below the 100th; 16 x 3 leaves 30 candidates on average with 90% of reworded sources
      in the first 100 (and 91% found at all, against 95%). Three rows cut chance collisions of
      topical sentences (``s`` about 0.1-0.2) by 3-5 times and true ones (``s`` 0.4-0.5) by a fifth.
    - ``min_sentence_lemmas=3``: a sentence with fewer content words ("Kata dia.") has keys made of
      one or two common words; it gets none.
    """

    version: int = 2
    shingle_size: int = 3
    char_shingle_size: int = 5
    winnow_k: int = 8
    guarantee_tokens: int = 15
    bands: int = 16
    rows: int = 3
    min_sentence_lemmas: int = 3
    seed: int = 1
    minhash_scheme: str = SCHEME_NAME

    def __post_init__(self) -> None:
        for name in ("shingle_size", "char_shingle_size", "winnow_k", "bands", "rows", "min_sentence_lemmas"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.guarantee_tokens < self.winnow_k:
            raise ValueError("guarantee_tokens must be at least winnow_k")

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    @property
    def winnow_window(self) -> int:
        """``w``: windows of this many k-grams span ``guarantee_tokens`` tokens."""
        return self.guarantee_tokens - self.winnow_k + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def index_identity(self) -> dict[str, Any]:
        """What decides what an index holds: every field (suspects are fingerprinted alike) and how
        keys are partitioned by organisation (:mod:`checker.partition`)."""
        from checker.partition import LAYOUT

        return asdict(self) | {"partition": LAYOUT}

    def shingle_size_for(self, doc: Document) -> int:
        return self.char_shingle_size if doc.char_tokens else self.shingle_size


DEFAULT_SCHEME = FingerprintScheme()


def collision_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two sets with Jaccard ``similarity`` share at least one LSH band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` (uint32) for ``seed``, drawn as
    ``MinHash._init_permutations`` draws them (odd ``a``), so that our signatures equal
    ``datasketch.MinHash``'s (``tests/test_fingerprint.py`` checks both). Drawn here rather than
    taken from a MinHash because importing datasketch pulls in scipy (~0.4 s per process)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(x: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser, datasketch's pre-mix for the affine32 scheme."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def to_hash32(hashes64: NDArray[np.uint64]) -> NDArray[np.uint32]:
    """The 32-bit hashes MinHash consumes: the high half of the 64-bit hash."""
    return (hashes64 >> np.uint64(32)).astype(np.uint32)


def permuted(hash32: NDArray[np.uint32], num_perm: int, seed: int) -> NDArray[np.uint32]:
    """``(len(hash32), num_perm)`` uint32 matrix of every value under every permutation."""
    a, b = permutations(num_perm, seed)
    with np.errstate(over="ignore"):
        return fmix32(hash32)[:, None] * a[None, :] + b[None, :]


def sliding_minimum(values: np.ndarray, window: int) -> np.ndarray:
    """``min(values[s : s + window])`` for every ``s`` in ``0 .. len - window`` (one window when the
    array is shorter)."""
    return sliding_minima(values, np.array([0, len(values)], dtype=np.int64), window)[0]


def sliding_minima(values: np.ndarray, bounds: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sliding_minimum` of each segment ``values[bounds[d] : bounds[d + 1]]``, in a row, and the
    bounds of each segment's minima in it. van Herk/Gil-Werman: cut the values into blocks of
    ``window``; the minimum of a window is the minimum of the suffix-minimum of the block it starts in
    and the prefix-minimum of the block it ends in, so the cost does not depend on the window, and
    windows inside one segment are right whatever the blocks' alignment. A segment shorter than the
    window has one window, its minimum."""
    if len(bounds) == 2:  # one segment: its windows are the array's
        n, w = len(values), min(window, len(values))
        if not n:
            return values[:0], np.zeros(2, dtype=np.int64)
        prefix, suffix = _block_minima(values, w)
        return np.minimum(suffix[: n - w + 1], prefix[w - 1 : n]), np.array([0, n - w + 1], dtype=np.int64)
    sizes = np.diff(bounds)
    counts, out_bounds = windows(sizes, window)
    out = np.empty(int(out_bounds[-1]), dtype=values.dtype)
    long = np.flatnonzero(sizes >= window)
    if len(long):
        prefix, suffix = _block_minima(values, window)
        starts = ranges(bounds[long], counts[long])
        out[ranges(out_bounds[long], counts[long])] = np.minimum(suffix[starts], prefix[starts + window - 1])
    for d in np.flatnonzero((sizes > 0) & (sizes < window)).tolist():
        out[out_bounds[d]] = values[bounds[d] : bounds[d + 1]].min()
    return out, out_bounds


def _block_minima(values: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The running minimum of ``values`` from the start of each block of ``w`` (prefix) and from its
    end (suffix), over ``values`` padded to whole blocks."""
    n = len(values)
    blocks = -(-n // w)
    padded = np.full(blocks * w, np.iinfo(values.dtype).max, dtype=values.dtype)
    padded[:n] = values
    shaped = padded.reshape(blocks, w)
    prefix = np.minimum.accumulate(shaped, axis=1).reshape(-1)
    suffix = np.minimum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    return prefix, suffix


def winnow(token_hashes: np.ndarray, k: int, window: int) -> np.ndarray:
    """Distinct winnowed k-gram hashes (see the module docstring), as exact keys."""
    return winnow_many([token_hashes], k, window)[0]


def winnow_many(token_hashes: Sequence[np.ndarray], k: int, window: int) -> list[np.ndarray]:
    """:func:`winnow` of each document's token hashes, computed for all of them at once."""
    grams, bounds = shingles_many(token_hashes, k)
    minima, bounds = sliding_minima(grams, bounds, window)
    if len(token_hashes) == 1:
        return [fmix64(distinct(minima) ^ _EXACT_TAG)]
    doc = np.repeat(np.arange(len(token_hashes)), np.diff(bounds))
    order = np.lexsort((minima, doc))  # by document, then value
    minima, doc = minima[order], doc[order]
    first = np.ones(len(minima), dtype=bool)
    first[1:] = (minima[1:] != minima[:-1]) | (doc[1:] != doc[:-1])
    return pieces(fmix64(minima[first] ^ _EXACT_TAG), np.bincount(doc[first], minlength=len(token_hashes)))


_ROW_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x8EBC6AF09C88C6E3,
        0x589965CC75374CC3,
    ],
    dtype=np.uint64,
)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(sketches, bands)`` uint64 keys: each band's ``rows`` MinHash values and the band number,
    mixed into one 64-bit value (64 bits so that 10^9 indexed keys collide by chance about never)."""
    m = signatures.shape[0]
    if rows > len(_ROW_MULTIPLIERS):
        raise ValueError(f"at most {len(_ROW_MULTIPLIERS)} rows per band are supported")
    vals = signatures.reshape(m, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = (np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x2545F4914F6CDD1D))[None, :].repeat(m, 0)
        for r in range(rows):
            acc = acc + vals[:, :, r] * _ROW_MULTIPLIERS[r]
        return fmix64(acc)


def sentence_signatures(doc: Document, scheme: FingerprintScheme) -> tuple[np.ndarray, np.ndarray]:
    """``(sentences, signatures)``: the sentences with at least ``min_sentence_lemmas`` content words and
    the MinHash signature (``num_perm`` uint32 values) of each one's set of content lemmas (a minimum
    does not see repeats, so the lemmas need not be made distinct first)."""
    return sentence_signatures_many([doc], scheme)[0]


def sentence_signatures_many(
    docs: Sequence[Document], scheme: FingerprintScheme
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`sentence_signatures` of each document, computed for all of them at once: the sentences of
    all the documents are numbered in a row, so one ``reduceat`` makes every signature."""
    analyse_documents(docs)
    first_sentence = [0, *itertools.accumulate(len(d.sentences) for d in docs)]
    content = [~d.stop for d in docs]
    numbered = [d.sentences.of_token[c] + first for d, c, first in zip(docs, content, first_sentence)]
    sentence = numbered[0] if len(docs) == 1 else np.concatenate([np.empty(0, dtype=np.int64), *numbered])
    found: np.ndarray | list[int] = [0] * len(docs)
    signatures = np.empty((0, scheme.num_perm), dtype=np.uint32)
    if len(sentence):
        group_start = np.flatnonzero(np.diff(sentence, prepend=-1))  # tokens are in sentence order
        sizes = np.diff(np.append(group_start, len(sentence)))
        keep = sizes >= scheme.min_sentence_lemmas
        lemmas = (
            np.concatenate([d.lemmas[c] for d, c in zip(docs, content)])
            if len(docs) > 1
            else docs[0].lemmas[content[0]]
        )
        values = permuted(to_hash32(lemmas), scheme.num_perm, scheme.seed)
        signatures = np.minimum.reduceat(values, group_start, axis=0)[keep]
        sentence = sentence[group_start][keep]
        found = (
            [len(sentence)]
            if len(docs) == 1
            else np.bincount(np.searchsorted(first_sentence, sentence, side="right") - 1, minlength=len(docs))
        )
    return [
        (local - first, sig)
        for local, sig, first in zip(pieces(sentence, found), pieces(signatures, found), first_sentence)
    ]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A document's index keys.

    Attributes:
        exact: distinct winnowed k-gram keys (uint64).
        sentences: the sketched sentences (indices into ``doc.sentences``).
        sketches: ``(len(sentences), bands)`` uint64 band keys of those sentences.
    """

    exact: np.ndarray
    sentences: np.ndarray
    sketches: np.ndarray

    @property
    def keys(self) -> np.ndarray:
        """All keys, flat: the exact keys, then the sketches row by row."""
        return np.concatenate([self.exact, self.sketches.reshape(-1)])

    def key_sentence(self) -> np.ndarray:
        """For each entry of :attr:`keys`: the sentence it sketches, or -1 for an exact key."""
        bands = self.sketches.shape[1]
        return np.concatenate(
            [np.full(len(self.exact), -1, dtype=np.int64), np.repeat(self.sentences, bands)]
        )


def fingerprint(doc: Document, scheme: FingerprintScheme = DEFAULT_SCHEME) -> Fingerprint:
    """Exact keys and sentence sketches of ``doc`` (registered articles and suspects alike)."""
    return fingerprints([doc], scheme)[0]


def fingerprints(docs: Sequence[Document], scheme: FingerprintScheme = DEFAULT_SCHEME) -> list[Fingerprint]:
    """:func:`fingerprint` of each document, with the same values, computed for all of them at once.

    A 600-word article's fingerprint is about a hundred numpy operations on arrays of a few hundred
    values, whose cost is mostly numpy's per-call overhead; made over a batch of articles in a row, the
    same operations cost about a third as much per article (``checker.prepare``). Documents are
    independent: k-grams, windows and sentences never reach across two of them
    (``tests/test_fingerprint.py`` checks a batch against each document alone)."""
    exact: list[np.ndarray] = [np.empty(0, dtype=np.uint64)] * len(docs)
    for char_tokens, k in ((False, scheme.winnow_k), (True, scheme.char_shingle_size)):
        group = [i for i, d in enumerate(docs) if d.char_tokens == char_tokens]
        if group:
            found = winnow_many([docs[i].hashes for i in group], k, scheme.guarantee_tokens - k + 1)
            for i, keys in zip(group, found):
                exact[i] = keys
    signed = sentence_signatures_many(docs, scheme)
    sketches = band_keys(
        np.concatenate([np.empty((0, scheme.num_perm), dtype=np.uint32)] + [sig for _, sig in signed]),
        scheme.bands,
        scheme.rows,
    )
    per_doc = pieces(sketches, [len(sig) for _, sig in signed])
    return [Fingerprint(e, sentences, b) for e, (sentences, _), b in zip(exact, signed, per_doc)]
