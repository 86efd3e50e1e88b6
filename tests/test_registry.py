"""Storage on SQLite and on the real PostgreSQL server: register, scan, record, delete, resync."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from checker.demo import register_demo_articles
from checker.errors import InputError, NotFound
from checker.models import Article, MatchRow, Scan
from checker.records import ArticleIn
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import SEEDS


def test_register_scan_record_delete(storage_settings, seed_suspects) -> None:
    with Registry(storage_settings) as reg:
        ids = register_demo_articles(reg, SEEDS)
        assert len(ids) == 3 and reg.count_articles() == 3
        article = reg.get_article(ids[0])
        assert article.publisher == "Lingkar.co" and article.partners == ["mitra-lingkar.example"]
        assert article.published_at.astimezone(UTC) == datetime(2021, 7, 6, 3, tzinfo=UTC)
        assert article.fingerprint_version == storage_settings.scheme.version

        suspect = seed_suspects["partial-copy"]
        result = reg.scan(suspect["text"], suspect["url"])
        scan_id = reg.record_scan(suspect["text"], suspect["url"], result)
        with reg.Session() as s:
            scan = s.get(Scan, scan_id)
            assert (
                scan.verdict == "unattributed_reuse" and scan.result["matches"][0]["article"]["id"] == ids[0]
            )
            row = s.scalars(select(MatchRow).where(MatchRow.scan_id == scan_id)).one()
            assert [(p.suspect_start, p.suspect_end) for p in row.passages] == [
                (p.suspect_start, p.suspect_end) for p in result.matches[0].passages
            ]

        reg.delete_article(ids[0])
        assert reg.scan(suspect["text"]).verdict == "no_reuse"
        with pytest.raises(NotFound):
            reg.get_article(ids[0])
        with reg.Session() as s:  # the recorded scan stays as history
            assert s.get(MatchRow, row.id).article_id is None


def test_reopening_does_not_refingerprint_and_resumes(storage_settings, seed_suspects, monkeypatch) -> None:
    with Registry(storage_settings) as reg:
        register_demo_articles(reg, SEEDS)
        assert [
            r.existing
            for r in reg.register_many(
                [ArticleIn(title="t", text=seed_suspects["unrelated"]["text"])] * 2, skip_existing=True
            )
        ] == [False, True]
    with Registry(storage_settings) as again:
        assert again.sync_index() == (0, 0)  # nothing to re-fingerprint
        assert register_demo_articles(again, SEEDS) == [1, 2, 3]  # resumable: same ids, nothing new
        assert again.count_articles() == 4
        assert again.scan(seed_suspects["full-copy"]["text"]).verdict == "unattributed_reuse"


def test_a_new_text_at_the_same_url_replaces_the_old_one(storage_settings, seed_suspects) -> None:
    # Issue 10, point 2: registering is idempotent by canonical url; a new text there is an update of
    # the article's text (fingerprinted again), within one organisation only.
    unrelated = seed_suspects["unrelated"]["text"]
    copy = seed_suspects["full-copy"]["text"]
    with Registry(storage_settings) as reg:
        first = reg.register_many(
            [ArticleIn(title="t", text=unrelated, url="https://a.example/x")], skip_existing=True, org_id=None
        )[0]
        assert reg.scan(copy).verdict == "no_reuse"
        again = reg.register_many(
            [ArticleIn(title="t", text=copy, url="HTTPS://A.example:443/x/?utm_medium=rss")],
            skip_existing=True,
        )[0]
        assert (again.id, again.existing, again.changed) == (first.id, True, ("text",))
        assert again.message == f"already registered as #{first.id}; updated: text"
        assert reg.count_articles() == 1 and reg.get_article(first.id).url == "https://a.example/x"
        assert reg.scan(copy).verdict == "unattributed_reuse" and reg.scan(unrelated).verdict == "no_reuse"
        # Within one batch too: the second line updates the first.
        batch = reg.register_many(
            [
                ArticleIn(title="b", text=unrelated, url="https://b.example/y"),
                ArticleIn(title="b2", text=unrelated, url="https://b.example/y/"),
            ],
            skip_existing=True,
        )
        assert [(r.existing, r.changed) for r in batch] == [(False, ()), (True, ("title",))]
        assert reg.get_article(batch[0].id).title == "b2"


def test_index_is_rebuilt_from_the_database(storage_settings, seed_suspects) -> None:
    with Registry(storage_settings) as reg:
        register_demo_articles(reg, SEEDS)
        reg.index.clear()  # lost index files, or a crash between the database commit and the index save
    with Registry(storage_settings) as reg:
        assert reg.index.article_ids().tolist() == [1, 2, 3]
        assert reg.scan(seed_suspects["flood-partial"]["text"]).matches[0].article.id == 2
        assert reg.rebuild_index() == 3


def test_a_changed_scheme_rebuilds_instead_of_mixing(settings, seed_suspects) -> None:
    from dataclasses import replace

    from checker.fingerprint import FingerprintScheme

    with Registry(settings) as reg:
        register_demo_articles(reg, SEEDS)
    other = replace(settings, scheme=FingerprintScheme(version=2, bands=15, rows=4))
    with Registry(other) as reg:
        assert reg.index.scheme.version == 2 and len(reg.index.article_ids()) == 3
        assert reg.scan(seed_suspects["full-copy"]["text"]).verdict == "unattributed_reuse"


def test_bad_articles_are_refused_and_nothing_is_stored(storage_settings) -> None:
    with Registry(storage_settings) as reg:
        for bad, msg in [
            (ArticleIn(title="t", text="   \n"), "empty"),
            (ArticleIn(title="  ", text="some text"), "title"),
            (ArticleIn(title="t", text="x\x00\x01\x02" * 10), "binary"),
            (ArticleIn(title="t", text="words", license="mine-all-mine"), "licence"),
        ]:
            with pytest.raises(InputError, match=msg):
                reg.register(bad)
        with pytest.raises(InputError, match="too large"):
            reg.register(ArticleIn(title="t", text="a " * (storage_settings.max_text_chars // 2 + 1)))
        assert reg.count_articles() == 0
        with reg.Session() as s:
            assert s.scalars(select(Article)).all() == []


def test_stray_nuls_are_stored_and_scanned_on_both_backends(storage_settings, seed_articles) -> None:
    """PostgreSQL cannot store NUL in text: a NUL is replaced one for one, so offsets stay right."""
    original = seed_articles[0]["text"]
    with_nuls = original.replace("Kunjungan", "Kunjungan\x00", 1) + "\x00"
    with Registry(storage_settings) as reg:
        article_id = reg.register(ArticleIn(title="t", text=with_nuls))
        stored = reg.get_article(article_id).text
        assert len(stored) == len(with_nuls) and "\x00" not in stored
        suspect = "Ringkasan\x00 berita.\n\n" + original
        result = reg.scan(suspect)
        assert result.verdict == "unattributed_reuse"
        assert reg.record_scan(suspect, None, result) > 0
        for p in result.matches[0].passages:
            copied = suspect[p.suspect_start : p.suspect_end].split()
            found = stored[p.source_start : p.source_end].split()
            assert copied[:3] == found[:3] and copied[-3:] == found[-3:]


def test_unicode_and_long_fields_round_trip(storage_settings) -> None:
    text = (
        "東京都は二十七日、新型ワクチンの大規模接種会場を来月から拡大すると発表した。対象は六十五歳以上の"
        "高齢者で、予約は区市町村の窓口とインターネットで受け付ける。担当者によると、接種の枠は一日あたり"
        "一万人分を確保しており、混雑を避けるため時間帯を分けて案内する方針だという。\n\n"
        "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ ข่าวนี้รายงานว่ารัฐบาลจะขยายศูนย์ฉีดวัคซีน"
    )
    with Registry(storage_settings) as reg:
        article_id = reg.register(ArticleIn(title="記事 " * 200, text=text, partners=("Partner.Example ",)))
        a = reg.get_article(article_id)
        assert a.text == text and len(a.title) <= 500 and a.partners == ["partner.example"]
        result = reg.scan("前置き。" + text[:200])
        assert result.matches and result.matches[0].article.id == article_id


def test_shared_index_of_another_scheme_is_refused_until_rebuilt(tmp_path, seed_suspects) -> None:
    import uuid
    from dataclasses import replace

    import redis as redis_lib

    from checker.fingerprint import FingerprintScheme
    from checker.index import SchemeMismatch
    from checker.index_redis import drop

    url, prefix = "redis://127.0.0.1:6379/15", f"test:{uuid.uuid4().hex[:8]}"
    base = Settings.from_env(
        {"CHECKER_INDEX_URL": url, "CHECKER_INDEX_PREFIX": prefix}, data_dir=tmp_path / "d"
    )
    try:
        with Registry(base) as reg:
            register_demo_articles(reg, SEEDS)
        other = replace(base, scheme=FingerprintScheme(version=2, bands=15, rows=4))
        with pytest.raises(SchemeMismatch, match="rebuild"):
            Registry(other)  # other workers may be using it: never dropped implicitly
        with Registry(other, sync=False, drop_shared_index=True) as reg:
            assert reg.rebuild_index() == 3
            assert reg.scan(seed_suspects["full-copy"]["text"]).verdict == "unattributed_reuse"
    finally:
        drop(redis_lib.Redis.from_url(url), prefix)


class Statements:
    """The SQL an engine runs, for checking that opening a registry reads no list of every article."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: self.seen.append(" ".join(a[2].split())))

    def full_id_lists(self) -> list[str]:
        return [s for s in self.seen if s.startswith("SELECT articles.id FROM articles") and "WHERE" not in s]


