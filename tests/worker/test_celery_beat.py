"""Watches on schedule with a broker (issue 11): a real Celery beat process and a real worker on the
CI Redis run a watch that nobody started by hand; the same code (checker.monitoring) decides what is
due as in the embedded scheduler (test_scheduler.py). Loopback only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from checker import monitoring
from checker.demo import register_demo_articles
from checker.models import Crawl, Scan
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import SEEDS
from tests.worker.conftest import CeleryProcess, CeleryWorker, worker_env
from tests.worker.test_monitoring import publish_copier_site
from worker import dispatch

REDIS_DB = 10  # this module's broker/index database on the CI Redis; flushed before and after


@pytest.fixture
def env(tmp_path):
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    yield {**worker_env(tmp_path, REDIS_DB), "CHECKER_SCHEDULER_TICK_S": "1"}
    redis.Redis.from_url(broker).flushdb()


class Beat(CeleryProcess):
    """Celery beat, its schedule file in ``tmp_path``."""

    def __init__(self, env_values: dict, tmp_path: Path) -> None:
        super().__init__(
            [
                "beat",
                "--loglevel=INFO",
                f"--schedule={tmp_path / 'beat-schedule'}",
                f"--pidfile={tmp_path / 'beat.pid'}",
            ],
            env_values,
            tmp_path / "beat.log",
            "beat: Starting",
            "beat",
        )


def worker_runs(worker) -> int:
    """monitor_due tasks the worker has finished."""
    return sum(
        1
        for line in worker.log.read_text(errors="replace").splitlines()
        if "worker.tasks.monitor_due[" in line and "succeeded" in line
    )


def test_beat_and_a_worker_run_a_due_watch(env, tmp_path, site, seed_suspects) -> None:
    publish_copier_site(site, seed_suspects)
    registry = Registry(Settings.from_env(env))
    worker = beat = None
    try:
        register_demo_articles(registry, SEEDS)
        watch_id = dispatch.add_watch(registry, site.url("/"), interval_minutes=60, max_pages=10)
        worker = CeleryWorker(env, tmp_path / "worker.log")
        beat = Beat(env, tmp_path)
        deadline = time.monotonic() + 90
        while True:
            with registry.Session() as session:
                scan = session.scalars(
                    select(Scan).where(Scan.url == site.url("/copy.html"), Scan.status == "done")
                ).first()
            if scan is not None:
                break
            assert time.monotonic() < deadline, (
                beat.log.read_text(errors="replace")[-3000:],
                worker.log.read_text(errors="replace")[-3000:],
            )
            time.sleep(0.3)
        assert scan.source == "watch" and scan.verdict == "unattributed_reuse"
        sent = beat.log.read_text(errors="replace").count("worker.tasks.monitor_due")
        deadline = time.monotonic() + 30
        while (
            beat.log.read_text(errors="replace").count("worker.tasks.monitor_due") < sent + 3
        ):  # three more beats
            assert time.monotonic() < deadline, beat.log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        runs = worker_runs(worker)
        deadline = time.monotonic() + 30
        while worker_runs(worker) < runs + 3:  # ... and the worker ran them
            assert time.monotonic() < deadline, worker.log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        with registry.Session() as session:
            crawls = session.scalars(select(Crawl).where(Crawl.watch_id == watch_id)).all()
            (summary,) = monitoring.summaries(session, None)
        assert len(crawls) == 1 and crawls[0].id == scan.crawl_id
        assert summary.last_run_at is not None and summary.new_matches >= 1
        assert "worker.tasks.monitor_due" in beat.log.read_text(errors="replace")
    finally:
        for process in (beat, worker):
            if process is not None:
                process.stop()
        registry.close()
