"""A bulk upload's progress is in the database (issue 12, point 6): another web process (a second
gunicorn worker) answers for it, and a job whose process stopped reads as stopped, with its reason,
instead of running for ever. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from checker.models import ImportJobRow
from tests.web.conftest import PASSWORD, close_app, make_app
from web import imports


def login(app, email: str):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_another_process_answers_and_a_stopped_job_says_so(storage_app, tmp_path):
    settings = storage_app.config["SETTINGS"]
    other = make_app(tmp_path / "second", SETTINGS=settings)  # the second worker: the same database
    try:
        lines = [
            json.dumps(
                {
                    "title": f"Artikel {i}",
                    "url": f"https://alpha.example/{i}",
                    "text": f"Laporan nomor {i} tentang pelabuhan dan nelayan di pesisir utara. " * 5,
                }
            )
            for i in range(3)
        ]
        client = login(storage_app, "editor@alpha.example")
        location = client.post(
            "/articles/upload",
            content_type="multipart/form-data",
            data={"file": (io.BytesIO("\n".join(lines).encode()), "a.jsonl")},
        ).headers["Location"]
        progress = login(other, "editor@alpha.example").get(location + ".json")
        assert progress.status_code == 200
        assert progress.get_json() | {"id": None} == {
            "id": None,
            "status": "done",
            "filename": "a.jsonl",
            "total": 3,
            "processed": 3,
            "registered": 3,
            "skipped": 0,
            "errors": 0,
            "reason": None,
            "percent": 100,
        }
        assert login(other, "editor@beta.example").get(location + ".json").status_code == 404  # not theirs

        # A job left "running" by a process that died: once it has not moved for STALE_AFTER, it says so.
        job_id = location.rsplit("/", 1)[1]
        registry = storage_app.extensions["checker.registry"]
        with registry.Session.begin() as session:
            row = session.get(ImportJobRow, job_id)
            row.status, row.processed, row.updated_at = (
                "running",
                1,
                row.updated_at - imports.STALE_AFTER - timedelta(seconds=1),
            )
        stopped = client.get(location + ".json").get_json()
        assert stopped["status"] == "failed"
        assert stopped["reason"].startswith(
            "the import stopped after 1 of 3 articles when its server process stopped"
        )
        page = client.get(location).get_data(as_text=True)
        assert "when its server process stopped" in page
    finally:
        close_app(other)


@pytest.mark.parametrize("name", ["a\x00b.jsonl", "x" * 400 + ".jsonl"])
def test_a_hostile_file_name_is_stored_cleaned(storage_app, name):
    # The job is stored now: a NUL in the name, or a NUL or lone surrogate in a line's error, must not
    # reach the database as is (PostgreSQL refuses NUL in text; the driver refuses lone surrogates).
    client = login(storage_app, "editor@alpha.example")
    bad_line = '{"title": "t\\u0000x\\ud800", "text": 5}\n'
    response = client.post(
        "/articles/upload",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(bad_line.encode()), name)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Why it failed" in page.get_data(as_text=True)
