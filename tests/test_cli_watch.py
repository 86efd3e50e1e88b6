"""`checker watch list|add|show|pause|resume|remove`, run as a user runs it (a subprocess on a data folder
of its own): the same facts as the Monitoring page, errors in plain words, another organisation's watch
"not found". Nothing is fetched: adding a watch only stores it (the scheduler runs it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from checker.models import Crawl, Watch
from checker.registry import Registry
from checker.settings import Settings
from tests.test_cli import run  # noqa: F401 - the fixture: `checker` in a subprocess, on tmp_path/data


def stored(tmp_path) -> Registry:
    """The data folder the commands use, opened in this process (to read rows, or make a watch fail)."""
    return Registry(Settings.from_env({}, data_dir=tmp_path / "data"))


def test_add_list_show_pause_resume_and_remove(run, tmp_path) -> None:  # noqa: F811
    _, out, err = run("watch", "list")
    assert out == "" and "nothing is watched yet" in err
    _, out, err = run("watch", "add", "https://copier.example/")
    assert out.strip() == "1" and "watching https://copier.example/ (site) every day" in err
    _, out, err = run(
        "watch",
        "add",
        "https://copier.example/feed.xml",
        "--kind",
        "feed",
        "--every",
        "90",
        "--max-pages",
        "5",
    )
    assert out.strip() == "2" and "every 90 minutes" in err

    _, out, _ = run("watch", "list")
    lines = out.splitlines()
    assert lines[0].split() == [
        "1",
        "https://copier.example/",
        "(site",
        "crawl)",
        "every",
        "day,",
        "at",
        "most",
        "50",
        "page(s)",
    ]
    assert "(feed or sitemap) every 90 minutes, at most 5 page(s)" in lines[3]
    assert lines[1].strip() == "active" and lines[4].strip() == "active"
    assert "last run never" in lines[2] and "next run at the scheduler's next round" in lines[2]
    assert "0 page(s) seen, 0 new match(es)" in lines[2]

    _, out, _ = run("watch", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["kind"], r["interval_minutes"], r["max_pages"], r["active"]) for r in rows] == [
        (1, "site", 1440, 50, True),
        (2, "feed", 90, 5, True),
    ]
    assert set(rows[0]) == {
        "id",
        "url",
        "kind",
        "interval_minutes",
        "max_pages",
        "active",
        "paused_reason",
        "last_run_at",
        "next_run_at",
        "last_status",
        "pages_seen",
        "new_matches",
        "failures",
        "last_error",
        "created_at",
    }

    _, out, err = run("watch", "pause", "2", "--reason", "the feed moves next week")
    assert "watch 2 paused: the feed moves next week" in err
    _, out, _ = run("watch", "show", "2", "--json")
    shown = json.loads(out)
    assert shown["active"] is False and shown["paused_reason"] == "the feed moves next week"
    assert shown["next_run_at"] is None
    _, out, _ = run("watch", "show", "2")
    assert "state: paused: the feed moves next week" in out and "next run: paused" in out
    assert "kind: feed or sitemap" in out and "schedule: every 90 minutes" in out

    _, _, err = run("watch", "resume", "2")
    assert "watch 2 resumed" in err
    shown = json.loads(run("watch", "show", "2", "--json")[1])
    assert shown["active"] is True and shown["paused_reason"] is None and shown["next_run_at"]

    _, _, err = run("watch", "remove", "1")
    assert "removed watch 1" in err
    assert [json.loads(line)["id"] for line in run("watch", "list", "--json")[1].splitlines()] == [2]


def test_failures_runs_and_times_are_shown_in_the_organisation_s_zone(run, tmp_path) -> None:  # noqa: F811
    run("org", "settings", "--time-zone", "Asia/Jakarta")
    run("watch", "add", "https://failing.example/")
    run("watch", "add", "https://fine.example/", "--every", "120")
    registry = stored(tmp_path)
    try:
        with registry.Session.begin() as session:
            failing, fine = session.get(Watch, 1), session.get(Watch, 2)
            failing.failures, failing.last_error = 3, "connection refused by failing.example"
            fine.last_crawled_at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
            session.add(Crawl(org_id=fine.org_id, watch_id=2, url=fine.url, status="done", pages_found=7))
    finally:
        registry.close()
    _, out, _ = run("watch", "list")
    assert "failing (3 failed run(s) in a row): connection refused by failing.example" in out
    assert "last run 2026-11-30 10:00 WIB (done)" in out and "7 page(s) seen" in out
    _, out, _ = run("watch", "show", "1")
    assert "last error: connection refused by failing.example" in out and "failures: 3" in out


def test_errors_in_plain_words_and_nothing_changed(run, tmp_path) -> None:  # noqa: F811
    run("watch", "add", "https://copier.example/")
    before = run("watch", "list", "--json")[1]
    for args, message in [
        (("watch", "show", "99"), "error: no watch with id 99"),
        (("watch", "pause", "0"), "error: no watch with id 0"),
        (("watch", "remove", str(2**70)), f"error: no watch with id {2**70}"),
        (("watch", "add", "javascript:alert(1)"), "is not an http:// or https:// URL"),
        (
            ("watch", "add", "https://x.example/", "--every", "2"),
            "the interval must be between 5 minutes and 90 days",
        ),
        (("watch", "add", "https://x.example/", "--max-pages", "0"), "max pages must be between 1 and 500"),
        (("watch", "pause", "1", "--reason", "x" * 501), "reason"),
        # Another organisation's watch is not found, as any other id.
        (("--org", "Beta Daily", "watch", "pause", "1"), "error: no watch with id 1"),
        (("--org", "Beta Daily", "watch", "remove", "1"), "error: no watch with id 1"),
        (("--org", "Beta Daily", "watch", "show", "1"), "error: no watch with id 1"),
    ]:
        code, out, err = run(*args, ok=False)
        assert code == 1 and message in err, (args, err)
    code, _, err = run("watch", "add", "https://x.example/", "--kind", "rss", ok=False)
    assert code == 2 and "'rss' is not one of 'site', 'feed'" in err
    assert run("--org", "Beta Daily", "watch", "list", "--json")[1] == ""
    assert run("watch", "list", "--json")[1] == before
