"""The Redis passage index, against the real Redis server CI starts on 127.0.0.1:6379.

Behaviours shared with the memory index are tests/test_index_contract.py's, run on both backends; here is
what only a shared index promises: other processes see changes at once, a fresh client finds
everything, a query is one round trip, the stored scheme is enforced at open time.
"""

from __future__ import annotations

import numpy as np
import pytest
import redis

from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme
from checker.index import MAX_POSTINGS_PER_KEY, SchemeMismatch, open_index
from checker.index_redis import RedisIndex, drop, figures_name
from tests.conftest import REDIS_URL
from tests.indexes import found, keys, pairs, prefix_keys


def test_factory_builds_redis(redis_prefix) -> None:
    idx = open_index({"type": "redis", "url": REDIS_URL, "prefix": redis_prefix}, DEFAULT_SCHEME)
    try:
        assert isinstance(idx, RedisIndex) and idx.prefix == redis_prefix
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


def test_a_fresh_client_finds_everything(redis_prefix) -> None:
    first = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=redis_prefix)
    first.add([(i, keys(i)) for i in range(1, 51)])
    first.close()
    fresh = RedisIndex(DEFAULT_SCHEME, client=redis.Redis.from_url(REDIS_URL), prefix=redis_prefix)
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


def test_readding_is_idempotent(make_redis, redis_client, redis_prefix) -> None:
    idx = make_redis()
    doubled = np.concatenate([keys(1), keys(1)])  # a repeated paragraph posts the article once
    idx.add([(1, doubled), (2, keys(2))])
    once = pairs(idx.query(keys(1)))
    snapshot = {k: redis_client.dump(k) for k in prefix_keys(redis_client, redis_prefix)}
    idx.add([(1, doubled)])
    idx.add([(1, keys(1))])
    assert pairs(idx.query(keys(1))) == once == [(1, p) for p in range(5)]
    assert {k: redis_client.dump(k) for k in prefix_keys(redis_client, redis_prefix)} == snapshot


def test_remove_deletes_the_postings(make_redis, redis_client, redis_prefix) -> None:
    idx = make_redis()
    idx.add([(i, keys(i)) for i in range(1, 21)])
    idx.remove(range(1, 21))
    idx.remove([999])  # unknown ids are ignored
    assert {k.decode() for k in prefix_keys(redis_client, redis_prefix)} == {
        f"{redis_prefix}:scheme",
        f"{redis_prefix}:layout",
        figures_name(redis_prefix),  # count 0, sum 0, and the mark of the largest id ever added
    }
    assert idx.id_figures() == (0, 20, 0)


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


def test_a_hot_key_moves_out_of_its_bucket_and_back(make_redis, redis_client, monkeypatch) -> None:
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
    assert len(redis_client.get(bucket_of(idx, hot[0]))) <= mod.TIDY_BYTES + 2 * 6
    # 3,000 appends of 100 postings (600 bytes): a tidy at most every TIDY_BYTES, not every append.
    assert len(rewrites) <= copies * 6 // mod.TIDY_BYTES + 1
    idx.remove(range(1, copies - MAX_POSTINGS_PER_KEY + 1))  # 200 copies left: no longer a stop key
    assert len(found(idx.query(hot))) == MAX_POSTINGS_PER_KEY
    assert found(idx.query(keys(10_000 + copies, 3))) == [(copies, 3)]
    idx.remove(range(1, copies + 2))
    assert idx.article_ids().tolist() == []


def test_an_index_of_the_old_format_is_refused_and_dropped(make_redis, redis_client, redis_prefix) -> None:
    from checker.index_redis import drop

    redis_client.set(f"{redis_prefix}:layout", '{"format": 1, "shard_hex": 4}')
    redis_client.hset(f"{redis_prefix}:s:0a1b", "k", "v")
    redis_client.sadd(f"{redis_prefix}:articles", 7)
    redis_client.set(f"{redis_prefix}:a:7", "old")
    with pytest.raises(SchemeMismatch, match="storage format 1.*rebuild"):
        make_redis()
    drop(REDIS_URL, redis_prefix)
    assert prefix_keys(redis_client, redis_prefix) == set()
    idx = make_redis()
    idx.add([(1, keys(1))])
    assert found(idx.query(keys(1))) == [(1, 5)]


def test_drop_leaves_a_longer_prefix_alone(redis_client, redis_prefix) -> None:
    from checker.index_redis import drop

    longer = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=f"{redis_prefix}:a:1")
    short = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=redis_prefix)
    try:
        longer.add([(1, keys(1))])
        short.add([(1, keys(2))])
        drop(redis_client, redis_prefix)
        assert found(longer.query(keys(1))) == [(1, 5)]
        assert {
            k
            for k in prefix_keys(redis_client, redis_prefix)
            if not k.startswith(f"{redis_prefix}:a:1:".encode())
        } == set()
    finally:
        longer.close(), short.close()


