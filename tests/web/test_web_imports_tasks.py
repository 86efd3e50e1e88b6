"""Bulk imports run as tasks (issue 12, "Imports as tasks"), on the embedded default: the upload is
stored with its job, a task registers it (on the web process's background thread here; a Celery worker
in tests/worker/test_celery_imports.py) in slices that resume from the stored progress, and the file is
dropped when the job ends. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from sqlalchemy import select

from checker import imports as core
from checker.models import Article, ImportJobRow
from tests.web.conftest import PASSWORD, close_app, make_app
from web import accounts
from worker import import_tasks


def article_lines(n: int, host: str = "alpha.example") -> bytes:
    return "\n".join(
        json.dumps(
            {
                "title": f"Artikel {i}",
                "url": f"https://{host}/{i}",
                "text": f"Laporan nomor {i} dari {host} tentang pelabuhan dan nelayan di pesisir utara. " * 5,
            }
        )
        for i in range(n)
    ).encode()


def editor_of(app, org: str = "Alpha News"):
    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:
        org_id = accounts.get_or_create_org(session, org).id
        accounts.create_user(
            session, email="editor@alpha.example", password=PASSWORD, role="editor", org_id=org_id
        )
    client = app.test_client()
    assert (
        client.post("/login", data={"email": "editor@alpha.example", "password": PASSWORD}).status_code == 302
    )
    return client, org_id


def upload(client, data: bytes, name: str = "a.jsonl") -> str:
    response = client.post(
        "/articles/upload", content_type="multipart/form-data", data={"file": (io.BytesIO(data), name)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def wait_done(client, location: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        progress = client.get(location + ".json").get_json()
        if progress["status"] != "running":
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)


def row_of(registry, location: str) -> ImportJobRow:
    from sqlalchemy.orm import undefer

    with registry.Session() as session:
        return session.scalars(
            select(ImportJobRow)
            .options(undefer(ImportJobRow.payload))
            .where(ImportJobRow.id == location.rsplit("/", 1)[1])
        ).one()


@pytest.fixture(params=["sqlite", "postgresql"])
def background_app(request, tmp_path):
    """The embedded default as served: tasks on the web process's background threads (no scheduler)."""
    from checker.settings import Settings

    url = request.getfixturevalue("pg_schema_url") if request.param == "postgresql" else None
    settings = Settings.from_env({}, data_dir=tmp_path / "data", database_url=url)
    app = make_app(tmp_path, SETTINGS=settings, BACKGROUND_TASKS=True, SCHEDULER=False)
    yield app
    close_app(app)


def test_an_upload_is_registered_by_the_background_task_and_its_file_dropped(background_app, monkeypatch):
    monkeypatch.setattr(
        import_tasks, "SLICE_S", 0
    )  # one chunk per run: every run resumes from the stored progress
    client, org_id = editor_of(background_app)
    n = 3 * core.CHUNK + 7
    location = upload(client, article_lines(n))
    assert wait_done(client, location) | {"id": None} == {
        "id": None,
        "status": "done",
        "filename": "a.jsonl",
        "total": n,
        "processed": n,
        "registered": n,
        "skipped": 0,
        "errors": 0,
        "reason": None,
        "percent": 100,
    }
    registry = background_app.extensions["checker.registry"]
    row = row_of(registry, location)
    assert row.payload is None and row.attempts == 0  # the file is kept only while the job runs
    with registry.Session() as session:
        assert len(session.scalars(select(Article.id).where(Article.org_id == org_id)).all()) == n

    again = upload(client, article_lines(n + 2))  # a re-upload registers only what is new
    assert wait_done(client, again)["registered"] == 2 and wait_done(client, again)["skipped"] == n


