"""A running process sees what another process registered, edited or deleted, without a restart
(issue 12, point 3; the CLI and a running dashboard share one data folder): the other process is the
real `checker` console script, working on the same local index files and database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from checker.demo import register_demo_articles
from checker.models import Organisation
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import SEEDS

CHECKER = str(Path(sys.executable).with_name("checker"))


def checker(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "CHECKER_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("CHECKER_DATABASE_URL", None)
    proc = subprocess.run([CHECKER, *args], capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def test_a_running_registry_sees_another_processes_imports_and_deletes(tmp_path, seed_suspects) -> None:
    data = tmp_path / "data"
    running = Registry(Settings.from_env({}, data_dir=data))  # opened first, like `checker serve`
    try:
        copy = seed_suspects["full-copy"]["text"]
        assert running.scan(copy).verdict == "no_reuse"
        checker(data, "import", str(SEEDS / "articles.jsonl"))  # another process adds the articles
        with running.Session() as session:
            org = session.query(Organisation).filter_by(name="Default").one().id
        found = running.scan(copy, org_id=org)
        assert found.verdict != "no_reuse", "the running process did not see the imported articles"
        article_id = found.matches[0].article.id

        checker(data, "articles", "delete", str(article_id))  # ... and deletes one
        again = running.scan(copy, org_id=org)
        assert article_id not in {m.article.id for m in again.matches}
    finally:
        running.close()


def test_refresh_costs_nothing_when_nobody_saved(tmp_path) -> None:
    registry = Registry(Settings.from_env({}, data_dir=tmp_path / "data"))
    try:
        register_demo_articles(registry, SEEDS)
        segments = registry.index.segments
        assert registry.index.refresh() is False  # its own save: nothing to load
        assert registry.index.segments is segments
    finally:
        registry.close()
