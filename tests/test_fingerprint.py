from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.fingerprint import (
    DEFAULT_SCHEME,
    FingerprintScheme,
    band_keys,
    collision_probability,
    fingerprint,
    fingerprints,
    sentence_signatures,
    sliding_minima,
    sliding_minimum,
    to_hash32,
    winnow,
)
from checker.normalize import normalize
from checker.shingles import shingle_hashes, shingles_many, token_hashes

TEXT = (
    "Menteri Luar Negeri Retno Marsudi mengatakan bahwa MoU tersebut akan menjadi landasan kerja sama "
    "kesehatan jangka menengah dan panjang. Di samping upaya jangka pendek kedua belah negara dalam upaya "
    "pengadaan vaksin Sputnik V, obat terapeutik, serta peralatan diagnostik. "
) * 2


def test_sentence_signature_equals_datasketch_update_per_lemma() -> None:
    scheme = DEFAULT_SCHEME
    doc = normalize(TEXT)
    sentences, signatures = sentence_signatures(doc, scheme)
    assert len(sentences) == len(doc.sentences) == 4
    for row, sentence in enumerate(sentences.tolist()):
        tokens = doc.sentences.of_token == sentence
        reference = MinHash(num_perm=scheme.num_perm, seed=scheme.seed, hashfunc=int)
        for lemma in to_hash32(doc.lemmas[tokens & ~doc.stop]).tolist():
            reference.update(lemma)  # the naive way: one datasketch call per content lemma
        assert np.array_equal(signatures[row], reference.hashvalues)


def test_permutations_are_datasketchs() -> None:
    from checker.fingerprint import permutations

    for num_perm, seed in ((48, 1), (7, 42)):
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        ours = permutations(num_perm, seed)
        assert ours[0].tolist() == a.tolist() and ours[1].tolist() == b.tolist()


def test_sentences_with_too_few_content_lemmas_get_no_sketch() -> None:
    fp = fingerprint(normalize("Kata dia. Ini adalah sebuah kalimat tentang vaksin Sputnik dari Rusia."))
    assert fp.sketches.shape == (1, DEFAULT_SCHEME.bands)
    assert fp.key_sentence().tolist() == [-1] * len(fp.exact) + [0] * DEFAULT_SCHEME.bands


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 50))
def test_sliding_minimum_matches_brute_force(n: int, window: int) -> None:
    rng = np.random.default_rng(n * 1000 + window)
    values = rng.integers(0, 2**63, size=n, dtype=np.uint64)
    w = min(window, n)
    expected = [values[s : s + w].min() for s in range(n - w + 1)]
    assert sliding_minimum(values, window).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 40), max_size=60),
    st.lists(st.integers(0, 40), min_size=15, max_size=40),
    st.lists(st.integers(0, 40), max_size=60),
    st.lists(st.integers(0, 40), max_size=60),
)
def test_winnowing_guarantee(
    before: list[int], shared: list[int], after: list[int], other: list[int]
) -> None:
    """Any run of guarantee_tokens tokens that two texts share gives them a common exact key, whatever
    surrounds it (a small alphabet makes repeats and near-misses common)."""
    scheme = DEFAULT_SCHEME
    a = token_hashes([f"w{t}" for t in before + shared + after])
    b = token_hashes([f"w{t}" for t in other + shared])
    keys_a = winnow(a, scheme.winnow_k, scheme.winnow_window)
    keys_b = winnow(b, scheme.winnow_k, scheme.winnow_window)
    assert len(np.intersect1d(keys_a, keys_b)) >= 1


def test_winnowing_density() -> None:
    """About 2 / (w + 1) of the k-grams of text without repeats are selected."""
    rng = np.random.default_rng(7)
    hashes = token_hashes([f"w{t}" for t in rng.integers(0, 10**6, size=6000)])
    density = len(winnow(hashes, 5, 11)) / 6000
    assert 0.8 * 2 / 12 < density < 1.2 * 2 / 12


def reference_token_hash(token: str) -> int:
    """The documented definition, in plain Python integers."""
    mask = (1 << 64) - 1
    p = 0x100000001B3
    poly = sum(ord(c) * pow(p, j, 1 << 64) for j, c in enumerate(token)) & mask
    x = poly ^ ((len(token) * 0x9E3779B97F4A7C15) & mask)
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53)):
        x = ((x ^ (x >> shift)) * mult) & mask
    return x ^ (x >> 33)


def test_token_hashes_follow_their_definition_and_are_stable() -> None:
    words = ["vaksin", "日", "", "sputnik", "żółć", "🙂x"]
    assert token_hashes(words).tolist() == [reference_token_hash(w) for w in words]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80)
    | st.sampled_from(["ǅemal İstanbul ß", "½ ﬁn Ｆｕｌｌ"])
)
def test_hashes_inside_a_text_equal_hashes_of_its_tokens(text: str) -> None:
    doc = normalize(text, drop_boilerplate=False)
    assert doc.hashes.tolist() == token_hashes(doc.tokens).tolist()


