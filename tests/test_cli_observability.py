"""The console script's part in operations (issue 12, "Run it"): ``checker scan`` joins a service's
Prometheus metrics through PROMETHEUS_MULTIPROC_DIR, CHECKER_LOG_FORMAT=json makes its log lines JSON,
and a wrong format is refused in words. Run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from tests.conftest import SEEDS

CHECKER = str(Path(sys.executable).with_name("checker"))


def run(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHECKER_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1", **extra_env}
    env.pop("CHECKER_DATABASE_URL", None)
    return subprocess.run(
        [CHECKER, *args], check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_a_cli_scan_joins_the_services_metrics(tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    assert run(tmp_path, "import", str(SEEDS / "articles.jsonl")).returncode == 0
    suspect = json.loads((SEEDS / "suspects.jsonl").read_text().splitlines()[0])["text"]
    (tmp_path / "suspect.txt").write_text(suspect)
    done = run(tmp_path, "scan", "--json", "suspect.txt", PROMETHEUS_MULTIPROC_DIR=str(folder))
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)["verdict"]
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))  # what the web's /metrics adds up
    labels = {"status": "done", "verdict": verdict, "source": "cli"}
    assert registry.get_sample_value("checker_scans_total", labels) == 1
    assert registry.get_sample_value("checker_scan_duration_seconds_count", {"source": "cli"}) == 1
    # Without the folder nothing is written anywhere (and the client is not loaded).
    again = run(tmp_path, "scan", "--json", "suspect.txt")
    assert again.returncode == 0 and len(list(folder.iterdir())) == 2  # the first run's counter and histogram


def test_json_log_lines_and_a_refused_format(tmp_path):
    verbose = run(tmp_path, "-v", "import", str(SEEDS / "articles.jsonl"), CHECKER_LOG_FORMAT="json")
    assert verbose.returncode == 0, verbose.stderr
    lines = [json.loads(line) for line in verbose.stderr.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert not [line for line in verbose.stderr.splitlines() if line.startswith(("INFO ", "WARNING "))]
    wrong = run(tmp_path, "articles", "list", CHECKER_LOG_FORMAT="yaml")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "CHECKER_LOG_FORMAT must be 'text' or 'json', not 'yaml'" in wrong.stderr
    flag = run(tmp_path, "articles", "list", CHECKER_ALLOW_PRIVATE_URLS="perhaps")
    assert flag.returncode == 2 and "Traceback" not in flag.stderr
    assert "CHECKER_ALLOW_PRIVATE_URLS must be on or off" in flag.stderr
