"""`python -m bench.scale` end to end at a tiny size: it runs in its own process as a user runs it, and its
JSON has every number the README's scale table is made of, each sane. No timing thresholds: speed belongs
to the benchmark, not to tests."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from checker.index import DEFAULT_PREFIX

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 300


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("scale") / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale",
            "--articles",
            str(ARTICLES),
            "--suspects",
            "40",
            "--worker-scans",
            "40",
            "--worker-rounds",
            "2",
            "--batch",
            "50",
            "--out",
            str(out),
        ],
        check=False,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def positive(x) -> bool:
    return isinstance(x, (int, float)) and x > 0


def test_registration_is_reported_per_tenth_and_cumulatively(scale_run) -> None:
    r, _ = scale_run
    assert (r["articles"], r["index"], r["database"]) == (ARTICLES, "memory", "sqlite")
    reg = r["registration"]
    slices = reg["slices"]
    assert len(slices) == 10
    assert slices[0]["from"] == 0 and slices[-1]["to"] == ARTICLES
    assert all(a["to"] == b["from"] for a, b in itertools.pairwise(slices))
    for s in slices:
        assert positive(s["articles_per_s"]) and positive(s["cumulative_articles_per_s"]), s
        assert positive(s["engine_seconds"]) and s["wall_seconds"] >= s["engine_seconds"], s
        assert positive(s["index_bytes"]) and positive(s["process_maxrss_mb"]), s
    # the index grows as articles are added (memory backend: files in the data dir)
    assert slices[-1]["index_bytes"] > slices[0]["index_bytes"]
    assert sum(s["engine_seconds"] for s in slices) == pytest.approx(reg["engine_seconds"])
    assert reg["articles_per_s"] == pytest.approx(ARTICLES / reg["engine_seconds"])
    assert slices[-1]["cumulative_articles_per_s"] == pytest.approx(reg["articles_per_s"])
    assert reg["batch"] == 50 and reg["close_seconds"] >= 0 and positive(reg["process_maxrss_mb"])


def test_disk_is_measured_and_redis_is_not_used(scale_run) -> None:
    r, _ = scale_run
    d = r["disk"]
    assert positive(d["index_bytes"]) and positive(d["database_bytes"])
    assert d["index_bytes_per_article"] == pytest.approx(d["index_bytes"] / ARTICLES)
    assert d["database_bytes_per_article"] == pytest.approx(d["database_bytes"] / ARTICLES)
    assert r["redis"] is None  # only with --index redis
    assert r["storage"] == {"schema": None, "redis_prefix": None, "index_url": None}


def test_cold_start_adds_up(scale_run) -> None:
    """Both cold starts: with the page cache as registering left it, and with the data folder dropped."""
    c = scale_run[0]["cold_start"]
    parts = ("interpreter_start_s", "imports_s", "open_s", "first_scan_s")
    for measure in (c, c["dropped_cache"]):
        assert all(positive(measure[k]) for k in parts), measure
        assert measure["wall_to_first_scan_s"] == pytest.approx(sum(measure[k] for k in parts))
    # the data folder held the database and the index when its pages were dropped
    assert c["dropped_cache"]["dropped_bytes"] >= scale_run[0]["disk"]["index_bytes"]


def test_scans_have_ordered_percentiles_and_find_excerpts(scale_run) -> None:
    s = scale_run[0]["scans"]
    assert s["suspects"] == 40 and s["excerpts"] == 20 and s["unrelated"] == 20
    assert 0 < s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert 0.0 <= s["excerpt_recall"] <= 1.0
    # copied passages of registered articles are found: a broken registry or a broken judge shows here
    assert s["excerpt_recall"] >= 0.9, s
    assert 0 <= s["excerpt_wrong_article"] <= s["excerpts"] and 0 <= s["unrelated_flagged"] <= s["unrelated"]


def test_two_workers_share_one_queue(scale_run) -> None:
    w = scale_run[0]["workers"]
    assert w["scans"] == 40
    assert (w["one"]["processes"], w["two"]["processes"]) == (1, 2)
    assert w["one"]["scans"] == w["two"]["scans"] == 40
    # every text scanned once; with two, each process took texts from the queue
    assert w["one"]["per_process"] == [40]
    assert sum(w["two"]["per_process"]) == 40 and min(w["two"]["per_process"]) >= 1
    # the same texts either way, so the same verdicts: about half of them reuse
    assert w["one"]["flagged"] == w["two"]["flagged"] and 10 <= w["one"]["flagged"] <= 30
    assert positive(w["one"]["scans_per_s"]) and positive(w["two"]["scans_per_s"])
    # the ratio is the median of the rounds' own ratios (with two rounds, their mean); the rates are the
    # median rounds' (with two rounds: the slower of each)
    assert w["ratio"] == pytest.approx(statistics.median(r["two"] / r["one"] for r in w["rounds"]))
    assert len(w["rounds"]) == 2
    assert w["one"]["scans_per_s"] == min(r["one"] for r in w["rounds"])
    assert w["two"]["scans_per_s"] == min(r["two"] for r in w["rounds"])


def test_the_table_is_printed(scale_run) -> None:
    r, stdout = scale_run
    assert f"Scale benchmark: {ARTICLES} articles, memory index, sqlite database" in stdout
    for heading in (
        "Registration",
        "Disk per article",
        "Cold start",
        "Scans (40 suspects",
        "Workers (40 scans",
    ):
        assert heading in stdout
    assert positive(r["total_seconds"])


@pytest.mark.postgres
def test_redis_and_postgres_runs_leave_nothing_behind(tmp_path) -> None:
    """The Redis index (DB 13) and the PostgreSQL schema of a run are measured, then deleted."""
    import redis
    import sqlalchemy as sa

    from bench.scale import PG_URL, REDIS_URL

    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale",
            "--articles",
            "100",
            "--index",
            "redis",
            "--database",
            "postgres",
            "--suspects",
            "10",
            "--worker-scans",
            "10",
            "--worker-rounds",
            "1",  # the rounds' medians are the module fixture's to check; this run is about clean-up
            "--out",
            str(out),
        ],
        check=False,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text(encoding="utf-8"))
    assert (r["index"], r["database"]) == ("redis", "postgres")
    assert positive(r["redis"]["keys"]) and r["redis"]["used_memory_after"] > 0
    assert positive(r["disk"]["database_bytes"]) and r["disk"]["index_bytes"] == 0
    assert 0.0 <= r["scans"]["excerpt_recall"] <= 1.0
    prefix, schema = r["storage"]["redis_prefix"], r["storage"]["schema"]
    assert prefix and schema
    assert not list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*", count=1000))
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            left = conn.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).all()
    finally:
        engine.dispose()
    assert left == []


def _scale(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.scale", *args],
        check=False,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_kept_redis_run_is_measured_again_on_its_own_index(tmp_path) -> None:
    """``--keep`` leaves the Redis index (with the bucket count asked for) and the data folder;
    ``--remeasure`` scans that same index again, and says how to delete it."""
    import redis

    from bench.scale import REDIS_URL
    from checker.index_redis import drop

    out = tmp_path / "results.json"
    small = ("--suspects", "10", "--worker-scans", "10", "--worker-rounds", "1")
    proc = _scale(
        "--articles",
        "100",
        "--index",
        "redis",
        "--redis-bucket-bits",
        "14",
        "--keep",
        *small,
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = json.loads(out.read_text(encoding="utf-8"))
    prefix = first["storage"]["redis_prefix"]
    assert len(prefix) == len(DEFAULT_PREFIX)  # key names as long as a deployment's
    client, kept = redis.Redis.from_url(REDIS_URL), None
    try:
        assert first["storage"]["index_url"].endswith("?bucket_bits=14")
        assert json.loads(client.get(f"{prefix}:layout"))["bucket_bits"] == 14
        kept = re.search(r"kept (\S+);", proc.stderr)
        assert kept and prefix in proc.stderr and "drop(" in proc.stderr
        data = Path(kept.group(1)) / "data"
        again = _scale(
            "--articles", "100", "--index", "redis", "--remeasure", str(data), *small, "--out", str(out)
        )
        assert again.returncode == 0, again.stderr[-3000:]
        second = json.loads(out.read_text(encoding="utf-8"))
        assert second["registration"] == first["registration"] and "remeasured" in second
        assert second["scans"]["excerpt_recall"] >= 0.5  # found in the kept index, not an empty one
        assert second["workers"]["one"]["flagged"] == first["workers"]["one"]["flagged"]
        none = tmp_path / "none.json"
        refused = _scale(
            "--articles", "100", "--index", "redis", "--remeasure", str(data), "--out", str(none)
        )
        assert refused.returncode == 2 and "names no kept Redis index" in refused.stderr
    finally:
        drop(client, prefix)
        if kept:
            shutil.rmtree(kept.group(1), ignore_errors=True)
    assert not list(client.scan_iter(match=f"{prefix}*", count=1000))
    client.close()