# Computed when scheme version 2 was fixed; a change here means every saved index must be rebuilt
# (bump FingerprintScheme.version with it).
GOLDEN_SMALLEST_EXACT_KEY = 2242778893642670301


def test_keys_are_stable() -> None:
    fp = fingerprint(normalize(TEXT))
    # Persisted indexes hold these values: a change means every saved index must be rebuilt.
    assert int(np.sort(fp.exact)[0]) == GOLDEN_SMALLEST_EXACT_KEY


def test_identical_text_shares_every_key_and_edits_share_some() -> None:
    a = fingerprint(normalize(TEXT))
    b = fingerprint(normalize(TEXT.replace("landasan", "dasar")))
    assert np.array_equal(np.unique(a.keys), np.unique(fingerprint(normalize(TEXT)).keys))
    shared = len(np.intersect1d(a.keys, b.keys))
    assert 0 < shared < len(np.unique(a.keys))


def test_collision_probability_curve() -> None:
    assert collision_probability(1.0, 16, 3) == pytest.approx(1.0)
    assert collision_probability(0.5, 16, 3) > 0.85
    assert collision_probability(0.1, 16, 3) < 0.02


def test_scheme_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        FingerprintScheme(guarantee_tokens=3, winnow_k=5)
    with pytest.raises(ValueError):
        FingerprintScheme(bands=0)
    with pytest.raises(ValueError):
        shingle_hashes(token_hashes(["a"]), 0)


def test_band_keys_depend_on_band_number() -> None:
    sig = np.zeros((1, 6), dtype=np.uint32)
    keys = band_keys(sig, 2, 3)
    assert keys[0, 0] != keys[0, 1]


def test_short_and_empty_texts() -> None:
    empty = fingerprint(normalize(""))
    assert empty.keys.shape == (0,) and empty.sketches.shape == (0, DEFAULT_SCHEME.bands)
    short = fingerprint(normalize("dua kata"))
    assert len(short.exact) == 1 and len(short.sketches) == 0


# -- batches: checker.prepare fingerprints registrations many at a time ------------------------------------

# Words of two lemmatised languages (with their stopwords and inflections), other scripts, numbers and
# punctuation, so that a drawn batch mixes languages, documents without a language, short and empty
# documents, and texts without word spaces.
_WORDS = (
    "yang dan di menteri mengatakan vaksin sputnik kesehatan negara kerja sama menyampaikan sampaikan "
    "the of and minister said studies study vaccines health countries agreement signed was were "
    "東 京 都 は 日 本 の 首 都 です 1 2021 3,5 . , ! ? : ; \u201c \u201d ( ) - \n \n\n"
).split(" ")
_TEXTS = st.lists(st.sampled_from(_WORDS), max_size=120).map(" ".join) | st.sampled_from(
    ["", "a", "dua kata", "東京都は日本の首都です。" * 20, "Kata dia.", TEXT]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXTS, max_size=8))
def test_a_batch_is_fingerprinted_as_each_document_alone(texts: list[str]) -> None:
    """Nothing reaches across documents: a batch's k-grams, windows, sentences, languages and counts
    are each document's own, so every document gets what it gets alone."""
    together = [normalize(t) for t in texts]
    fingerprinted = fingerprints(together)
    for text, doc, fp in zip(texts, together, fingerprinted):
        alone = normalize(text)
        expected = fingerprint(alone)
        assert doc.lexical()[0] == alone.lexical()[0]
        assert np.array_equal(doc.lemmas, alone.lemmas) and np.array_equal(doc.stop, alone.stop)
        for got, want in (
            (fp.exact, expected.exact),
            (fp.sentences, expected.sentences),
            (fp.sketches, expected.sketches),
        ):
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got, want)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=8), st.integers(1, 20), st.integers(0, 2**32))
def test_sliding_minima_of_segments_match_brute_force(sizes: list[int], window: int, seed: int) -> None:
    values = np.random.default_rng(seed).integers(0, 2**63, size=sum(sizes), dtype=np.uint64)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    minima, found = sliding_minima(values, bounds, window)
    for d in range(len(sizes)):
        segment = values[bounds[d] : bounds[d + 1]]
        w = min(window, len(segment))
        expected = [segment[s : s + w].min() for s in range(len(segment) - w + 1)] if len(segment) else []
        assert minima[found[d] : found[d + 1]].tolist() == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), max_size=12), max_size=6), st.integers(1, 8))
def test_shingles_of_many_documents_are_each_documents(docs: list[list[int]], k: int) -> None:
    hashes = [token_hashes([f"w{t}" for t in doc]) for doc in docs]
    grams, bounds = shingles_many(hashes, k)
    for d, h in enumerate(hashes):
        width = min(k, len(h))
        expected = (
            [shingle_hashes(h[s : s + width], width)[0] for s in range(len(h) - width + 1)] if len(h) else []
        )
        assert grams[bounds[d] : bounds[d + 1]].tolist() == [int(x) for x in expected]