def test_the_upload_is_stored_before_the_task_runs(app, monkeypatch):
    sent = []
    monkeypatch.setattr(
        import_tasks, "send", sent.append
    )  # no task runs: what the route stored is what a worker reads
    client, _ = editor_of(app)
    data = article_lines(4)
    location = upload(client, data + b"\n{broken\n")
    job_id = location.rsplit("/", 1)[1]
    assert sent == [job_id]
    row = row_of(app.extensions["checker.registry"], location)
    assert (row.status, row.total, row.processed, row.error_count, row.payload) == (
        "running",
        4,
        0,
        1,
        data + b"\n{broken\n",
    )
    progress = client.get(location + ".json").get_json()
    assert progress["status"] == "running" and progress["percent"] == 0

    import_tasks.import_task.apply((job_id,))  # the worker's run: the line error is not counted twice
    assert client.get(location + ".json").get_json() | {"id": None} == {
        "id": None,
        "status": "done",
        "filename": "a.jsonl",
        "total": 4,
        "processed": 4,
        "registered": 4,
        "skipped": 0,
        "errors": 1,
        "reason": None,
        "percent": 100,
    }
    assert import_tasks.import_task.apply((job_id,)).get() == "nothing"  # delivered twice: nothing to do


def test_a_file_refused_whole_stores_no_job(app):
    client, _ = editor_of(app)
    response = client.post(
        "/articles/upload",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"title,url\nA,https://a.example/\n"), "a.csv")},
    )
    assert response.status_code == 422
    assert "the CSV header needs a &#39;text&#39; column" in response.get_data(as_text=True)
    with app.extensions["checker.registry"].Session() as session:
        assert session.scalars(select(ImportJobRow.id)).all() == []


def test_a_long_file_name_keeps_its_extension_so_the_worker_reads_it_as_uploaded(app):
    client, _ = editor_of(app)
    name = "x" * 400 + ".csv"
    location = upload(
        client, b"title,text\nSatu,Laporan tentang pelabuhan dan nelayan di pesisir utara.\n", name
    )
    progress = client.get(location + ".json").get_json()
    assert progress["status"] == "done" and progress["registered"] == 1, progress
    assert len(progress["filename"]) == core.MAX_NAME and progress["filename"].endswith(".csv")


def test_a_file_that_kills_every_worker_is_given_up(app, monkeypatch):
    monkeypatch.setattr(import_tasks, "send", lambda job_id: None)
    client, _ = editor_of(app)
    location = upload(client, article_lines(2))
    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:  # as left by MAX_ATTEMPTS runs whose worker died
        session.get(ImportJobRow, location.rsplit("/", 1)[1]).attempts = core.MAX_ATTEMPTS
    assert import_tasks.import_task.apply((location.rsplit("/", 1)[1],)).get() == "nothing"
    progress = client.get(location + ".json").get_json()
    assert progress["status"] == "failed" and progress["processed"] == 0
    assert progress["reason"].startswith(
        "the import stopped after 0 of 2 articles when its server process stopped"
    )
    assert row_of(registry, location).payload is None


def test_the_upload_page_lists_uploads_and_cli_imports(app, tmp_path):
    from click.testing import CliRunner

    from checker.cli import cli

    client, _ = editor_of(app)
    uploaded = upload(client, article_lines(2), "web.jsonl").rsplit("/", 1)[1]
    path = tmp_path / "cli.jsonl"
    path.write_bytes(article_lines(3, host="beta.example"))
    settings = app.config["SETTINGS"]
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(settings.data_dir),
            "--database-url",
            settings.database_url,
            "--org",
            "Alpha News",
            "import",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    page = client.get("/articles/upload").get_data(as_text=True)
    rows = re.findall(r'<tr data-import-id="([0-9a-f]{32})">(.*?)</tr>', page, re.S)
    assert [job_id for job_id, _ in rows][1] == uploaded  # newest first: the CLI run, then the upload
    assert "cli.jsonl" in rows[0][1] and "3 / 3" in rows[0][1] and "web.jsonl" in rows[1][1]
    cli_job = client.get(f"/articles/upload/{rows[0][0]}.json").get_json()
    assert (cli_job["status"], cli_job["registered"], cli_job["filename"]) == ("done", 3, "cli.jsonl")
    assert client.get("/articles/upload", headers={"Accept-Language": "id"}).status_code == 200
