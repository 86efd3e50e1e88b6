"""Fair sharing and time limits with real Celery workers on real Redis (issue 9, finding 8): one
organisation's batch does not hold up another's scan; a scan past its soft or hard time limit ends
failed, saying why, is not retried, and its organisation's next scan still goes out. Pages come from
a local site on 127.0.0.1 that answers slowly. Redis database 12, flushed around each test."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from checker.models import Scan
from checker.registry import Registry
from checker.settings import Settings
from tests.worker.conftest import CeleryWorker, make_orgs, worker_env
from worker import context, dispatch
from worker.celery_app import create_celery

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 12
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
PAGE = (
    "<html><body><article><p>"
    + "A page that a copier may have taken from somewhere. " * 30
    + "</p></article></body></html>"
)


@pytest.fixture
def env(tmp_path, monkeypatch):
    redis.Redis.from_url(BROKER).flushdb()
    values = {**worker_env(tmp_path, REDIS_DB), "CHECKER_PER_ORG_INFLIGHT": "2"}
    monkeypatch.setenv("CHECKER_PER_ORG_INFLIGHT", "2")  # this process sends with the workers' limit
    yield values
    redis.Redis.from_url(BROKER).flushdb()


@contextmanager
def sending(env_values: dict, registry: Registry):
    """This process sends through an app configured like the workers, with ``registry`` installed."""
    from worker.app import celery_app as default_app

    app = create_celery(Settings.from_env(env_values))
    app.set_current()
    context.use(registry)
    try:
        yield app
    finally:
        context.use(None)
        default_app.set_current()
        app.close()


def wait_for(registry: Registry, ids: list[int], timeout: float = 120) -> dict[int, Scan]:
    deadline = time.monotonic() + timeout
    while True:
        with registry.Session() as session:
            rows = {s.id: s for s in session.scalars(select(Scan).where(Scan.id.in_(ids)))}
        if all(r.status in ("done", "failed") for r in rows.values()):
            return rows
        assert time.monotonic() < deadline, [(r.id, r.status, r.error) for r in rows.values()]
        time.sleep(0.2)


def test_one_organisations_batch_does_not_hold_up_anothers_scan(env, tmp_path, site) -> None:
    for name in [*map(str, range(12)), "b"]:
        site.add(f"/page{name}", PAGE, delay=0.5)
    registry = Registry(Settings.from_env(env))
    alpha, beta = make_orgs(registry, "Alpha", "Beta")
    worker = CeleryWorker(env, tmp_path / "worker.log", pool="solo", concurrency=1)  # one scan at a time
    try:
        with sending(env, registry):
            batch = dispatch.submit_urls(registry, [site.url(f"/page{i}") for i in range(12)], org_id=alpha)
            single = dispatch.submit_scan(registry, org_id=beta, url=site.url("/pageb"), source="url")
            rows = wait_for(registry, [*batch, single])
    finally:
        worker.stop()
        registry.close()
    assert all(s.status == "done" for s in rows.values()), [(s.id, s.error) for s in rows.values()]
    before = sum(rows[i].finished_at < rows[single].finished_at for i in batch)
    # Beta's scan waited for Alpha's scans in flight (2) and the one running, not for the batch.
    assert before <= 3 and before < len(batch) / 2, f"{before} of Alpha's 12 scans finished first"


def test_a_scan_past_its_soft_time_limit_fails_once_and_the_next_goes_out(
    env, tmp_path, site, monkeypatch
) -> None:
    env = {
        **env,
        "CHECKER_SCAN_SOFT_TIME_LIMIT": "2",
        "CHECKER_SCAN_TIME_LIMIT": "60",
        "CHECKER_PER_ORG_INFLIGHT": "1",
    }
    monkeypatch.setenv("CHECKER_PER_ORG_INFLIGHT", "1")
    site.add("/slow", PAGE, delay=8)
    site.add("/fast", PAGE)
    site.add("/warm", PAGE)
    registry = Registry(Settings.from_env(env))
    (alpha,) = make_orgs(registry, "Alpha")
    worker = CeleryWorker(env, tmp_path / "worker.log", pool="prefork", concurrency=1)
    try:
        with sending(env, registry):
            # The pool's process makes its first scan first (with its lazy loads, the fast scan took over
            # the 2 s limit on a loaded CI machine), so that the fast scan below is a scan, not a start.
            wait_for(
                registry, [dispatch.submit_scan(registry, org_id=alpha, url=site.url("/warm"), source="url")]
            )
            slow = dispatch.submit_scan(registry, org_id=alpha, url=site.url("/slow"), source="url")
            fast = dispatch.submit_scan(registry, org_id=alpha, url=site.url("/fast"), source="url")
            rows = wait_for(registry, [slow, fast])
            time.sleep(7)  # past the visibility timeout: a message left unacknowledged would be back
            again = wait_for(registry, [slow])
    finally:
        worker.stop()
        registry.close()
    assert rows[slow].status == "failed"
    assert rows[slow].error == "took longer than 2 s; the page is too large or too slow to check"
    assert again[slow].status == "failed" and again[slow].attempts == 1  # not retried
    assert rows[fast].status == "done"  # the organisation's next scan was sent when the slow one ended
    assert site.hits("/slow") == 1


def test_a_scan_killed_at_the_hard_time_limit_is_recorded_by_the_parent(
    env, tmp_path, site, monkeypatch
) -> None:
    """No soft limit: the pool kills the process at 3 s. The worker's parent process marks the scan
    failed and sends the organisation's next scan, which is killed in turn; neither comes back."""
    env = {
        **env,
        "CHECKER_SCAN_SOFT_TIME_LIMIT": "0",
        "CHECKER_SCAN_TIME_LIMIT": "3",
        "CHECKER_PER_ORG_INFLIGHT": "1",
    }
    monkeypatch.setenv("CHECKER_PER_ORG_INFLIGHT", "1")
    site.add("/slow1", PAGE, delay=10)
    site.add("/slow2", PAGE, delay=10)
    registry = Registry(Settings.from_env(env))
    (alpha,) = make_orgs(registry, "Alpha")
    worker = CeleryWorker(env, tmp_path / "worker.log", pool="prefork", concurrency=1)
    try:
        with sending(env, registry):
            ids = [
                dispatch.submit_scan(registry, org_id=alpha, url=site.url(f"/slow{i}"), source="url")
                for i in (1, 2)
            ]
            rows = wait_for(registry, ids, timeout=60)
            time.sleep(7)  # past the visibility timeout
            again = wait_for(registry, ids)
    finally:
        worker.stop()
        registry.close()
    for scan_id in ids:
        assert rows[scan_id].status == "failed", (tmp_path / "worker.log").read_text()
        assert rows[scan_id].error == (
            "took longer than 3 s (stopped by the hard time limit); "
            "the page is too large or too slow to check"
        )
        assert again[scan_id].status == "failed" and again[scan_id].attempts == 1
    assert site.hits("/slow1") == 1 and site.hits("/slow2") == 1
