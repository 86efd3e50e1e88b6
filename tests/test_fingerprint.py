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
    permuted,
    to_hash32,
    window_minhashes,
    window_starts,
)
from checker.normalize import normalize
from checker.shingles import shingle_hashes, token_hashes

TEXT = ("Menteri Luar Negeri Retno Marsudi mengatakan bahwa MoU tersebut akan menjadi landasan kerja sama "
        "kesehatan jangka menengah dan panjang di samping upaya jangka pendek kedua belah negara ") * 3


def test_window_minhash_equals_datasketch_update_per_shingle() -> None:
    scheme = DEFAULT_SCHEME
    doc = normalize(TEXT)
    shingles = to_hash32(shingle_hashes(token_hashes(doc.tokens), scheme.shingle_size))
    starts = window_starts(len(shingles), scheme.window, scheme.source_stride)
    ours = window_minhashes(permuted(shingles, scheme.num_perm, scheme.seed), starts, scheme.window)
    for row, start in enumerate(starts.tolist()):
        reference = MinHash(num_perm=scheme.num_perm, seed=scheme.seed, hashfunc=int)
        for h in shingles[start : start + scheme.window].tolist():
            reference.update(h)  # the naive way: one datasketch call per shingle
        assert np.array_equal(ours[row], reference.hashvalues)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 50), st.integers(1, 60))
def test_sliding_minimum_matches_brute_force(n: int, window: int, stride: int) -> None:
    rng = np.random.default_rng(n * 1000 + window)
    values = rng.integers(0, 2**32, size=(n, 4), dtype=np.uint64).astype(np.uint32)
    starts = window_starts(n, window, min(stride, window))
    got = window_minhashes(values, starts, window)
    w = min(window, n)
    expected = np.stack([values[s : s + w].min(axis=0) for s in starts.tolist()])
    assert np.array_equal(got, expected)
    # Every shingle is inside some window.
    covered = np.zeros(n, dtype=bool)
    for s in starts.tolist():
        covered[s : s + w] = True
    assert covered.all()


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
    fp = fingerprint(normalize(TEXT))
    assert fp.keys.shape == (2, DEFAULT_SCHEME.bands)
    # Persisted indexes hold these values: a change means every saved index must be rebuilt.
    assert int(fp.keys[0, 0]) == GOLDEN_FIRST_KEY


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80) | st.sampled_from(["ǅemal İstanbul ß", "½ ﬁn Ｆｕｌｌ"]))
def test_hashes_inside_a_text_equal_hashes_of_its_tokens(text: str) -> None:
    doc = normalize(text, drop_boilerplate=False)
    assert doc.hashes.tolist() == token_hashes(doc.tokens).tolist()


# Computed when scheme version 1 was fixed; a change here means every saved index must be rebuilt
# (bump FingerprintScheme.version with it).
GOLDEN_FIRST_KEY = 1294002273514394267


def test_identical_windows_share_every_band_and_edits_share_some() -> None:
    a = fingerprint(normalize(TEXT), query=True)
    b = fingerprint(normalize(TEXT.replace("landasan", "dasar", 1)), query=True)
    assert np.array_equal(a.keys[-1], b.keys[-1])
    shared = len(np.intersect1d(a.keys, b.keys))
    assert 0 < shared < a.keys.size


def test_collision_probability_curve() -> None:
    assert collision_probability(1.0, 20, 3) == pytest.approx(1.0)
    assert collision_probability(0.75, 20, 3) > 0.99
    assert collision_probability(0.1, 20, 3) < 0.03


def test_scheme_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        FingerprintScheme(window=10, source_stride=20)
    with pytest.raises(ValueError):
        FingerprintScheme(bands=0)
    with pytest.raises(ValueError):
        shingle_hashes(token_hashes(["a"]), 0)


def test_band_keys_depend_on_band_number() -> None:
    sig = np.zeros((1, 6), dtype=np.uint32)
    keys = band_keys(sig, 2, 3)
    assert keys[0, 0] != keys[0, 1]


def test_short_and_empty_texts() -> None:
    assert fingerprint(normalize("")).keys.shape == (0, DEFAULT_SCHEME.bands)
    assert fingerprint(normalize("dua kata")).keys.shape == (1, DEFAULT_SCHEME.bands)
