"""Imports as tasks with a real Celery worker on Redis (issue 12): a dashboard upload is registered by
the worker, not the web process, and a second web app instance shows its progress; a worker killed
mid-import leaves the job shown as stopped, and both a re-upload and the redelivered task (acks late)
finish it. SQLite and PostgreSQL; loopback only."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import func, select

from checker import imports as core
from checker.models import Article, ImportJobRow
from checker.settings import Settings
from tests.web.conftest import PASSWORD, close_app, make_app
from tests.worker.conftest import CeleryWorker, worker_env
from tests.worker.test_celery_e2e import app_for
from web import accounts

REDIS_DB = 14  # this module's broker/index database on the CI Redis; flushed before and after each test


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path):
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    values = worker_env(tmp_path, REDIS_DB)
    if request.param == "postgresql":
        values["CHECKER_DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    yield values
    redis.Redis.from_url(broker).flushdb()


@pytest.fixture
def apps(env, tmp_path):
    """Two web app instances (as two gunicorn workers, or two machines) on the worker's database and
    broker, and a logged-in editor's client on each."""
    settings = Settings.from_env(env)
    one, two = make_app(tmp_path / "one", SETTINGS=settings), make_app(tmp_path / "two", SETTINGS=settings)
    try:
        with one.extensions["checker.registry"].Session.begin() as session:
            org_id = accounts.get_or_create_org(session, "Alpha News").id
            accounts.create_user(
                session, email="editor@alpha.example", password=PASSWORD, role="editor", org_id=org_id
            )
        clients = []
        for app in (one, two):
            client = app.test_client()
            assert (
                client.post(
                    "/login", data={"email": "editor@alpha.example", "password": PASSWORD}
                ).status_code
                == 302
            )
            clients.append(client)
        yield one, two, clients
    finally:
        close_app(two)
        close_app(one)


def article_lines(n: int) -> bytes:
    return "\n".join(
        json.dumps(
            {
                "title": f"Artikel {i}",
                "url": f"https://alpha.example/{i}",
                "text": f"Laporan nomor {i} tentang pelabuhan dan nelayan di pesisir utara. " * 4,
            }
        )
        for i in range(n)
    ).encode()


def upload(client, env: dict, data: bytes) -> str:
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    # Encoded in memory: the test client spools a body over 500 KB to a temporary file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "a.jsonl")})
    with app_for(env):  # the web process sends through the broker, as configured
        response = client.post(
            "/articles/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def wait_progress(client, location: str, ok, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        progress = client.get(location + ".json").get_json()
        if ok(progress):
            return progress
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)


def job_row(app, location: str) -> ImportJobRow:
    from sqlalchemy.orm import undefer

    with app.extensions["checker.registry"].Session() as session:
        return session.scalars(
            select(ImportJobRow)
            .options(undefer(ImportJobRow.payload))
            .where(ImportJobRow.id == location.rsplit("/", 1)[1])
        ).one()


@contextmanager
def writes_blocked(database_url: str):
    """Hold the database's write lock (SQLite) or the import_jobs table (PostgreSQL): the worker stops at
    its next write, in the middle of the import, until it is killed."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("LOCK TABLE import_jobs IN EXCLUSIVE MODE"))  # reads go on; updates wait
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def test_an_upload_is_registered_by_the_worker_and_shown_by_another_instance(env, apps, tmp_path):
    one, two, (client, other) = apps
    n = 3 * core.CHUNK + 5
    location = upload(client, env, article_lines(n))
    # No worker yet: the web process registered nothing itself; the job waits, and says so everywhere.
    assert other.get(location + ".json").get_json() | {"id": None} == {
        "id": None,
        "status": "running",
        "filename": "a.jsonl",
        "total": n,
        "processed": 0,
        "registered": 0,
        "skipped": 0,
        "errors": 0,
        "reason": None,
        "percent": 0,
    }
    assert job_row(one, location).payload == article_lines(n)  # the worker reads the file from the database
    worker = CeleryWorker(env, tmp_path / "worker.log")
    try:
        done = wait_progress(other, location, lambda p: p["status"] != "running")
    finally:
        worker.stop()
    assert done | {"id": None} == {
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
    assert "worker.import_tasks.run_import" in (tmp_path / "worker.log").read_text()
    row = job_row(two, location)
    assert row.payload is None and row.attempts == 0
    with two.extensions["checker.registry"].Session() as session:
        assert session.scalar(select(func.count(Article.id))) == n


def test_a_worker_killed_mid_import_shows_stopped_and_both_a_reupload_and_redelivery_finish(
    env, apps, tmp_path
):
    one, two, (client, other) = apps
    n = 40 * core.CHUNK
    data = article_lines(n)
    first = CeleryWorker(env, tmp_path / "w1.log")
    try:
        location = upload(client, env, data)
        wait_progress(other, location, lambda p: p["processed"] >= core.CHUNK)
        with writes_blocked(env["CHECKER_DATABASE_URL"]):
            stopped_at = job_row(two, location).processed
            first.kill9()  # stuck at its next write, in the middle of the import
    finally:
        first.stop()
    assert core.CHUNK <= stopped_at < n, "the import ended before the worker could be stopped in its middle"
    mid = other.get(location + ".json").get_json()  # the other instance sees where it stopped
    assert (mid["status"], mid["processed"], mid["total"]) == ("running", stopped_at, n)

    # Nothing moves for STALE_AFTER: every instance shows the job stopped, saying how to resume.
    with one.extensions["checker.registry"].Session.begin() as session:
        row = session.get(ImportJobRow, location.rsplit("/", 1)[1])
        row.updated_at = row.updated_at - core.STALE_AFTER - timedelta(seconds=1)
    stale = other.get(location + ".json").get_json()
    assert stale["status"] == "failed"
    assert stale["reason"].startswith(
        f"the import stopped after {stopped_at:,} of {n:,} articles when its server "
        "process stopped; upload the file again to resume"
    )

    again = upload(client, env, data)  # the user uploads again; a new worker starts
    second = CeleryWorker(env, tmp_path / "w2.log")
    try:
        resumed = wait_progress(other, again, lambda p: p["status"] != "running", timeout=180)
        # The killed run's message was never acknowledged: it is delivered again and its job ends too.
        redelivered = wait_progress(other, location, lambda p: p["status"] == "done", timeout=180)
    finally:
        second.stop()
    assert resumed["status"] == "done" and resumed["processed"] == n
    assert resumed["registered"] + resumed["skipped"] == n and resumed["skipped"] >= stopped_at
    assert redelivered["processed"] == n and redelivered["registered"] + redelivered["skipped"] == n
    # Each article is counted registered once at most: the chunk the killed run had registered but not yet
    # counted (its progress write was the one held) is counted as already there by whichever run came next.
    assert n - core.CHUNK <= resumed["registered"] + redelivered["registered"] <= n
    with two.extensions["checker.registry"].Session() as session:
        assert session.scalar(select(func.count(Article.id))) == n
