"""The Redis passage index, against the real Redis server CI starts on 127.0.0.1:6379.

Behaviours shared with the memory index run on both backends (the ``backend`` fixture); the rest is
what only a shared index promises: other processes see changes at once, a fresh client finds
everything, a query is one round trip, the stored scheme is enforced at open time.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import redis

from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme
from checker.index import MAX_POSTINGS_PER_KEY, SchemeMismatch, open_index
from checker.index_memory import MemoryIndex
from checker.index_redis import RedisIndex, drop
from tests.conftest import REDIS_URL, redis_connection


def keys(seed: int, n: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**63, size=n, dtype=np.uint64)


def pairs(hits) -> list[tuple[int, int]]:
    return sorted(zip(hits.article_ids.tolist(), hits.positions.tolist()))


def found(hits) -> list[tuple[int, int]]:
    """``(article id, query positions it was hit at)``, most first."""
    ids, counts = np.unique(hits.article_ids, return_counts=True)
    return sorted(zip(ids.tolist(), counts.tolist()), key=lambda x: (-x[1], x[0]))


@pytest.fixture
def client():
    conn = redis_connection()
    yield conn
    conn.close()


def prefix_keys(client: redis.Redis, prefix: str) -> set[bytes]:
    return set(client.scan_iter(match=f"{prefix}:*", count=10_000))


@pytest.fixture
def prefix(client):
    """A fresh key prefix; every key under it is deleted afterwards."""
    name = f"test-index-{uuid.uuid4().hex}"
    yield name
    leftovers = list(prefix_keys(client, name))
    for i in range(0, len(leftovers), 1_000):
        client.unlink(*leftovers[i : i + 1_000])


@pytest.fixture
def make_redis(client, prefix):
    """``make_redis(scheme=...)``: another RedisIndex on the test prefix, as another process would open."""
    opened: list[RedisIndex] = []

    def make(scheme: FingerprintScheme = DEFAULT_SCHEME) -> RedisIndex:
        idx = RedisIndex(scheme, url=REDIS_URL, prefix=prefix)
        opened.append(idx)
        return idx

    yield make
    for idx in opened:
        idx.close()


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    """A fresh, empty index on each backend."""
    if request.param == "memory":
        return MemoryIndex(DEFAULT_SCHEME)
    return request.getfixturevalue("make_redis")()


# -- behaviours both backends share ------------------------------------------------------------------
def test_query_finds_the_article_sharing_a_key(backend) -> None:
    backend.add([(1, keys(1)), (2, keys(2))])
    q = keys(99, 3)
    q[1] = keys(2)[4]
    hits = backend.query(q)
    assert hits.article_ids.tolist() == [2] and hits.positions.tolist() == [1]
    assert found(backend.query(keys(98))) == []
    assert found(backend.query(np.empty(0, dtype=np.uint64))) == []


def test_a_key_repeated_in_the_query_hits_at_every_position_holding_it(backend) -> None:
    backend.add([(1, keys(1)), (2, keys(2))])
    q = keys(99, 4)
    q[0] = q[2] = keys(1)[0]
    q[3] = keys(2)[1]
    assert pairs(backend.query(q)) == [(1, 0), (1, 2), (2, 3)]


def test_remove_hides_and_readd_revives(backend) -> None:
    backend.add([(1, keys(1)), (2, keys(2))])
    backend.remove([1])
    assert found(backend.query(keys(1))) == []
    assert backend.article_ids().tolist() == [2]
    backend.add([(1, keys(3))])
    assert found(backend.query(keys(1))) == []  # old postings purged
    assert found(backend.query(keys(3))) == [(1, 5)]
    assert backend.article_ids().tolist() == [1, 2]


def test_stop_keys_are_skipped(backend) -> None:
    common = keys(5, 1)
    backend.add([(i, common) for i in range(1, MAX_POSTINGS_PER_KEY + 10)])
    assert found(backend.query(common)) == []
    backend.add([(MAX_POSTINGS_PER_KEY + 20, keys(6))])
    assert found(backend.query(keys(6))) == [(MAX_POSTINGS_PER_KEY + 20, 5)]


def test_wrong_key_arrays_and_bad_ids_are_refused(backend) -> None:
    with pytest.raises(ValueError, match="1-D uint64"):
        backend.add([(2, np.zeros((2, 3), dtype=np.uint64))])
    with pytest.raises(ValueError, match="1-D uint64"):
        backend.add([(2, np.zeros(3, dtype=np.int64))])
    with pytest.raises(ValueError):
        backend.add([(0, keys(1))])
    assert backend.article_ids().tolist() == []
    largest = int(np.iinfo(np.uint32).max)
    backend.add([(largest, keys(1))])
    assert found(backend.query(keys(1))) == [(largest, 5)]


def test_clear_drops_everything(backend) -> None:
    backend.add([(1, keys(1)), (2, keys(2))])
    backend.clear()
    assert backend.article_ids().tolist() == []
    assert found(backend.query(keys(1))) == []
    backend.add([(3, keys(1))])
    assert found(backend.query(keys(1))) == [(3, 5)]


def test_both_backends_return_the_same_hits(make_redis) -> None:
    rng = np.random.default_rng(7)
    memory, shared = MemoryIndex(DEFAULT_SCHEME), make_redis()
    # 300 articles drawing their keys from a small pool, so keys are shared by 0..many articles,
    # some past the stop-window limit.
    pool = rng.integers(0, 2**64 - 1, size=3_000, dtype=np.uint64)
    stop, popular = pool[0], pool[1:3]
    articles = []
    for i in range(1, 301):
        k = rng.choice(pool[3:], size=120, replace=False)
        k[0], k[1] = stop, popular[i % 2]
        articles.append((i, k))
    for idx in (memory, shared):
        idx.add(articles)
        idx.remove([5, 17])
    q = rng.choice(pool, size=2_000)
    q[:3] = pool[:3]
    assert len(memory.query(q).article_ids) > 1_000
    assert pairs(shared.query(q)) == pairs(memory.query(q))


def test_factory_builds_redis(prefix) -> None:
    idx = open_index({"type": "redis", "url": REDIS_URL, "prefix": prefix}, DEFAULT_SCHEME)
    try:
        assert isinstance(idx, RedisIndex) and idx.prefix == prefix
    finally:
        idx.close()
    with pytest.raises(ValueError, match="unknown index type"):
        open_index({"type": "cassandra"}, DEFAULT_SCHEME)


# -- what only the shared index promises ----------------------------------------------------------------
def test_other_processes_see_changes_at_once(make_redis) -> None:
    writer, reader = make_redis(), make_redis()
    writer.add([(1, keys(1))])
    assert found(reader.query(keys(1))) == [(1, 5)]
    assert reader.article_ids().tolist() == [1]
    reader.remove([1])
    assert found(writer.query(keys(1))) == []
    reader.save()  # a no-op: nothing was waiting to be written


def test_a_fresh_client_finds_everything(prefix) -> None:
    first = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=prefix)
    first.add([(i, keys(i)) for i in range(1, 51)])
    first.close()
    fresh = RedisIndex(DEFAULT_SCHEME, client=redis.Redis.from_url(REDIS_URL), prefix=prefix)
    try:
        assert fresh.article_ids().tolist() == list(range(1, 51)) and fresh.article_count() == 50
        assert found(fresh.query(keys(42))) == [(42, 5)]
    finally:
        fresh.client.close()


def test_other_scheme_is_refused_at_open(make_redis) -> None:
    make_redis()  # claims the prefix for the default scheme, even before any article
    with pytest.raises(SchemeMismatch, match="rebuild"):
        make_redis(FingerprintScheme(rows=4, bands=15))
    idx = make_redis()
    idx.add([(1, keys(1))])
    with pytest.raises(SchemeMismatch, match="rebuild"):
        make_redis(FingerprintScheme(winnow_k=4))
    assert found(make_redis().query(keys(1))) == [(1, 5)]


def test_readding_is_idempotent(make_redis, client, prefix) -> None:
    idx = make_redis()
    doubled = np.concatenate([keys(1), keys(1)])  # a repeated paragraph posts the article once
    idx.add([(1, doubled), (2, keys(2))])
    once = pairs(idx.query(keys(1)))
    snapshot = {k: client.dump(k) for k in prefix_keys(client, prefix)}
    idx.add([(1, doubled)])
    idx.add([(1, keys(1))])
    assert pairs(idx.query(keys(1))) == once == [(1, p) for p in range(5)]
    assert {k: client.dump(k) for k in prefix_keys(client, prefix)} == snapshot


def test_remove_deletes_the_postings(make_redis, client, prefix) -> None:
    idx = make_redis()
    idx.add([(i, keys(i)) for i in range(1, 21)])
    idx.remove(range(1, 21))
    idx.remove([999])  # unknown ids are ignored
    assert {k.decode() for k in prefix_keys(client, prefix)} == {f"{prefix}:scheme", f"{prefix}:layout"}


def test_a_stop_key_revives_when_articles_are_removed(make_redis) -> None:
    idx = make_redis()
    common = keys(5, 1)
    idx.add([(i, common) for i in range(1, MAX_POSTINGS_PER_KEY + 2)])
    assert found(idx.query(common)) == []
    idx.remove([1])
    assert len(found(idx.query(common))) == MAX_POSTINGS_PER_KEY


def test_large_batches_span_several_pipelines(make_redis, monkeypatch) -> None:
    import checker.index_redis as mod

    monkeypatch.setattr(mod, "BATCH_KEYS", 250)
    idx = make_redis()
    idx.add((i, keys(i)) for i in range(1, 101))  # a generator, as the registry passes
    assert idx.article_ids().tolist() == list(range(1, 101))
    assert all(found(idx.query(keys(i))) == [(i, 5)] for i in (1, 37, 100))


class CommandCounter:
    """Counts what a redis client sends: single commands, pipeline executions, and the index's own
    packed pipelines and MGETs (written and read without redis-py's per-command Python)."""

    def __init__(self, idx: RedisIndex, monkeypatch) -> None:
        self.commands: list[str] = []
        self.pipelines = 0
        client = idx.client
        execute_command, pipeline, raw = client.execute_command, client.pipeline, idx._raw

        def counted_command(*args, **kwargs):
            self.commands.append(str(args[0]))
            return execute_command(*args, **kwargs)

        def counted_pipeline(*args, **kwargs):
            pipe = pipeline(*args, **kwargs)
            execute = pipe.execute

            def counted_execute(*a, **kw):
                self.pipelines += 1
                return execute(*a, **kw)

            pipe.execute = counted_execute
            return pipe

        def counted_raw(*args, **kwargs):
            self.pipelines += 1
            return raw(*args, **kwargs)

        mget_raw = idx._mget_raw

        def counted_mget(*args, **kwargs):
            self.commands.append("MGET")
            return mget_raw(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", counted_command)
        monkeypatch.setattr(client, "pipeline", counted_pipeline)
        monkeypatch.setattr(idx, "_raw", counted_raw)
        monkeypatch.setattr(idx, "_mget_raw", counted_mget)

    @property
    def round_trips(self) -> int:
        return len(self.commands) + self.pipelines


def test_a_query_is_one_mget_and_an_add_two_round_trips(make_redis, monkeypatch) -> None:
    idx = make_redis()
    idx.add([(i, keys(i, 16)) for i in range(1, 201)])
    suspect = keys(1_000, 3_000)  # a book-sized suspect: still one command
    suspect[10:26] = keys(7, 16)
    counter = CommandCounter(idx, monkeypatch)
    hits = idx.query(suspect)
    assert counter.round_trips == 1 and counter.commands == ["MGET"]
    assert found(hits) == [(7, 16)]
    counter.commands.clear()
    idx.add([(500, keys(500)), (501, keys(501))])  # read the records, then write
    assert counter.round_trips == 2 and counter.commands == ["MGET"] and counter.pipelines == 1
    counter.commands.clear(), setattr(counter, "pipelines", 0)
    idx.add([(500, keys(500))])  # identical: nothing written
    assert counter.round_trips == 1


def bucket_of(idx: RedisIndex, key) -> bytes:
    return idx._bucket_name(int(np.uint64(key) >> idx._shift))


def test_a_hot_key_moves_out_of_its_bucket_and_back(make_redis, client, monkeypatch) -> None:
    """One paragraph in thousands of articles: registration appends in O(1) and reads its bucket once
    per TIDY_BYTES, the bucket a scan reads stays bounded, and removals revive the key."""
    import checker.index_redis as mod

    idx = make_redis()
    hot = keys(5, 1)
    neighbour = (hot & ~np.uint64(0xFFFF)) | ((hot + np.uint64(1)) & np.uint64(0xFFFF))  # same bucket
    rewrites = []
    rewrite = idx._rewrite
    monkeypatch.setattr(idx, "_rewrite", lambda b, d: (rewrites.append(len(b)), rewrite(b, d)))
    copies = 3_000
    for start in range(1, copies + 1, 100):
        idx.add([(i, np.concatenate([hot, keys(10_000 + i, 3)])) for i in range(start, start + 100)])
    idx.add([(copies + 1, neighbour)])
    assert found(idx.query(hot)) == []  # a stop key
    assert found(idx.query(neighbour)) == [(copies + 1, 1)]  # its bucket is still read
    assert len(client.get(bucket_of(idx, hot[0]))) <= mod.TIDY_BYTES + 2 * 6
    # 3,000 appends of 100 postings (600 bytes): a tidy at most every TIDY_BYTES, not every append.
    assert len(rewrites) <= copies * 6 // mod.TIDY_BYTES + 1
    idx.remove(range(1, copies - MAX_POSTINGS_PER_KEY + 1))  # 200 copies left: no longer a stop key
    assert len(found(idx.query(hot))) == MAX_POSTINGS_PER_KEY
    assert found(idx.query(keys(10_000 + copies, 3))) == [(copies, 3)]
    idx.remove(range(1, copies + 2))
    assert idx.article_ids().tolist() == []


def test_an_index_of_the_old_format_is_refused_and_dropped(make_redis, client, prefix) -> None:
    from checker.index_redis import drop

    client.set(f"{prefix}:layout", '{"format": 1, "shard_hex": 4}')
    client.hset(f"{prefix}:s:0a1b", "k", "v")
    client.sadd(f"{prefix}:articles", 7)
    client.set(f"{prefix}:a:7", "old")
    with pytest.raises(SchemeMismatch, match="storage format 1.*rebuild"):
        make_redis()
    drop(REDIS_URL, prefix)
    assert prefix_keys(client, prefix) == set()
    idx = make_redis()
    idx.add([(1, keys(1))])
    assert found(idx.query(keys(1))) == [(1, 5)]


def test_drop_leaves_a_longer_prefix_alone(client, prefix) -> None:
    from checker.index_redis import drop

    longer = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=f"{prefix}:a:1")
    short = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=prefix)
    try:
        longer.add([(1, keys(1))])
        short.add([(1, keys(2))])
        drop(client, prefix)
        assert found(longer.query(keys(1))) == [(1, 5)]
        assert {
            k for k in prefix_keys(client, prefix) if not k.startswith(f"{prefix}:a:1:".encode())
        } == set()
    finally:
        longer.close(), short.close()


