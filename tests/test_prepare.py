"""Registration fingerprints large batches on several processes (checker.prepare): the results are the
ones one process computes, and a process that may not fork (one with threads, as the dashboard) does the
work itself."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import Corpus
from checker import prepare
from checker.fingerprint import DEFAULT_SCHEME
from checker.records import ArticleIn
from checker.registry import Registry


def texts(n: int) -> list[str]:
    corpus = Corpus(seed=3, words=120)
    return [corpus.article(i).text for i in range(n)]


def test_forked_preparation_equals_preparation_here():
    batch = texts(prepare.MIN_PARALLEL + 10)
    with prepare.Preparer(DEFAULT_SCHEME, workers=2) as preparer:
        forked = preparer.map(batch)
        assert preparer._pool is not None  # the pool really ran
    here = [prepare.prepare(t, DEFAULT_SCHEME) for t in batch]
    assert [n for n, _ in forked] == [n for n, _ in here]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(forked, here))


def test_a_process_with_threads_does_not_fork():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with prepare.Preparer(DEFAULT_SCHEME, workers=2) as preparer:
            assert len(preparer.map(texts(prepare.MIN_PARALLEL))) == prepare.MIN_PARALLEL
            assert preparer._pool is None
    finally:
        stop.set()
        thread.join()


def test_registering_on_two_processes_indexes_what_one_does(settings, tmp_path):
    from dataclasses import replace

    articles = [ArticleIn(title=f"a{i}", text=t) for i, t in enumerate(texts(prepare.MIN_PARALLEL + 50))]
    other = replace(settings, data_dir=tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    with Registry(settings) as one, Registry(other) as two:
        ids_one = [r.id for r in one.register_many(articles, workers=1)]
        ids_two = [r.id for r in two.register_many(articles, workers=2)]
        assert ids_one == ids_two
        for i in (0, 77, len(articles) - 1):
            excerpt = articles[i].text[:400]
            assert [m.article.id for m in one.scan(excerpt).matches] == [
                m.article.id for m in two.scan(excerpt).matches
            ]
            assert ids_one[i] in [m.article.id for m in two.scan(excerpt).matches]
        with one.Session() as s1, two.Session() as s2:
            from sqlalchemy import select

            from checker.models import Article

            assert (
                s1.scalars(select(Article.word_count).order_by(Article.id)).all()
                == s2.scalars(select(Article.word_count).order_by(Article.id)).all()
            )


def test_checker_import_fingerprints_on_several_processes(tmp_path):
    # The console script starts its pool before its progress bar's thread; what it registers is found.
    import json
    import subprocess
    import sys
    from pathlib import Path

    batch = texts(prepare.MIN_PARALLEL + 20)
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text("".join(json.dumps({"title": f"a{i}", "text": t}) + "\n" for i, t in enumerate(batch)))
    checker = str(Path(sys.executable).with_name("checker"))
    base = [checker, "--data-dir", str(tmp_path / "data")]
    run = subprocess.run(
        [*base, "import", str(jsonl)], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    assert run.returncode == 0, run.stderr
    assert f"imported {len(batch)}" in run.stderr
    (tmp_path / "suspect.txt").write_text(batch[123][:500])
    scan = subprocess.run(
        [*base, "scan", "--json", str(tmp_path / "suspect.txt")],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert scan.returncode == 0, scan.stderr
    assert [m["article"]["title"] for m in json.loads(scan.stdout)["matches"]] == ["a123"]


def test_a_registry_keeps_its_pool_between_registrations(settings):
    with Registry(settings) as reg:
        assert reg.prepare_in_parallel(workers=2)
        pool = reg._preparer._pool
        first = reg.register_many(
            [ArticleIn(title=f"a{i}", text=t) for i, t in enumerate(texts(prepare.MIN_PARALLEL))]
        )
        again = reg.register_many([ArticleIn(title="b", text=texts(prepare.MIN_PARALLEL + 1)[-1])])
        assert reg._preparer._pool is pool and len(first) == prepare.MIN_PARALLEL and not again[0].existing
    assert reg._preparer is None  # closed with the registry


def test_a_bad_article_in_a_later_batch_fails_after_the_earlier_batches_are_registered(settings):
    # Batches are committed one by one: an invalid article fails its batch, and the batches before it
    # stay registered (a re-run resumes after them).
    from checker.errors import InputError
    from checker.registry import REGISTER_BATCH

    good = [ArticleIn(title=f"a{i}", text=t) for i, t in enumerate(texts(REGISTER_BATCH + 1))]
    bad = [*good[:REGISTER_BATCH], ArticleIn(title="empty", text="   "), *good[REGISTER_BATCH:]]
    with Registry(settings) as registry:
        try:
            registry.register_many(bad, workers=2)
        except InputError:
            pass
        else:
            raise AssertionError("an empty text was registered")
        assert len(registry.index.article_ids()) == REGISTER_BATCH


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3 * prepare.CHUNK_CHARS // 2), max_size=4 * prepare.CHUNK))
def test_chunks_keep_every_text_in_order_within_both_limits(lengths: list[int]):
    texts = ["x" * n for n in lengths]
    chunks = prepare.chunks(texts)
    assert [t for chunk in chunks for t in chunk] == texts
    for chunk in chunks:
        assert 1 <= len(chunk) <= prepare.CHUNK
        assert len(chunk) == 1 or sum(map(len, chunk)) <= prepare.CHUNK_CHARS


def test_preparing_many_here_equals_one_at_a_time():
    batch = texts(2 * prepare.CHUNK + 3) + ["", "dua kata"]
    together = prepare.prepare_many(batch, DEFAULT_SCHEME)
    alone = [prepare.prepare(t, DEFAULT_SCHEME) for t in batch]
    assert [n for n, _ in together] == [n for n, _ in alone]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(together, alone))


def test_texts_handed_ahead_are_prepared_while_the_caller_goes_on():
    first, second, third = texts(60), texts(120)[60:], ["dua kata", *texts(150)[120:]]
    with prepare.Preparer(DEFAULT_SCHEME, workers=2) as preparer:
        assert preparer.start()
        got_first = preparer.map(first, ahead=second)
        assert [chunk for chunk, _ in preparer._ahead] == prepare.chunks(second)  # on the pool now
        got_second = preparer.map(second, ahead=third[1:])
        # Asked for other texts than were handed ahead: those are dropped, these prepared now.
        got_third = preparer.map(third)
        assert preparer._ahead == []
    for batch, got in ((first, got_first), (second, got_second), (third, got_third)):
        alone = [prepare.prepare(t, DEFAULT_SCHEME) for t in batch]
        assert [n for n, _ in got] == [n for n, _ in alone]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, alone))


def test_registering_batches_ahead_indexes_what_one_at_a_time_does(settings, tmp_path, monkeypatch):
    """Three batches, each fingerprinted while the one before is stored, then a re-run that finds every
    article registered (and hands nothing ahead), then a caller's next chunk handed ahead."""
    from dataclasses import replace

    from checker import registry as registry_module

    monkeypatch.setattr(registry_module, "REGISTER_BATCH", 100)
    handed: list[int] = []  # how many texts each map() hands ahead
    real_map = prepare.Preparer.map

    def recording_map(self, texts, ahead=()):
        handed.append(len(ahead))
        return real_map(self, texts, ahead)

    monkeypatch.setattr(prepare.Preparer, "map", recording_map)
    articles = [
        ArticleIn(title=f"a{i}", text=t, url=f"https://x.example/{i}") for i, t in enumerate(texts(330))
    ]
    other = replace(settings, data_dir=tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    with Registry(settings) as one, Registry(other) as two:
        assert two.prepare_in_parallel()
        ids_one = [r.id for r in one.register_many(articles[:300], workers=1, skip_existing=True)]
        handed.clear()
        ids_two = [r.id for r in two.register_many(articles[:300], skip_existing=True, ahead=articles[300:])]
        assert ids_one == ids_two and handed == [100, 100, 30]
        # the caller's next chunk, on the pool
        assert [t for chunk, _ in two._preparer._ahead for t in chunk] == [a.text for a in articles[300:]]
        handed.clear()
        again = two.register_many(articles[:300], skip_existing=True)
        assert all(r.existing for r in again) and not two._mostly_new
        assert handed == [100, 0, 0]  # after a batch of registered articles, nothing more ahead
        ids_one += [r.id for r in one.register_many(articles[300:], workers=1, skip_existing=True)]
        ids_two += [r.id for r in two.register_many(articles[300:], skip_existing=True)]
        assert ids_one == ids_two and two._mostly_new
        for i in (0, 150, 299, 329):
            excerpt = articles[i].text[:400]
            assert [m.article.id for m in one.scan(excerpt).matches] == [
                m.article.id for m in two.scan(excerpt).matches
            ]
            assert ids_one[i] in [m.article.id for m in two.scan(excerpt).matches]
