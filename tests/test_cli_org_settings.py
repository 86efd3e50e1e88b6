"""`checker org settings`, and the organisation's match settings in the CLI's scans (scan, scan-batch,
scan-url): the console script run as a user runs it, a subprocess with real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SEEDS, read_jsonl
from tests.test_cli import run, write  # noqa: F401 - run is the console-script fixture

SUSPECTS = {s["id"]: s for s in read_jsonl(SEEDS / "suspects.jsonl")}
CONTRACT_FIELDS = {"verdict", "matches", "explanation"}


def settings(run, *args: str, org: str | None = None) -> dict:  # noqa: F811
    _, out, _ = run(*(["--org", org] if org else []), "org", "settings", *args, "--json")
    return json.loads(out)


@pytest.fixture
def registered(run, tmp_path: Path):  # noqa: F811
    """The seed articles, in the default organisation and in "Other"."""
    run("import", str(SEEDS / "articles.jsonl"))
    run("--org", "Other", "import", str(SEEDS / "articles.jsonl"))


def test_show_change_and_refuse(run):  # noqa: F811
    assert settings(run) == {
        "organisation": "Default",
        "min_match_words": None,
        "exclude_quotes": True,
        "excluded_sources": [],
        "time_zone": "UTC",
        "alert_frequency": "immediate",
        "alert_emails": [],
    }
    _, out, _ = run("org", "settings")
    assert "default (15)" in out and "quotations:        excluded" in out
    changed = settings(
        run,
        "--min-match-words",
        "40",
        "--include-quotes",
        "--exclude-source",
        "Partner.Example",
        "--exclude-source",
        "https://mirror.example/synd/",
        "--time-zone",
        "Asia/Jakarta",
    )
    assert changed == {
        "organisation": "Default",
        "min_match_words": 40,
        "exclude_quotes": False,
        "excluded_sources": ["partner.example", "https://mirror.example/synd"],
        "time_zone": "Asia/Jakarta",
        "alert_frequency": "immediate",
        "alert_emails": [],
    }
    for bad, message in (
        (["--min-match-words", "10"], "below the engine's own minimum of 15 words"),
        (["--min-match-words", "many"], "whole number"),
        (["--exclude-source", "javascript:alert(1)"], "neither a domain"),
        (["--time-zone", "Mars/Base"], "not a known time zone"),
        (["--min-match-words", "50", "--time-zone", "Nowhere"], "not a known time zone"),
    ):
        code, _, err = run("org", "settings", *bad, ok=False)
        assert code == 1 and err.startswith("error:") and message in " ".join(err.split()), err
        assert settings(run) == changed  # nothing stored, not even the good half
    cleared = settings(
        run,
        "--clear-excluded",
        "--exclude-source",
        "b.example",
        "--min-match-words",
        "default",
        "--exclude-quotes",
    )
    assert (cleared["excluded_sources"], cleared["min_match_words"], cleared["exclude_quotes"]) == (
        ["b.example"],
        None,
        True,
    )
    assert settings(run, org="Other")["min_match_words"] is None  # per organisation


def test_scan_and_scan_batch_follow_the_organisations_settings(run, registered, tmp_path):  # noqa: F811
    partial = SUSPECTS["partial-copy"]  # one 58-word passage
    suspect = write(tmp_path / "s.txt", partial["text"])
    _, out, _ = run("scan", suspect, "--json")
    before = json.loads(out)
    assert before["verdict"] == "unattributed_reuse" and "excluded" not in before

    settings(run, "--min-match-words", "60", "--exclude-source", "portal-copas.example")
    _, out, _ = run("scan", suspect, "--json")
    after = json.loads(out)
    assert set(after) == CONTRACT_FIELDS | {"excluded"} and after["matches"] == []
    [note] = after["excluded"]
    assert (note["reason"], note["words"], note["minimum"], note["whole_match"]) == (
        "min_match_words",
        58,
        60,
        True,
    )
    _, out, _ = run("scan", suspect)
    assert "was hidden because it is smaller than the organisation's minimum of 60 words" in " ".join(
        out.split()
    )
    _, out, _ = run(
        "--org", "Other", "scan", suspect, "--json"
    )  # another organisation: its own (default) settings
    other = json.loads(out)
    assert "excluded" not in other and [m["passages"] for m in other["matches"]] == [
        m["passages"] for m in before["matches"]
    ]

    lines = [
        {"id": "small", "text": partial["text"]},
        {"id": "mirror", "text": SUSPECTS["full-copy"]["text"], "url": "https://www.portal-copas.example/x"},
        {"id": "full", "text": SUSPECTS["full-copy"]["text"], "url": "https://elsewhere.example/x"},
    ]
    batch = write(tmp_path / "b.jsonl", "\n".join(json.dumps(line) for line in lines))
    _, out, _ = run("scan-batch", batch)
    results = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert results["small"]["excluded"][0]["reason"] == "min_match_words" and not results["small"]["matches"]
    assert results["mirror"]["excluded"] == [
        {
            "reason": "excluded_source",
            "source": "portal-copas.example",
            "matches": 1,
            "articles": [results["full"]["matches"][0]["article"]],
        }
    ]
    assert results["mirror"]["verdict"] == "no_reuse"
    assert results["full"]["verdict"] == "unattributed_reuse" and "excluded" not in results["full"]


def test_quotations_count_from_the_cli_when_the_organisation_says_so(run, registered, tmp_path):  # noqa: F811
    suspect = write(tmp_path / "q.txt", SUSPECTS["shared-quotes-only"]["text"])
    _, out, _ = run("scan", suspect, "--json")
    assert json.loads(out)["verdict"] == "no_reuse"
    settings(run, "--include-quotes")
    _, out, _ = run("scan", suspect, "--json")
    assert json.loads(out)["verdict"] == "unattributed_reuse"


def test_scan_url_follows_the_organisations_settings(run, registered):  # noqa: F811
    """scan-url fetches the page (from a local site) and scans it in the organisation: a page on an
    excluded source reports no match, saying why."""
    from tests.worker.conftest import LocalSite

    site = LocalSite().start()
    try:
        body = (
            "<html><body><article>"
            + "".join(f"<p>{p}</p>" for p in SUSPECTS["full-copy"]["text"].split("\n") if p.strip())
            + "</article></body></html>"
        )
        site.add("/copy", body)
        env = {"CHECKER_ALLOW_PRIVATE_URLS": "1"}
        _, out, _ = run("scan-url", site.url("/copy"), "--json", extra_env=env)
        assert json.loads(out)["verdict"] == "unattributed_reuse"
        settings(run, "--exclude-source", "127.0.0.1")
        _, out, _ = run("scan-url", site.url("/copy"), "--json", extra_env=env)
        result = json.loads(out)
        assert (result["verdict"], result["matches"]) == ("no_reuse", [])
        assert result["excluded"][0] == {
            **result["excluded"][0],
            "reason": "excluded_source",
            "source": "127.0.0.1",
            "matches": 1,
        }
        _, out, _ = run("scan-url", site.url("/copy"), extra_env=env)
        assert "not reported: this suspect is on an excluded source (127.0.0.1)" in out
    finally:
        site.stop()


def test_alert_settings(run):  # noqa: F811
    changed = settings(
        run,
        "--alerts",
        "daily",
        "--alert-email",
        "Desk@Lingkar.example",
        "--alert-email",
        "ed@lingkar.example",
    )
    assert changed["alert_frequency"] == "daily" and changed["alert_emails"] == [
        "desk@lingkar.example",
        "ed@lingkar.example",
    ]
    _, out, _ = run("org", "settings")
    assert "once a day, in one digest to desk@lingkar.example, ed@lingkar.example" in out
    code, _, err = run("org", "settings", "--alert-email", "not an address", ok=False)
    assert code != 0 and "is not an e-mail address" in err
    assert settings(run)["alert_emails"] == ["desk@lingkar.example", "ed@lingkar.example"]  # nothing stored
    assert settings(run, "--alert-email", "", "--alerts", "immediate")["alert_emails"] == []
