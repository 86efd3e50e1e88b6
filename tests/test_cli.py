"""The console script `checker`, run as a user runs it: a process of its own, with real files.

The commands run in children of the CLI fork server (``tests/cli_zygote.py``: the imports paid once,
each command still in its own process, streams, environment and working directory); the tests marked
``console_script`` run the installed script itself, start-up and all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS

CHECKER = str(Path(sys.executable).with_name("checker"))  # the console script beside this Python, PATH or not
CLI_ENV = {"NO_COLOR": "1", "COLUMNS": "200"}  # what the tests' commands see besides their data folder


@pytest.fixture
def run(request, tmp_path: Path):
    env = {**os.environ, **CLI_ENV, "CHECKER_DATA_DIR": str(tmp_path / "data")}
    env.pop("CHECKER_DATABASE_URL", None)
    zygote = (
        None if request.node.get_closest_marker("console_script") else request.getfixturevalue("cli_zygote")
    )

    def run(*args: str, stdin: bytes | None = None, ok: bool = True, extra_env: dict | None = None):
        assert Path(CHECKER).exists(), "the console script is not installed (pip install -e .)"
        argv, full_env = [CHECKER, *args], {**env, **(extra_env or {})}
        if zygote is not None:
            proc = zygote.run(argv, full_env, str(tmp_path), stdin, timeout=120)
        else:
            proc = subprocess.run(
                argv, input=stdin, capture_output=True, env=full_env, cwd=tmp_path, timeout=120
            )
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert "Traceback" not in err, err
        if ok:
            assert proc.returncode == 0, err
        return proc.returncode, out, err

    return run


def write(path: Path, data: bytes | str) -> str:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


@pytest.mark.console_script
def test_register_scan_json_and_readable(run, tmp_path, seed_suspects) -> None:
    _, out, _ = run(
        "register",
        str(SEEDS / "000_9f16820795ab45db.txt"),
        "--url",
        "https://lingkar.co/a",
        "--publisher",
        "Lingkar.co",
        "--partner",
        "mitra.example",
        "--published-at",
        "2021-07-06",
    )
    assert out.strip() == "1"
    suspect = write(tmp_path / "s.txt", seed_suspects["partial-copy"]["text"])
    _, out, _ = run("scan", suspect, "--json")
    result = json.loads(out)
    assert result["verdict"] == "unattributed_reuse"
    m = result["matches"][0]
    assert set(m) >= {
        "article",
        "kind",
        "score",
        "suspect_coverage",
        "source_coverage",
        "words_matched",
        "suspect_words",
        "source_words",
        "attributed",
        "licensed",
        "passages",
    }
    assert set(m["article"]) == {"id", "title", "url", "publisher"}
    assert set(m["passages"][0]) == {
        "suspect_start",
        "suspect_end",
        "source_start",
        "source_end",
        "similarity",
        "words",
    }
    assert m["suspect_coverage"] == round(m["words_matched"] / m["suspect_words"], 4)
    _, out, _ = run("scan", "-", stdin=seed_suspects["partial-copy"]["text"].encode())
    assert "UNATTRIBUTED REUSE" in out and "Pihaknya juga mengatakan" in out and "recorded as scan" in out
    _, out, _ = run("scan", suspect, "--url", "https://news.mitra.example/x", "--json")
    assert json.loads(out)["verdict"] == "licensed"


def test_register_is_idempotent_and_updates_what_is_given(run) -> None:
    # Issue 10, point 2: the same text and url registered three times gave ids 1, 2 and 3.
    article = str(SEEDS / "000_9f16820795ab45db.txt")
    ids = []
    for url in ("https://lingkar.co/a", "https://Lingkar.co/a/?utm_source=x", "https://lingkar.co/a#top"):
        _, out, err = run("register", article, "--url", url, "--publisher", "Lingkar.co")
        ids.append(out.strip())
    assert ids == ["1", "1", "1"]
    assert "already registered as #1; nothing changed" in err
    _, out, err = run(
        "register",
        article,
        "--url",
        "https://lingkar.co/a",
        "--publisher",
        "Harian Lingkar",
        "--required-credit",
        "Sumber: Lingkar.co",
        "--alias",
        "Lingkar",
    )
    assert (
        out.strip() == "1" and "already registered as #1; updated: publisher, required credit, aliases" in err
    )
    _, out, _ = run("register", article)  # same text, no url: the same article, its url kept
    assert out.strip() == "1"
    _, out, _ = run("articles", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["publisher"] == "Harian Lingkar" and shown["url"] == "https://lingkar.co/a"
    assert shown["required_credit"] == "Sumber: Lingkar.co" and shown["aliases"] == ["Lingkar"]
    _, out, err = run("articles", "list")
    assert "1 of 1 article(s) in Default" in err


def test_scans_see_only_their_organisations_articles(run, tmp_path, seed_suspects) -> None:
    # Issue 10, point 1: CLI scans checked every organisation's articles.
    run(
        "--org",
        "Other Daily",
        "register",
        str(SEEDS / "000_9f16820795ab45db.txt"),
        "--url",
        "https://other.example/a",
    )
    suspect = write(tmp_path / "s.txt", seed_suspects["partial-copy"]["text"])
    _, out, _ = run("scan", suspect, "--json")
    assert json.loads(out)["verdict"] == "no_reuse"
    _, out, _ = run("scan", suspect, "--json", extra_env={"CHECKER_ORG": "Other Daily"})
    assert json.loads(out)["verdict"] == "unattributed_reuse"
    code, _, err = run("articles", "show", "1", ok=False)
    assert code == 1 and "no article with id 1" in err


def test_import_reports_bad_lines_keeps_good_ones_and_resumes(run, tmp_path, seed_articles) -> None:
    lines = [
        json.dumps(seed_articles[0]),
        "{not json",
        json.dumps({"title": "no text"}),
        "[1, 2]",
        json.dumps(seed_articles[1]),
        json.dumps({**seed_articles[2], "published_at": "yesterday"}),
        json.dumps({**seed_articles[2], "text": ""}),
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines) + "\n")
    code, _, err = run("import", path, ok=False)
    assert code == 1
    assert "imported 2" in err
    for n in (2, 3, 4, 6, 7):
        assert f"line {n}" in err
    assert "malformed JSON" in err and "missing field 'text'" in err and "ISO 8601" in err
    good = write(tmp_path / "b.jsonl", "\n".join(json.dumps(a) for a in seed_articles) + "\n")
    _, _, err = run("import", good)
    assert "imported 1, skipped 2 already registered" in err
    _, out, _ = run("articles", "list", "--json")
    assert len(out.splitlines()) == 3


def test_import_mixed_encodings(run, tmp_path) -> None:
    utf8 = json.dumps(
        {"title": "Café", "text": "Le café était très fréquenté ce matin à Jakarta."}, ensure_ascii=False
    )
    cp1252 = json.dumps(
        {"title": "Naïve", "text": "Une réunion « très » attendue s’est tenue à Paris, déjà."},
        ensure_ascii=False,
    ).encode("cp1252")
    path = write(tmp_path / "m.jsonl", utf8.encode() + b"\n" + cp1252 + b"\n")
    run("import", path)
    _, out, _ = run("articles", "show", "2", "--json")
    assert json.loads(out)["text"] == "Une réunion « très » attendue s’est tenue à Paris, déjà."


@pytest.mark.parametrize("workers", ["1", "2"])
def test_scan_batch_echoes_ids_and_reports_bad_lines(run, tmp_path, seed_suspects, workers) -> None:
    """In input order whether scanned in one process or in two forked workers."""
    run("import", str(SEEDS / "articles.jsonl"))
    lines = [
        json.dumps({"id": name, "text": seed_suspects[name]["text"], "url": seed_suspects[name]["url"]})
        for name in ("full-copy", "independent-report", "partner-copy")
    ]
    lines.insert(1, "{broken")
    lines.append(json.dumps({"id": 7, "text": ""}))
    path = write(tmp_path / "s.jsonl", "\n".join(lines) + "\n")
    code, out, err = run("scan-batch", "--workers", workers, path, ok=False)
    assert code == 1 and "line 2" in err and "line 5" in err
    results = [json.loads(x) for x in out.splitlines()]
    assert [r.get("id") for r in results] == ["full-copy", None, "independent-report", "partner-copy", 7]
    assert [r.get("verdict") for r in results] == ["unattributed_reuse", None, "no_reuse", "licensed", None]
    assert "error" in results[1] and "error" in results[4]


def test_scan_batch_in_workers_gives_what_one_process_gives(run, tmp_path, seed_suspects) -> None:
    run("import", str(SEEDS / "articles.jsonl"))
    names = sorted(seed_suspects) * 3
    lines = [
        json.dumps({"id": f"{n}-{i}", "text": seed_suspects[n]["text"], "url": seed_suspects[n]["url"]})
        for i, n in enumerate(names)
    ]
    lines.insert(7, json.dumps({"id": "bad", "text": "\x00\x01\x02\x03"}))
    path = write(tmp_path / "s.jsonl", "\n".join(lines) + "\n")
    _, one, _ = run("scan-batch", "--no-record", "--workers", "1", path, ok=False)
    _, two, log = run("--verbose", "scan-batch", "--no-record", "--workers", "2", path, ok=False)
    assert "scanning in 2 worker processes" in log
    assert len(one.splitlines()) == len(lines) and one == two


def test_articles_show_and_delete(run) -> None:
    run("import", str(SEEDS / "articles.jsonl"))
    _, out, _ = run("articles", "show", "2")
    assert "Warta Pantura" in out
    run("articles", "delete", "2", "--yes")
    code, _, err = run("articles", "show", "2", ok=False)
    assert code == 1 and "no article with id 2" in err
    _, out, _ = run("index", "status")
    assert json.loads(out)["articles_indexed"] == 2


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no such file"),
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        (b"\xff\xfe" + "Teks UTF-16 dengan BOM".encode("utf-16-le"), None),
        ("Berita dengan ejaan lama: café, naïve, “kutipan”".encode("cp1252"), None),
    ],
)
def test_bad_and_odd_input_files(run, tmp_path, content, message) -> None:
    path = tmp_path / "input.txt"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("scan", str(path), ok=message is None)
    if message:
        assert code == 1 and message in err and err.startswith("error:")
    else:
        assert "NO REUSE" in out


def test_oversized_input_is_refused(run, tmp_path) -> None:
    path = write(tmp_path / "big.txt", "kata " * 5000)
    code, _, err = run("register", path, ok=False, extra_env={"CHECKER_MAX_TEXT_CHARS": "1000"})
    assert code == 1 and "too large" in err
    _, out, _ = run("articles", "list", "--json")
    assert out == ""


def test_demo_prints_every_scenario(run) -> None:
    _, out, _ = run("demo", "--seeds", str(SEEDS))
    for name in ("full-copy", "partial-copy", "independent-report", "partner-copy"):
        assert name in out
    assert "LICENSED" in out and "ATTRIBUTED REUSE" in out and "NO REUSE" in out