def test_bucket_bits_come_from_the_url_and_stay_with_the_index(prefix) -> None:
    idx = open_index(
        {"type": "redis", "url": f"{REDIS_URL}?bucket_bits=14", "prefix": prefix}, DEFAULT_SCHEME
    )
    again = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=prefix, bucket_bits=18)
    try:
        assert idx.bucket_bits == again.bucket_bits == 14
        idx.add([(1, keys(1))])
        assert found(again.query(keys(1))) == [(1, 5)]
    finally:
        idx.close(), again.close()
    with pytest.raises(ValueError, match="bucket_bits"):
        RedisIndex(DEFAULT_SCHEME, url=f"{REDIS_URL}?bucket_bits=40", prefix=prefix)
    with pytest.raises(ValueError, match="braces"):
        RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix="a{b}")


def test_article_records_round_trip() -> None:
    from checker.index_redis import (
        article_record,
        article_records,
        decode_varints,
        encode_varints,
        record_buckets,
    )

    values = np.array([0, 1, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**24 - 1], dtype=np.int64)
    assert decode_varints(encode_varints(values)).tolist() == values.tolist()
    for n, bits in ((640, 20), (640, 17), (5, 12), (1, 24), (0, 20), (3_000, 12)):
        k = np.unique(keys(n, n))
        rec = article_record(k, bits)
        assert record_buckets(rec).tolist() == np.unique(k >> np.uint64(64 - bits)).tolist()
        if (n, bits) == (640, 17):  # ~650 keys among 2**17 buckets: Rice coding takes ~9 bits a bucket
            assert len(rec) < 8 + 4 + 10 * len(np.unique(k >> np.uint64(47))) / 8
    many = article_records([np.unique(keys(s, 50 * s)) for s in range(1, 6)], 17)
    assert [record_buckets(r).tolist() for r in many] == [
        np.unique(np.unique(keys(s, 50 * s)) >> np.uint64(47)).tolist() for s in range(1, 6)
    ]


@pytest.mark.parametrize("bits", [12, 14, 17, 20, 24])
def test_bucket_names_built_in_bulk_equal_one_by_one(make_redis, prefix, bits) -> None:
    idx = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=f"{prefix}-{bits}", bucket_bits=bits)
    try:
        buckets = np.random.default_rng(bits).integers(0, 2**bits, size=200)
        buckets[:2] = 0, 2**bits - 1
        assert idx._bucket_names(buckets) == [idx._bucket_name(int(b)) for b in buckets]
        assert len({len(n) for n in idx._bucket_names(buckets)}) == 1
    finally:
        drop(idx.client, idx.prefix)
        idx.close()
