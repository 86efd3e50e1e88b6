"""A worker's own metrics port (CHECKER_WORKER_METRICS_PORT, worker.metrics): the start function on a
free loopback port, its refusals in words, and a real prefork worker whose pool process's scan shows
on its main process's port through PROMETHEUS_MULTIPROC_DIR, logging JSON lines that name the scan."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from contextlib import contextmanager

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from checker import metrics
from checker.demo import register_demo_articles
from checker.models import Scan
from checker.registry import Registry
from checker.settings import Settings
from tests.web.conftest import SEEDS
from tests.worker.conftest import CeleryWorker, worker_env
from worker import dispatch
from worker import metrics as worker_metrics
from worker.celery_app import create_celery

REDIS_DB = (
    8  # this module's broker/index database on the CI Redis (no other test uses it); flushed before and after
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def stop_server():
    yield
    worker_metrics.stop()


def test_serves_this_process_metrics_on_loopback_once(stop_server):
    port = free_port()
    env = {"CHECKER_WORKER_METRICS_PORT": str(port)}
    server = worker_metrics.serve_from_env(env)
    assert server is not None and server.server_address[0] == "127.0.0.1"  # loopback unless told otherwise
    assert worker_metrics.serve_from_env(env) is server  # started once per process
    key = ("checker_scans_total", (("source", "port-test"), ("status", "done"), ("verdict", "no_reuse")))
    before = scrape(port).get(key, 0.0)
    metrics.record_scan("done", "no_reuse", "port-test", 0.002)
    assert scrape(port)[key] == before + 1


@pytest.mark.parametrize("raw", ["abc", "0", "70000"])
def test_a_bad_port_is_refused_in_words(raw, caplog, stop_server):
    assert worker_metrics.serve_from_env({"CHECKER_WORKER_METRICS_PORT": raw}) is None
    assert "CHECKER_WORKER_METRICS_PORT must be a whole number from 1 to 65535" in caplog.text


def test_a_port_in_use_is_logged_not_raised(caplog, stop_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert worker_metrics.serve_from_env({"CHECKER_WORKER_METRICS_PORT": str(port)}) is None
    assert f"cannot listen on 127.0.0.1 port {port}" in caplog.text


def test_off_unless_a_port_is_given(stop_server):
    assert worker_metrics.serve_from_env({}) is None


@contextmanager
def app_for(env_values: dict):
    from worker.app import celery_app as default_app

    app = create_celery(Settings.from_env(env_values))
    app.set_current()
    try:
        yield app
    finally:
        default_app.set_current()
        app.close()


def test_a_prefork_workers_scans_show_on_its_port(tmp_path, seed_suspects):
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    port, multiproc = free_port(), tmp_path / "prometheus"
    multiproc.mkdir()
    env = {
        **worker_env(tmp_path, REDIS_DB),
        "CHECKER_WORKER_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "CHECKER_LOG_FORMAT": "json",
    }
    registry = Registry(Settings.from_env(env))
    register_demo_articles(registry, SEEDS)
    log = tmp_path / "worker.log"
    worker = CeleryWorker(env, log, pool="prefork", concurrency=1)
    try:
        assert not [k for k in scrape(port) if k[0] == "checker_scans_total"]  # up, nothing counted yet
        with app_for(env):
            scan_id = dispatch.submit_scan(registry, text=seed_suspects["credited-copy"]["text"])
        deadline = time.monotonic() + 60
        while True:
            with registry.Session() as session:
                scan = session.scalar(select(Scan).where(Scan.id == scan_id))
            if scan.status in ("done", "failed"):
                break
            assert time.monotonic() < deadline, scan.status
            time.sleep(0.2)
        assert scan.status == "done", scan.error
        # The task stores the result, then counts it (checker.metrics.record_scan: the counter, then the
        # histogram): wait until the histogram, the last of the two, has it, before reading both.
        duration = ("checker_scan_duration_seconds_count", (("source", "text"),))
        while (samples := scrape(port)).get(duration, 0) < 1:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        labels = (("source", "text"), ("status", "done"), ("verdict", scan.verdict))
        assert (
            samples[("checker_scans_total", labels)] == 1
        )  # counted in the pool process, served by the main one
        assert samples[duration] == 1
        assert any(multiproc.iterdir())
        # The worker's log lines are JSON; the scan's name it (its task and organisation too).
        records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert any(r["message"].endswith(" ready.") for r in records)
        (done,) = [r for r in records if r["message"].startswith(f"scan {scan_id} done")]
        assert done["scan_id"] == scan_id and done["task_id"] and done["logger"] == "worker.tasks"
    finally:
        worker.stop()
        registry.close()
        redis.Redis.from_url(broker).flushdb()


def test_a_scan_killed_at_the_hard_time_limit_is_counted_by_the_parent(tmp_path, site):
    """The pool process is killed mid-scan, so the scan's task never counts it: the worker's parent,
    which records the failure, does (and logs it, naming the scan)."""
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    site.add(
        "/slow", "<html><body><article><p>" + "Slow words. " * 40 + "</p></article></body></html>", delay=8
    )
    port, multiproc = free_port(), tmp_path / "prometheus"
    multiproc.mkdir()
    env = {
        **worker_env(tmp_path, REDIS_DB),
        "CHECKER_WORKER_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "CHECKER_LOG_FORMAT": "json",
        "CHECKER_SCAN_SOFT_TIME_LIMIT": "0",
        "CHECKER_SCAN_TIME_LIMIT": "2",
    }
    registry = Registry(Settings.from_env(env))
    log = tmp_path / "worker.log"
    worker = CeleryWorker(env, log, pool="prefork", concurrency=1)
    try:
        with app_for(env):
            scan_id = dispatch.submit_scan(registry, url=site.url("/slow"), source="url")
        key = ("checker_scans_total", (("source", "url"), ("status", "failed"), ("verdict", "none")))
        deadline = time.monotonic() + 60
        while scrape(port).get(key) != 1:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with registry.Session() as session:
            scan = session.scalar(select(Scan).where(Scan.id == scan_id))
        assert scan.status == "failed" and "hard time limit" in scan.error
        assert ("checker_scan_duration_seconds_count", (("source", "url"),)) not in scrape(
            port
        )  # never matched
        records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        assert [
            r
            for r in records
            if r.get("scan_id") == scan_id and r["message"].startswith(f"scan {scan_id} failed")
        ]
    finally:
        worker.stop()
        registry.close()
        redis.Redis.from_url(broker).flushdb()
