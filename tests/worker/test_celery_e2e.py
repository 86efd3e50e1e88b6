"""Real Celery worker processes on real Redis: text and URL scans end to end, a worker killed with
SIGKILL mid-scan, and a Redis restart with scans queued. Loopback only."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from checker import scans
from checker.demo import register_demo_articles
from checker.models import MatchRow, Scan
from checker.registry import Registry
from checker.settings import Settings
from tests.worker.conftest import CeleryWorker, worker_env
from worker import dispatch
from worker.celery_app import create_celery

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
REDIS_DB = 9  # this module's broker/index database on the CI Redis; flushed before each test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pages(http.server.BaseHTTPRequestHandler):
    """Serves the seed partial copy as HTML; /slow/... answers after a delay."""

    body = b""
    delay = 0.0

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server(seed_suspects):
    text = seed_suspects["partial-copy"]["text"]
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    Pages.body = (
        f"<html><head><title>Vaksinasi</title></head><body><article>{paras}</article></body></html>".encode()
    )
    Pages.delay = 6.0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(tmp_path):
    broker = f"redis://127.0.0.1:6379/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    values = worker_env(tmp_path, REDIS_DB)
    yield values
    redis.Redis.from_url(broker).flushdb()


@contextmanager
def app_for(env_values: dict):
    """The test process sends tasks through an app configured like the workers."""
    from worker.app import celery_app as default_app

    app = create_celery(Settings.from_env(env_values))
    app.set_current()
    try:
        yield app
    finally:
        default_app.set_current()
        app.close()


def wait_for(
    registry: Registry, scan_ids: list[int], statuses=("done", "failed"), timeout: float = 60
) -> list[Scan]:
    deadline = time.monotonic() + timeout
    while True:
        with registry.Session() as session:
            rows = session.scalars(select(Scan).where(Scan.id.in_(scan_ids)).order_by(Scan.id)).all()
        if all(r.status in statuses for r in rows):
            return list(rows)
        assert time.monotonic() < deadline, [(r.id, r.status, r.error) for r in rows]
        time.sleep(0.2)


def match_count(registry: Registry, scan_id: int) -> int:
    with registry.Session() as session:
        return session.scalar(select(func.count(MatchRow.id)).where(MatchRow.scan_id == scan_id))


def test_worker_processes_text_and_url_scans(env, tmp_path, page_server, seed_suspects) -> None:
    registry = Registry(Settings.from_env(env))
    assert registry.index.__class__.__name__ == "RedisIndex"  # shared with the worker processes
    register_demo_articles(registry, SEEDS)
    worker = CeleryWorker(env, tmp_path / "worker.log")
    try:
        # Files the worker creates are private (issue 9): its umask hides them from group and others.
        status = Path(f"/proc/{worker.proc.pid}/status").read_text()
        assert int(status.split("Umask:")[1].split()[0], 8) & 0o077 == 0o077
        with app_for(env):
            text_id = dispatch.submit_scan(registry, text=seed_suspects["credited-copy"]["text"])
            url_id = dispatch.submit_scan(registry, url=f"{page_server}/copy.html", source="url")
            bad_id = dispatch.submit_scan(
                registry, url="http://169.254.169.254/latest/meta-data", source="url"
            )
            text_scan, url_scan, bad_scan = wait_for(registry, [text_id, url_id, bad_id])
        assert text_scan.status == "done" and text_scan.verdict == "attributed_reuse"
        assert url_scan.status == "done" and url_scan.verdict == "unattributed_reuse"
        assert url_scan.final_url == f"{page_server}/copy.html" and len(url_scan.body_sha256) == 64
        assert url_scan.fetched_at is not None and "Pihaknya juga mengatakan" in url_scan.text
        result = url_scan.result["matches"][0]
        passage = result["passages"][0]
        assert url_scan.text[passage["suspect_start"] : passage["suspect_end"]].startswith("Pihaknya")
        assert bad_scan.status == "failed" and "link-local" in bad_scan.error
        # An article registered now (through this process) is found by the worker at once.
        new_id = registry.register(
            __import__("checker.records", fromlist=["ArticleIn"]).ArticleIn(
                title="Baru", text=seed_suspects["unrelated"]["text"]
            )
        )
        with app_for(env):
            again = dispatch.submit_scan(registry, text=seed_suspects["unrelated"]["text"])
            (scan,) = wait_for(registry, [again])
        assert scan.result["matches"][0]["article"]["id"] == new_id
    finally:
        worker.stop()


def test_killed_worker_scan_finishes_once(env, tmp_path, page_server) -> None:
    registry = Registry(Settings.from_env(env))
    register_demo_articles(registry, SEEDS)
    first = CeleryWorker(env, tmp_path / "w1.log")
    try:
        with app_for(env):
            scan_id = dispatch.submit_scan(registry, url=f"{page_server}/slow/copy.html", source="url")
            wait_for(registry, [scan_id], statuses=("running",))
            first.kill9()  # in the middle of fetching the slow page
        with registry.Session() as session:
            assert session.get(Scan, scan_id).status == "running"
        second = CeleryWorker(env, tmp_path / "w2.log")
        try:
            (scan,) = wait_for(registry, [scan_id], timeout=90)
        finally:
            second.stop()
    finally:
        first.stop()
    assert scan.status == "done" and scan.verdict == "unattributed_reuse"
    assert scan.attempts == 2  # redelivered once, run to the end once
    assert match_count(registry, scan_id) == 1  # no duplicate matches


@pytest.mark.parametrize("appendonly", ["no", "yes"])
def test_redis_restart_with_scans_queued(env, tmp_path, seed_suspects, appendonly) -> None:
    """Without AOF the queued messages die with Redis, but the scans are in the database as queued and
    the sweeper sends them again; with AOF the messages themselves survive the restart."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed")
    port, data = free_port(), tmp_path / "redis"
    data.mkdir()

    def start_redis():
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                appendonly,
                "--appendfsync",
                "always",
                "--dir",
                str(data),
                "--logfile",
                str(data / "log"),
            ],
            check=True,
        )
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis did not start")

    client = start_redis()
    env = {
        **env,
        "CHECKER_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "CHECKER_INDEX_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    }
    registry = Registry(Settings.from_env(env))
    register_demo_articles(registry, SEEDS)
    try:
        with app_for(env):
            ids = [
                dispatch.submit_scan(registry, text=seed_suspects[name]["text"])
                for name in ("full-copy", "partial-copy", "independent-report")
            ]
        client.shutdown(nosave=True)
        client = start_redis()
        if appendonly == "no":  # the restart lost the queued messages: the broker holds nothing to run
            assert client.dbsize() == 0
        worker = CeleryWorker(env, tmp_path / "worker.log")
        try:
            if appendonly == "no":
                with registry.Session() as session:
                    assert {s.status for s in session.scalars(select(Scan).where(Scan.id.in_(ids)))} == {
                        "queued"
                    }
                with app_for(env):
                    resent = scans.stuck(registry.Session, __import__("datetime").timedelta(0))
                    assert resent == ids
                    for scan_id in resent:
                        dispatch.send(__import__("worker.tasks", fromlist=["scan_task"]).scan_task, scan_id)
            done = wait_for(registry, ids)
        finally:
            worker.stop()
    finally:
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
    assert [s.verdict for s in done] == ["unattributed_reuse", "unattributed_reuse", "no_reuse"]
    assert all(match_count(registry, s.id) == len(s.result["matches"]) for s in done)
