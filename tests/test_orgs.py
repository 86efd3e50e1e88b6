"""The default organisation adopts what the first round's CLI registered and scanned without one, so the
dashboard shows it; other organisations adopt nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from checker.models import Article, Organisation, Scan
from checker.orgs import DEFAULT_ORG, org_id_for
from checker.records import ArticleIn
from checker.registry import Registry

TEXT = (
    "Nelayan di pesisir utara Pekalongan memperbaiki perahu mereka setelah banjir rob merendam "
    "dermaga selama tiga hari berturut-turut pekan lalu. "
) * 4


def test_the_default_organisation_adopts_rows_without_one(storage_settings):
    old_cli = Registry(storage_settings)  # the first round's CLI: no organisation
    try:
        orphan = old_cli.register(ArticleIn(title="Old CLI article", text=TEXT, url="https://old.example/a"))
        scan_id = old_cli.record_scan(TEXT, None, old_cli.scan(TEXT))
    finally:
        old_cli.close()

    registry = Registry(storage_settings)  # a later command
    try:
        other = org_id_for(registry.Session, "Beta Daily")  # another organisation adopts nothing
        with registry.Session() as session:
            assert session.get(Article, orphan).org_id is None and session.get(Scan, scan_id).org_id is None

        default = org_id_for(registry.Session, None)
        with registry.Session() as session:
            assert session.get(Article, orphan).org_id == default != other
            assert session.get(Scan, scan_id).org_id == default
            assert session.scalars(select(Article.id).where(Article.org_id.is_(None))).all() == []
        # Found by the default organisation's scans, not by another's.
        assert [m.article.id for m in registry.scan(TEXT, org_id=default).matches] == [orphan]
        assert not registry.scan(TEXT, org_id=other).matches
        assert org_id_for(registry.Session, DEFAULT_ORG) == default  # the same one, found by name
    finally:
        registry.close()


def test_the_demo_adopts_them_too(settings):
    from web.cli import setup_demo

    old_cli = Registry(settings)
    try:
        orphan = old_cli.register(ArticleIn(title="Old CLI article", text=TEXT, url="https://old.example/a"))
        setup_demo(old_cli)  # `checker serve --demo`: the dashboard's demo organisation is the default one
        with old_cli.Session() as session:
            article = session.get(Article, orphan)
            assert article.org_id is not None and article.org_id == session.scalar(
                select(Organisation.id).where(Organisation.name == DEFAULT_ORG)
            )
    finally:
        old_cli.close()