def _open_watched(settings: Settings, monkeypatch) -> tuple[Registry, Statements, tuple[int, int]]:
    """A registry opened with its SQL recorded from the start, and what its opening sync did."""
    import checker.registry as registry_module

    watched: dict = {}
    real = registry_module.make_engine

    def make_engine(url):
        engine = real(url)
        watched["statements"] = Statements(engine)
        return engine

    monkeypatch.setattr(registry_module, "make_engine", make_engine)
    synced: list = []
    real_sync = Registry.sync_index
    monkeypatch.setattr(Registry, "sync_index", lambda self: synced.append(real_sync(self)) or synced[-1])
    reg = Registry(settings)
    monkeypatch.undo()
    return reg, watched["statements"], synced[0]


def _insert_unindexed(reg: Registry, text: str) -> int:
    """An article stored by a process that stopped before it indexed it."""
    from sqlalchemy import insert

    from checker.registry import text_digest

    now = datetime.now(UTC)
    with reg.Session.begin() as s:
        return s.execute(
            insert(Article).returning(Article.id),
            [
                {
                    "title": "unindexed",
                    "license": "all-rights-reserved",
                    "partners": [],
                    "text": text,
                    "text_sha256": text_digest(text),
                    "word_count": len(text.split()),
                    "fingerprint_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        ).scalar_one()


def test_opening_a_registry_reads_no_list_of_every_article(
    storage_settings, seed_suspects, monkeypatch
) -> None:
    # Issue 12, point 4: opening compares one aggregate row with the index instead of listing every id.
    with Registry(storage_settings) as reg:
        register_demo_articles(reg, SEEDS)
    reg, statements, synced = _open_watched(storage_settings, monkeypatch)
    with reg:
        assert synced == (0, 0)
        assert statements.full_id_lists() == []
        assert any("max(articles.id)" in s for s in statements.seen)


def test_articles_stored_but_not_indexed_are_indexed_on_opening(
    storage_settings, seed_suspects, monkeypatch
) -> None:
    with Registry(storage_settings) as reg:
        register_demo_articles(reg, SEEDS)
        new_id = _insert_unindexed(reg, seed_suspects["unrelated"]["text"])
        assert reg.scan(seed_suspects["unrelated"]["text"]).verdict == "no_reuse"  # not in the index yet
    reg, statements, synced = _open_watched(storage_settings, monkeypatch)
    with reg:
        assert synced == (1, 0)
        assert statements.full_id_lists() == []  # read by id range past the index's newest
        result = reg.scan(seed_suspects["unrelated"]["text"])
        assert [m.article.id for m in result.matches] == [new_id]


def test_articles_deleted_behind_the_index_are_removed_on_opening(
    storage_settings, seed_suspects, monkeypatch
) -> None:
    from sqlalchemy import delete

    with Registry(storage_settings) as reg:
        ids = register_demo_articles(reg, SEEDS)
        early = _insert_unindexed(reg, seed_suspects["unrelated"]["text"])
        with reg.Session.begin() as s:  # out of order: an old article gone, an unindexed one below the newest
            s.execute(delete(Article).where(Article.id == ids[0]))
        reg.register_many([ArticleIn(title="later", text=seed_suspects["full-copy"]["text"] + " Tambahan.")])
    reg, statements, synced = _open_watched(storage_settings, monkeypatch)
    with reg:
        assert synced == (1, 1)
        assert len(statements.full_id_lists()) == 1  # the figures disagreed: every id compared once
        assert early in reg.index.article_ids() and ids[0] not in reg.index.article_ids()


def test_opening_a_registry_on_redis_lists_no_ids(tmp_path, redis_prefix, seed_suspects, monkeypatch) -> None:
    """On the shared Redis index the figures come from one HMGET (issue 12, point 4: SMEMBERS read a
    million ids on every open), also after the newest article was deleted (the index's mark stays above
    the database's largest id) and when an article was stored but never indexed."""
    from checker.index_redis import RedisIndex
    from tests.conftest import REDIS_URL

    settings = Settings.from_env(
        {"CHECKER_INDEX_URL": REDIS_URL, "CHECKER_INDEX_PREFIX": redis_prefix}, data_dir=tmp_path / "d"
    )
    with Registry(settings) as reg:
        ids = register_demo_articles(reg, SEEDS)
        reg.delete_article(max(ids))
    listed: list[int] = []
    real = RedisIndex.article_ids
    monkeypatch.setattr(RedisIndex, "article_ids", lambda self: listed.append(1) or real(self))
    reg, _statements, synced = _open_watched(settings, monkeypatch)
    with reg:
        assert synced == (0, 0) and listed == []
        new_id = _insert_unindexed(reg, seed_suspects["unrelated"]["text"])
    monkeypatch.setattr(RedisIndex, "article_ids", lambda self: listed.append(1) or real(self))
    reg, _statements, synced = _open_watched(settings, monkeypatch)
    with reg:
        assert synced == (1, 0) and listed == []
        assert [m.article.id for m in reg.scan(seed_suspects["unrelated"]["text"]).matches] == [new_id]