def test_bucket_bits_come_from_the_url_and_stay_with_the_index(redis_prefix) -> None:
    idx = open_index(
        {"type": "redis", "url": f"{REDIS_URL}?bucket_bits=14", "prefix": redis_prefix}, DEFAULT_SCHEME
    )
    again = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=redis_prefix, bucket_bits=18)
    try:
        assert idx.bucket_bits == again.bucket_bits == 14
        idx.add([(1, keys(1))])
        assert found(again.query(keys(1))) == [(1, 5)]
    finally:
        idx.close(), again.close()
    with pytest.raises(ValueError, match="bucket_bits"):
        RedisIndex(DEFAULT_SCHEME, url=f"{REDIS_URL}?bucket_bits=40", prefix=redis_prefix)


def test_a_rebuild_makes_the_index_again_with_the_bucket_count_asked_for(redis_prefix, caplog) -> None:
    """An index outgrowing its buckets: reopened with a larger ``?bucket_bits`` it says it keeps its own,
    and clearing it (what ``checker index rebuild`` starts with) makes it again with the new count,
    which other processes then open with."""
    first = RedisIndex(DEFAULT_SCHEME, url=f"{REDIS_URL}?bucket_bits=14", prefix=redis_prefix)
    first.add([(1, keys(1))])
    bigger = RedisIndex(DEFAULT_SCHEME, url=f"{REDIS_URL}?bucket_bits=16", prefix=redis_prefix)
    try:
        assert bigger.bucket_bits == 14 and "keeps its own until `checker index rebuild`" in caplog.text
        bigger.clear()
        bigger.add([(2, keys(2))])
        assert bigger.bucket_bits == 16
        later = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=redis_prefix)
        assert later.bucket_bits == 16 and found(later.query(keys(2))) == [(2, 5)]
        assert found(later.query(keys(1))) == []
        later.close()
        # A process opened before the rebuild sees it with its next query and works in the new buckets.
        assert found(first.query(keys(2))) == [(2, 5)] and first.bucket_bits == 16
        first.add([(3, keys(3))])
        assert found(bigger.query(keys(3))) == [(3, 5)]
    finally:
        first.close(), bigger.close()


def test_a_process_sees_a_rebuild_with_another_scheme_at_its_next_scan(make_redis, redis_client) -> None:
    """Rebuilt by another process with another fingerprint scheme: this one's next query or addition
    refuses (its keys mean nothing there) with the way out, instead of reading or writing wrong buckets;
    while the index is dropped mid-rebuild, a query finds nothing."""
    old = make_redis()
    old.add([(1, keys(1))])
    rebuilder = make_redis()
    drop(redis_client, rebuilder.prefix)
    assert found(old.query(keys(1))) == []  # dropped: nothing to find, nothing claimed by a reader
    other = make_redis(FingerprintScheme(rows=4, bands=15))
    other.add([(2, keys(2))])
    with pytest.raises(SchemeMismatch, match="restart this process"):
        old.query(keys(2))
    with pytest.raises(SchemeMismatch, match="restart this process"):
        old.add([(3, keys(3))])
    assert found(other.query(keys(2))) == [(2, 5)]
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
def test_bucket_names_built_in_bulk_equal_one_by_one(make_redis, redis_prefix, bits) -> None:
    idx = RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=f"{redis_prefix}-{bits}", bucket_bits=bits)
    try:
        buckets = np.random.default_rng(bits).integers(0, 2**bits, size=200)
        buckets[:2] = 0, 2**bits - 1
        assert idx._bucket_names(buckets) == [idx._bucket_name(int(b)) for b in buckets]
        assert len({len(n) for n in idx._bucket_names(buckets)}) == 1
    finally:
        drop(idx.client, idx.prefix)
        idx.close()


def test_an_index_without_figures_gets_them_counted_at_open(make_redis, redis_client, redis_prefix) -> None:
    """An index written before the set's figures existed: the first open counts them inside Redis;
    later changes keep them; drop deletes them with the rest."""
    idx = make_redis()
    idx.add([(i, keys(i)) for i in (3, 9, 40)])
    redis_client.delete(figures_name(redis_prefix))
    assert make_redis().id_figures() == (3, 40, 52)
    idx.remove([40])
    idx.add([(7, keys(7))])
    assert make_redis().id_figures() == (3, 40, 19)  # top: the largest ever added
    assert figures_name(redis_prefix).encode() in prefix_keys(redis_client, redis_prefix)
    drop(REDIS_URL, redis_prefix)
    assert prefix_keys(redis_client, redis_prefix) == set()


def test_concurrent_writers_keep_the_figures_exact(make_redis) -> None:
    """Threads adding and removing overlapping ids at once: the figures still equal the set's."""
    import threading

    handles = [make_redis() for _ in range(4)]

    def work(idx, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(30):
            ids = rng.choice(np.arange(1, 80), size=5, replace=False).tolist()
            if rng.random() < 0.7:
                idx.add([(i, keys(i, 3)) for i in ids])
            else:
                idx.remove(ids)

    threads = [threading.Thread(target=work, args=(h, n)) for n, h in enumerate(handles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = handles[0].article_ids()
    count, top, total = handles[0].id_figures()
    assert (count, total) == (len(live), int(live.sum())) and top >= int(live.max())
