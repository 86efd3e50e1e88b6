"""The passage-index contract (checker.index.PassageIndex), one test each, run on every backend: the
memory index on its files and the Redis index on the real server CI starts on 127.0.0.1:6379.

``store`` opens the backend: each call is another handle on the same stored index, as another process
would open it. What only one backend promises is in tests/test_index.py and tests/test_index_redis.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme
from checker.index import MAX_POSTINGS_PER_KEY, SchemeMismatch
from checker.index_memory import MemoryIndex
from tests.indexes import found, keys, pairs


@pytest.fixture(params=["memory", "redis"])
def store(request, tmp_path):
    """``store(scheme=DEFAULT_SCHEME)``: a new handle on one fresh index of the backend."""
    if request.param == "redis":
        return request.getfixturevalue("make_redis")
    return lambda scheme=DEFAULT_SCHEME: MemoryIndex(scheme, tmp_path / "index")


def test_query_finds_the_article_sharing_a_key(store) -> None:
    idx = store()
    idx.add([(1, keys(1)), (2, keys(2))])
    q = keys(99, 3)
    q[1] = keys(2)[4]
    hits = idx.query(q)
    assert hits.article_ids.tolist() == [2] and hits.positions.tolist() == [1]
    assert found(idx.query(keys(98))) == []
    assert found(idx.query(np.empty(0, dtype=np.uint64))) == []


def test_a_key_repeated_in_the_query_hits_at_every_position_holding_it(store) -> None:
    idx = store()
    idx.add([(1, keys(1)), (2, keys(2))])
    q = keys(99, 4)
    q[0] = q[2] = keys(1)[0]
    q[3] = keys(2)[1]
    assert pairs(idx.query(q)) == [(1, 0), (1, 2), (2, 3)]


def test_remove_hides_and_readd_revives(store) -> None:
    idx = store()
    idx.add([(1, keys(1)), (2, keys(2))])
    idx.remove([1])
    assert found(idx.query(keys(1))) == []
    assert idx.article_ids().tolist() == [2] and idx.article_count() == 1
    idx.add([(1, keys(3))])
    assert found(idx.query(keys(1))) == []  # old postings purged
    assert found(idx.query(keys(3))) == [(1, 5)]
    assert idx.article_ids().tolist() == [1, 2] and idx.article_count() == 2
    idx.remove([999])  # unknown ids are ignored
    assert idx.article_ids().tolist() == [1, 2]


def test_readding_an_article_replaces_it_once(store) -> None:
    idx = store()
    doubled = np.concatenate([keys(1), keys(1)])  # a repeated paragraph posts the article once
    idx.add([(1, doubled), (2, keys(2))])
    once = pairs(idx.query(keys(1)))
    idx.add([(1, doubled)])
    idx.add([(1, keys(1))])
    assert pairs(idx.query(keys(1))) == once == [(1, p) for p in range(5)]
    assert idx.article_count() == 2


def test_stop_keys_are_skipped(store) -> None:
    idx = store()
    common = keys(5, 1)
    idx.add([(i, common) for i in range(1, MAX_POSTINGS_PER_KEY + 10)])
    assert found(idx.query(common)) == []
    idx.add([(MAX_POSTINGS_PER_KEY + 20, keys(6))])
    assert found(idx.query(keys(6))) == [(MAX_POSTINGS_PER_KEY + 20, 5)]


def test_wrong_key_arrays_and_bad_ids_are_refused(store) -> None:
    idx = store()
    with pytest.raises(ValueError, match="1-D uint64"):
        idx.add([(2, np.zeros((2, 3), dtype=np.uint64))])
    with pytest.raises(ValueError, match="1-D uint64"):
        idx.add([(2, np.zeros(3, dtype=np.int64))])
    with pytest.raises(ValueError):
        idx.add([(0, keys(1))])
    assert idx.article_ids().tolist() == []
    largest = int(np.iinfo(np.uint32).max)
    idx.add([(largest, keys(1))])
    assert found(idx.query(keys(1))) == [(largest, 5)]


def test_clear_drops_everything(store) -> None:
    idx = store()
    idx.add([(1, keys(1)), (2, keys(2))])
    idx.clear()
    assert idx.article_ids().tolist() == [] and idx.article_count() == 0
    assert found(idx.query(keys(1))) == []
    idx.add([(3, keys(1))])
    assert found(idx.query(keys(1))) == [(3, 5)]


def test_another_handle_sees_saved_changes_after_refresh(store) -> None:
    writer, reader = store(), store()
    writer.add([(i, keys(i)) for i in range(1, 31)])
    writer.remove([7])
    writer.save()
    reader.refresh()
    assert reader.article_ids().tolist() == [i for i in range(1, 31) if i != 7]
    assert found(reader.query(keys(12))) == [(12, 5)] and found(reader.query(keys(7))) == []
    fresh = store()
    assert fresh.article_count() == 29 and found(fresh.query(keys(30))) == [(30, 5)]


def test_another_scheme_is_refused_at_open(store) -> None:
    idx = store()
    idx.add([(1, keys(1))])
    idx.save()
    for other in (FingerprintScheme(rows=4, bands=15), FingerprintScheme(winnow_k=4)):
        with pytest.raises(SchemeMismatch, match="rebuild"):
            store(other)
    assert found(store().query(keys(1))) == [(1, 5)]


def test_every_backend_returns_the_same_hits(store) -> None:
    rng = np.random.default_rng(7)
    reference, idx = MemoryIndex(DEFAULT_SCHEME), store()
    # 300 articles drawing their keys from a small pool, so keys are shared by 0..many articles,
    # some past the stop-key limit.
    pool = rng.integers(0, 2**64 - 1, size=3_000, dtype=np.uint64)
    stop, popular = pool[0], pool[1:3]
    articles = []
    for i in range(1, 301):
        k = rng.choice(pool[3:], size=120, replace=False)
        k[0], k[1] = stop, popular[i % 2]
        articles.append((i, k))
    for each in (reference, idx):
        each.add(articles)
        each.remove([5, 17])
    q = rng.choice(pool, size=2_000)
    q[:3] = pool[:3]
    assert len(reference.query(q).article_ids) > 1_000
    assert pairs(idx.query(q)) == pairs(reference.query(q))


def test_id_figures_follow_every_change(store) -> None:
    """``id_figures`` (what opening a registry compares) stays the count and sum of ``article_ids``, its
    top at least their largest, through adds, identical re-adds, re-adds with other keys, removals of
    indexed and unknown ids, from another handle, and after a clear."""
    rng = np.random.default_rng(5)
    idx, other = store(), store()
    assert idx.id_figures() == (0, 0, 0)
    for step in range(40):
        who = idx if step % 3 else other
        ids = rng.choice(np.arange(1, 60), size=int(rng.integers(1, 8)), replace=False).tolist()
        if rng.random() < 0.6:
            who.add([(i, keys(i * 7 + int(rng.integers(0, 2)), 4)) for i in ids])
        else:
            who.remove([*ids, 10_000])
        who.save()
        idx.refresh()
        live = idx.article_ids()
        count, top, total = idx.id_figures()
        assert (count, total) == (len(live), int(live.sum())), step
        assert top >= (int(live.max()) if len(live) else 0), step
    idx.clear()
    assert idx.id_figures()[0::2] == (0, 0)
