"""`checker import` records its run as an import job, and `checker imports list|show` read the
organisation's jobs, the dashboard's uploads among them (issue 12, imports as tasks). The console
script as a user runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from checker import imports
from checker.models import ImportJobRow
from checker.orgs import org_id_for
from checker.registry import Registry
from checker.settings import Settings
from tests.test_cli import (
    run,  # noqa: F401 - the fixture
    write,
)


def lines(n: int, start: int = 0) -> list[str]:
    return [
        json.dumps(
            {
                "title": f"Artikel {i}",
                "url": f"https://alpha.example/{i}",
                "text": f"Laporan nomor {i} tentang pelabuhan dan nelayan di pesisir utara. " * 5,
            }
        )
        for i in range(start, start + n)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request, run, tmp_path):  # noqa: F811
    """``cli(*args, ok=True)`` on SQLite, then on a fresh PostgreSQL schema; ``cli.settings`` is its database."""
    env = {}
    if request.param == "postgresql":
        env["CHECKER_DATABASE_URL"] = request.getfixturevalue("pg_schema_url")
    settings = Settings.from_env(env, data_dir=tmp_path / "data")

    def call(*args: str, ok: bool = True):
        return run(*args, ok=ok, extra_env=env)

    call.settings = settings
    return call


def test_a_cli_import_is_a_job_listed_and_shown(cli, tmp_path):
    path = write(tmp_path / "a.jsonl", "\n".join(lines(2) + ["{broken"] + lines(1, start=2)) + "\n")
    code, _, err = cli("import", path, ok=False)
    assert code == 1 and "imported 3" in err and "line 3" in err

    _, out, _ = cli("imports", "list", "--json")
    [job] = [json.loads(line) for line in out.splitlines()]
    assert {
        k: job[k]
        for k in (
            "status",
            "filename",
            "total",
            "processed",
            "registered",
            "skipped",
            "errors",
            "reason",
            "percent",
        )
    } == {
        "status": "done",
        "filename": "a.jsonl",
        "total": 3,
        "processed": 3,
        "registered": 3,
        "skipped": 0,
        "errors": 1,
        "reason": None,
        "percent": 100,
    }
    assert job["started_at"] <= job["updated_at"]

    _, out, _ = cli("imports", "show", job["id"], "--json")
    shown = json.loads(out)
    assert shown["id"] == job["id"] and len(shown["line_errors"]) == 1 and "line 3" in shown["line_errors"][0]
    _, out, _ = cli("imports", "show", job["id"])
    assert "progress: 3 of 3 articles (100%), 3 registered, 0 already there, 1 line(s) with errors" in out
    assert "line 3" in out

    again = write(
        tmp_path / "b.jsonl", "\n".join(lines(4)) + "\n"
    )  # a second run: one more job, newest first
    cli("import", again)
    _, out, err = cli("imports", "list")
    rows = out.splitlines()
    assert len(rows) == 2 and "2 import job(s) in Default" in err
    assert rows[0].split()[:2][1] == "done" and rows[0].endswith("b.jsonl") and rows[1].endswith("a.jsonl")
    assert "1 new" in rows[0] and "3 skipped" in rows[0]


def test_jobs_are_the_organisations_and_an_unknown_id_is_one_line(cli, tmp_path):
    cli("import", write(tmp_path / "a.jsonl", "\n".join(lines(1)) + "\n"))
    _, out, _ = cli("imports", "list", "--json")
    job_id = json.loads(out)["id"]
    _, out, _ = cli("--org", "Other Daily", "imports", "list", "--json")
    assert out == ""
    _, out, err = cli("--org", "Other Daily", "imports", "list")
    assert out == "" and "0 import job(s) in Other Daily" in err
    code, _, err = cli("--org", "Other Daily", "imports", "show", job_id, ok=False)
    assert code == 1 and f"no import job '{job_id}' in Other Daily" in err
    for bad in ("nope", "'; DROP TABLE import_jobs; --", "a" * 40):
        code, _, err = cli("imports", "show", bad, ok=False)
        assert code == 1 and err.startswith("error: no import job"), err


def test_a_dashboard_upload_shows_in_the_cli_and_a_stopped_one_says_so(cli):
    registry = Registry(cli.settings)
    try:
        org_id = org_id_for(registry.Session, "Default")
        data = "\n".join(lines(2)).encode()
        job = imports.create(
            registry.Session, data, "upload.jsonl", org_id=org_id, max_chars=registry.settings.max_text_chars
        )
        with registry.Session.begin() as session:  # its runner died long ago
            row = session.get(ImportJobRow, job.id)
            row.updated_at = row.updated_at - imports.STALE_AFTER - timedelta(seconds=1)
    finally:
        registry.close()
    _, out, _ = cli("imports", "show", job.id, "--json")
    shown = json.loads(out)
    assert shown["status"] == "failed" and shown["filename"] == "upload.jsonl" and shown["total"] == 2
    assert shown["reason"].startswith(
        "the import stopped after 0 of 2 articles when its server process stopped"
    )
    _, out, _ = cli("imports", "list")
    assert job.id in out and "failed" in out
