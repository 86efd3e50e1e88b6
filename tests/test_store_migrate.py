"""Databases created before a column existed get it on the next start (checker.migrate.upgrade: the baseline
revision adds the columns older releases lacked), on SQLite and on PostgreSQL: ``users.session_version``
(issue 9, finding 4), ``articles.url_key``, monitoring's columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from checker import migrate, store
from checker.models import Base
from checker.settings import Settings
from tests.web.conftest import PASSWORD, close_app
from web import accounts


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'checker.db'}"
    return request.getfixturevalue("pg_schema_url")


# Columns that came with revisions after the baseline (0002): a database from before migrations never had
# them, so the old databases below are made without them.
AFTER_BASELINE = [("import_jobs", "payload"), ("import_jobs", "attempts")]


def create_legacy_tables(engine) -> None:
    """The tables ``create_all`` made before migrations existed: today's models less AFTER_BASELINE."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for table, column in AFTER_BASELINE:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))


def make_old_database(url: str) -> None:
    """A database as ``create_all`` made it before ``users.session_version`` existed, with an account."""
    engine = store.make_engine(url)
    try:
        create_legacy_tables(engine)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE users DROP COLUMN session_version"))
            conn.execute(
                text("INSERT INTO organisations (name, created_at) VALUES ('Old News', :now)"), {"now": now}
            )
            conn.execute(
                text(
                    "INSERT INTO users (email, password_hash, role, org_id, active, failed_logins, created_at) "
                    "SELECT 'old@old.example', :hash, 'admin', id, :yes, 0, :now FROM organisations"
                ),
                {"hash": accounts.hash_password(PASSWORD), "yes": True, "now": now},
            )
        assert "session_version" not in {c["name"] for c in inspect(engine).get_columns("users")}
    finally:
        engine.dispose()


def users_columns(url: str) -> dict[str, dict]:
    engine = store.make_engine(url)
    try:
        return {c["name"]: c for c in inspect(engine).get_columns("users")}
    finally:
        engine.dispose()


def test_upgrade_adds_the_session_version_to_an_old_database(database_url):
    make_old_database(database_url)
    for _ in range(2):  # idempotent: the second start changes nothing
        engine = store.make_engine(database_url)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT session_version FROM users")).scalars().all() == [0]
        engine.dispose()
    column = users_columns(database_url)["session_version"]
    assert not column["nullable"]


def test_an_old_database_serves_logins_and_logouts(database_url, tmp_path):
    from web import create_app

    make_old_database(database_url)
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url)
    app = create_app(
        {
            "TESTING": True,
            "SETTINGS": settings,
            "SECRET_KEY": "test-only-key",
            "BACKGROUND_TASKS": False,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    try:
        client = app.test_client()
        assert (
            client.post("/login", data={"email": "old@old.example", "password": PASSWORD}).status_code == 302
        )
        assert client.get("/").status_code == 200
        cookie = client.get_cookie("session").value
        client.post("/logout")
        replay = app.test_client()
        replay.set_cookie("session", cookie)
        assert replay.get("/").status_code == 302
    finally:
        close_app(app)


def test_upgrade_adds_and_fills_the_articles_url_key(database_url):
    # Articles registered before url_key existed get their canonical url, so re-registering them at a
    # variant of their url finds them.
    engine = store.make_engine(database_url)
    try:
        create_legacy_tables(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_articles_url_key"))
            conn.execute(text("ALTER TABLE articles DROP COLUMN url_key"))
            conn.execute(
                text(
                    "INSERT INTO articles (title, url, license, partners, text, text_sha256, word_count, "
                    "fingerprint_version, created_at, updated_at) VALUES ('Old', 'HTTPS://Old.example/a/?utm_source=x', "
                    "'all-rights-reserved', '[]', 'old text', 'x', 2, 1, :now, :now)"
                ),
                {"now": datetime.now(UTC)},
            )
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # idempotent
        with engine.connect() as conn:
            assert conn.execute(text("SELECT url_key FROM articles")).scalars().all() == [
                "https://old.example/a"
            ]
        assert "ix_articles_url_key" in {i["name"] for i in inspect(engine).get_indexes("articles")}
    finally:
        engine.dispose()


MONITORING_COLUMNS = [
    ("articles", "discovered_at"),
    *[("watches", c) for c in ("kind", "etag", "last_modified", "failures", "last_error", "paused_reason")],
    *[("organisations", c) for c in ("alert_frequency", "last_digest_at", "alert_emails")],
]


def test_upgrade_adds_monitorings_columns_to_an_old_database(database_url):
    # Issue 11's columns on a database made before them, with a watch and an organisation in it: they
    # are added with their defaults, and the old rows read as a site watch with no failures and an
    # organisation alerted as copies are found.
    assert len(MONITORING_COLUMNS) == 10
    engine = store.make_engine(database_url)
    try:
        create_legacy_tables(engine)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_articles_discovered_at"))
            for table, column in MONITORING_COLUMNS:
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            conn.execute(
                text(
                    "INSERT INTO organisations (name, created_at, time_zone, exclude_quotes) "
                    "VALUES ('Old', :now, 'UTC', :yes)"
                ),
                {"now": now, "yes": True},
            )
            conn.execute(
                text(
                    "INSERT INTO watches (url, interval_minutes, max_pages, active, created_at) "
                    "VALUES ('https://copier.example/', 60, 10, :yes, :now)"
                ),
                {"now": now, "yes": True},
            )
        for _ in range(2):  # idempotent
            migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT kind, failures, etag, paused_reason FROM watches")).one() == (
                "site",
                0,
                None,
                None,
            )
            assert conn.execute(text("SELECT alert_frequency, alert_emails FROM organisations")).one() == (
                "immediate",
                None,
            )
        assert "ix_articles_discovered_at" in {i["name"] for i in inspect(engine).get_indexes("articles")}
    finally:
        engine.dispose()
