"""Alembic migrations (issue 12, "Migrations"), on SQLite and PostgreSQL:

- the revisions build exactly the schema of ``checker/models.py`` (Alembic's own comparison finds no
  difference), so a model change without a revision fails here;
- a database made by an old release (commit 000ce24's schema, dumped as SQL in ``tests/data``: its
  ``create_all`` DDL for each dialect), with data in it, is upgraded by ``checker db upgrade`` to the same
  schema, its rows intact and its articles found by a scan;
- processes starting together on a new database migrate it once;
- ``CHECKER_AUTO_MIGRATE=0`` sets up a new database but refuses an old one with the command to run, and a
  database from a newer release is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from checker import migrate, store
from checker.models import Base
from checker.records import ArticleIn
from checker.registry import Registry
from checker.settings import Settings

DATA = Path(__file__).parent / "data"
CHECKER = str(Path(sys.executable).with_name("checker"))
OLD_TEXT = (
    "Banjir bandang melanda tiga kecamatan di Kabupaten Garut pada Selasa malam setelah hujan deras "
    "mengguyur kawasan hulu sungai Cimanuk selama enam jam tanpa henti. Badan Penanggulangan Bencana "
    "Daerah mencatat lebih dari dua ratus rumah terendam dan seribu warga mengungsi ke balai desa, "
    "sementara jembatan penghubung dua desa di tepi sungai putus diterjang arus deras."
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()
        return f"sqlite:///{tmp_path / 'data' / 'checker.db'}"
    return request.getfixturevalue("pg_schema_url")


def differences(url: str) -> list:
    engine = store.make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()


def revision(url: str) -> str | None:
    engine = store.make_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.current(conn)
    finally:
        engine.dispose()


@pytest.fixture
def run_checker(cli_zygote):
    """``run_checker(url, tmp_path, *args, **env)``: ``checker`` on that database, a process of its own
    (a child of the CLI fork server, tests/cli_zygote.py)."""

    def run(url: str, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
        argv = [CHECKER, "--data-dir", str(tmp_path / "data"), "--database-url", url, *args]
        proc = cli_zygote.run(argv, {**os.environ, **env}, str(tmp_path), None, timeout=120)
        return subprocess.CompletedProcess(argv, proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    return run


def make_old_release_database(url: str) -> None:
    """Commit 000ce24's schema with an organisation, an account, an article (with a url, before url_key
    existed) and a scan with its match."""
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    statements = [s for s in (DATA / f"schema-000ce24-{dialect}.sql").read_text().split(";\n") if s.strip()]
    now = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    engine = store.make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
            conn.execute(
                text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'Old News', :now)"),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO users (email, password_hash, role, org_id, active, failed_logins, created_at) "
                    "VALUES ('old@old.example', 'x', 'admin', 1, :yes, 0, :now)"
                ),
                {"yes": True, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO articles (id, org_id, title, url, license, partners, text, text_sha256, word_count, "
                    "fingerprint_version, created_at, updated_at) VALUES (7, 1, 'Banjir Garut', "
                    "'HTTPS://Old.example/banjir?utm_source=x', 'all-rights-reserved', '[]', :text, 'x', 52, 1, :now, :now)"
                ),
                {"text": OLD_TEXT, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO scans (id, org_id, source, status, text, attempts, created_at) "
                    "VALUES (3, 1, 'text', 'done', :text, 1, :now)"
                ),
                {"text": OLD_TEXT, "now": now},
            )
    finally:
        engine.dispose()


def test_the_revisions_build_the_models_schema(database_url, tmp_path, run_checker):
    result = run_checker(database_url, tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "upgraded (new) to revision" in result.stderr
    assert revision(database_url) == migrate.head()
    assert differences(database_url) == []
    again = run_checker(database_url, tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "already at revision" in again.stderr


def test_an_old_release_database_with_data_is_upgraded(database_url, tmp_path, run_checker):
    make_old_release_database(database_url)
    assert differences(database_url) != []  # the old schema really is older
    assert revision(database_url) is None

    result = run_checker(database_url, tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "upgraded (legacy)" in result.stderr
    assert revision(database_url) == migrate.head()
    assert differences(database_url) == []

    engine = store.make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title, url_key, org_id FROM articles")).one() == (
                "Banjir Garut",
                "https://old.example/banjir",
                1,
            )
            assert conn.execute(text("SELECT session_version, site_admin FROM users")).one() == (0, False)
            assert conn.execute(text("SELECT time_zone, alert_frequency FROM organisations")).one() == (
                "UTC",
                "immediate",
            )
            assert conn.execute(text("SELECT id, status FROM scans")).one() == (3, "done")
    finally:
        engine.dispose()

    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url)
    with Registry(settings) as registry:  # the old article is indexed and found
        result = registry.scan(OLD_TEXT[:240], org_id=1)
        assert [m.article.id for m in result.matches] == [7]
        registered = registry.register_many(
            [
                ArticleIn(
                    title="Baru", text=OLD_TEXT + " Tambahan kalimat baru.", url="https://old.example/banjir/"
                )
            ],
            org_id=1,
            skip_existing=True,
        )
        assert registered[0].existing  # the filled url_key finds the old article by its canonical url


def test_processes_starting_together_migrate_a_new_database_once(database_url, tmp_path):
    command = [CHECKER, "--data-dir", str(tmp_path / "data"), "--database-url", database_url, "db", "upgrade"]
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    messages = [err for _, err in outputs]
    assert sum("upgraded (new)" in m for m in messages) == 1, messages
    assert sum("already at revision" in m for m in messages) == 3, messages
    assert differences(database_url) == []


def test_without_auto_migrate_an_old_database_asks_for_the_command(database_url, tmp_path, run_checker):
    make_old_release_database(database_url)
    settings = Settings.from_env(
        {"CHECKER_AUTO_MIGRATE": "0"}, data_dir=tmp_path / "data", database_url=database_url
    )
    with pytest.raises(migrate.SchemaError, match="run `checker db upgrade`"):
        Registry(settings)
    assert revision(database_url) is None  # untouched
    result = run_checker(database_url, tmp_path, "articles", "list", CHECKER_AUTO_MIGRATE="0")
    assert (
        result.returncode == 1 and "checker db upgrade" in result.stderr and "Traceback" not in result.stderr
    )


def test_without_auto_migrate_a_new_database_is_still_set_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'checker.db'}"
    settings = Settings.from_env({"CHECKER_AUTO_MIGRATE": "0"}, data_dir=tmp_path, database_url=url)
    with Registry(settings) as registry:
        assert registry.count_articles() == 0
    assert revision(url) == migrate.head()


def test_a_database_from_a_newer_release_is_refused(database_url, tmp_path, run_checker):
    assert run_checker(database_url, tmp_path, "db", "upgrade").returncode == 0
    engine = store.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = run_checker(database_url, tmp_path, "db", "upgrade")
    assert result.returncode == 1
    assert (
        "revision 9999, which this release does not know" in result.stderr
        and "Traceback" not in result.stderr
    )
    status = run_checker(database_url, tmp_path, "db", "current", "--json")
    assert '"state": "ahead"' in status.stdout


def test_the_revision_files_form_one_line_as_the_quick_reading_assumes():
    # checker.migrate reads revision ids from file names so that opening a database needs no Alembic import.
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.config())
    assert script.get_heads() == [migrate.head()]
    revisions = sorted(migrate.known_revisions())
    assert {s.revision for s in script.walk_revisions()} == set(revisions)
    for older, newer in zip(revisions, revisions[1:]):
        assert script.get_revision(newer).down_revision == older
