"""Fair sharing between organisations and bounded scans (issue 9, finding 8), without a Celery worker:
the background thread's policy, the Redis slots and the dispatch through them, the attempts bound,
and the embedded default end to end (one organisation's batch, another's single scan). Loopback only.
The same with real Celery workers: tests/worker/test_celery_fairness.py."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, update

from checker import scans
from checker.models import Scan
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import REDIS_URL  # the shared test database; keys under a fresh prefix
from tests.worker.conftest import make_orgs
from worker import context, dispatch, fairness, tasks

# --------------------------------------------------------------------------------------------------
# the background thread's policy


def test_a_new_lane_runs_right_after_the_item_running_now() -> None:
    runner = fairness.FairRunner("test-fair")
    ran: list[str] = []
    gate = threading.Event()
    try:
        runner.submit("A", lambda: (gate.wait(10), ran.append("A0")))
        for i in range(1, 10):
            runner.submit("A", lambda i=i: ran.append(f"A{i}"))
        runner.submit("B", lambda: ran.append("B0"))
        runner.submit("C", lambda: ran.append("C0"))
        runner.submit("B", lambda: ran.append("B1"))
        gate.set()
        assert runner.join(10)
    finally:
        runner.shutdown()
    # B and C each waited for the one item of A that was running, then lanes take turns.
    assert ran[:6] == ["A0", "B0", "C0", "A1", "B1", "A2"]
    assert ran[6:] == [f"A{i}" for i in range(3, 10)]


def test_lanes_take_turns_least_recently_served_first() -> None:
    runner = fairness.FairRunner("test-fair")
    ran: list[str] = []
    gate = threading.Event()
    try:
        runner.submit("hold", gate.wait)
        for lane in "ABC":
            for i in range(3):
                runner.submit(lane, lambda lane=lane, i=i: ran.append(f"{lane}{i}"))
        gate.set()
        assert runner.join(10)
    finally:
        runner.shutdown()
    assert ran == ["A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"]


def test_shutdown_runs_what_is_queued_and_refuses_more() -> None:
    runner = fairness.FairRunner("test-fair")
    ran = []
    for i in range(5):
        runner.submit("A", lambda i=i: (time.sleep(0.01), ran.append(i)))
    runner.shutdown(wait=True)
    assert ran == list(range(5))
    with pytest.raises(RuntimeError):
        runner.submit("A", lambda: None)


def test_a_failing_item_does_not_stop_the_thread() -> None:
    runner = fairness.FairRunner("test-fair")
    ran = []
    try:
        runner.submit("A", lambda: 1 / 0)
        runner.submit("A", lambda: ran.append("after"))
        assert runner.join(10)
    finally:
        runner.shutdown()
    assert ran == ["after"]


# --------------------------------------------------------------------------------------------------
# slots in Redis


@pytest.fixture
def slots():
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test:fair:{uuid.uuid4().hex[:8]}:"
    yield fairness.Slots(client, prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_slots_stop_at_the_limit_and_free_on_release(slots) -> None:
    assert slots.acquire(1, [10, 11, 12, 13], limit=2) == [10, 11]
    assert slots.acquire(1, [10, 11, 12, 13], limit=2) == []  # full; 10 and 11 already hold theirs
    assert slots.acquire(2, [20], limit=2) == [20]  # another organisation has its own
    assert slots.acquire(None, [30], limit=2) == [30]  # and so do scans without one
    slots.release(1, 10)
    assert slots.acquire(1, [11, 12, 13], limit=2) == [12]
    assert slots.held(1) == [11, 12]


def test_a_slot_expires_at_its_deadline(slots) -> None:
    assert slots.acquire(1, [10], limit=1, ttl=1) == [10]
    assert slots.acquire(1, [11], limit=1) == []
    time.sleep(2.1)  # Redis TIME has second resolution
    assert slots.acquire(1, [11], limit=1) == [11]  # the lost scan 10 no longer blocks its organisation


def test_a_running_scan_holds_a_slot_even_if_it_had_none(slots) -> None:
    slots.hold(1, 99, 60)  # started through another path (the sweeper, a redelivery)
    assert slots.acquire(1, [10, 11], limit=2) == [10]
    assert slots.held(1) == [10, 99]


def test_concurrent_takers_never_overrun_the_limit(slots) -> None:
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = slots.acquire(7, range(100, 120), limit=3)
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [100, 101, 102]


# --------------------------------------------------------------------------------------------------
# dispatch: the database queue through the slots


@pytest.fixture
def registry(tmp_path):
    settings = Settings.from_env({"CHECKER_ALLOW_PRIVATE_URLS": "1"}, data_dir=tmp_path / "data")
    reg = Registry(settings)
    yield reg
    reg.close()


def queue_texts(registry: Registry, org_id: int | None, n: int) -> list[int]:
    return [
        scans.create_scan(registry.Session, org_id=org_id, text=f"text {i} of {org_id}") for i in range(n)
    ]


def test_dispatch_sends_the_oldest_queued_scans_within_the_limit(registry, slots) -> None:
    a, b = make_orgs(registry, "A", "B")
    a_ids, b_ids = queue_texts(registry, a, 6), queue_texts(registry, b, 1)
    sent: list[int] = []
    assert fairness.dispatch(registry.Session, slots, a_ids + b_ids, sent.append, limit=2) == sent
    assert sent == [*a_ids[:2], b_ids[0]]
    # A's first scan ends; its organisation sends exactly one more, the oldest still waiting.
    with registry.Session.begin() as session:
        session.execute(update(Scan).where(Scan.id == a_ids[0]).values(status="done"))
    slots.release(a, a_ids[0])
    assert fairness.dispatch_org(registry.Session, slots, a, sent.append, limit=2) == [a_ids[2]]
    # The sweeper's pass sends nothing more: every organisation is at its limit or has nothing queued.
    assert fairness.dispatch_all(registry.Session, slots, sent.append, limit=2) == []


def test_a_scan_the_broker_refused_stays_queued_without_a_slot(registry, slots) -> None:
    (a,) = make_orgs(registry, "A")
    ids = queue_texts(registry, a, 2)

    def broker_down(scan_id: int) -> None:
        raise ConnectionError("broker down")

    assert fairness.dispatch_org(registry.Session, slots, a, broker_down, limit=2) == ids
    assert slots.held(a) == []  # freed again: the sweeper's next pass can send them


# --------------------------------------------------------------------------------------------------
# bounded attempts (embedded default: tasks run in this process)


@pytest.fixture
def in_process(registry):
    context.use(registry)
    yield registry
    context.use(None)


def test_a_scan_started_too_often_is_given_up(in_process) -> None:
    registry = in_process
    (scan_id,) = queue_texts(registry, None, 1)
    with registry.Session.begin() as session:  # started and lost this many times already
        session.execute(update(Scan).where(Scan.id == scan_id).values(attempts=tasks.MAX_SCAN_ATTEMPTS))
    assert tasks.scan_task.apply((scan_id,)).get() == "failed"
    with registry.Session() as session:
        scan = session.get(Scan, scan_id)
    assert scan.status == "failed" and scan.error.startswith(
        f"gave up after {tasks.MAX_SCAN_ATTEMPTS} attempts"
    )


def test_the_sweeper_does_not_requeue_a_lost_scan_forever(in_process, monkeypatch) -> None:
    """A scan whose worker keeps dying stays "running"; each sweep re-sends it, until the bound."""
    registry = in_process
    monkeypatch.setattr(tasks, "STUCK_AFTER", timedelta(0))
    (scan_id,) = queue_texts(registry, None, 1)
    monkeypatch.setattr(tasks, "_run_scan", lambda *a: (_ for _ in ()).throw(WorkerDied()))
    for sweep in range(1, 3 * tasks.MAX_SCAN_ATTEMPTS):  # noqa: B007 - read after the loop
        try:
            tasks.sweep_stuck.apply().get()
        except WorkerDied:  # the "worker" died inside the scan again: the scan stays running
            continue
        break
    with registry.Session() as session:
        scan = session.get(Scan, scan_id)
    assert scan.status == "failed" and "gave up after" in scan.error
    assert sweep == tasks.MAX_SCAN_ATTEMPTS + 1  # started MAX_SCAN_ATTEMPTS times, then given up
    assert tasks.sweep_stuck.apply().get() == 0  # failed: never sent again


class WorkerDied(BaseException):
    """What a worker process killed mid-scan looks like from inside: nothing after it runs."""


def test_a_soft_time_limit_fails_the_scan_once_without_a_retry(in_process, monkeypatch) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    registry = in_process
    (scan_id,) = queue_texts(registry, None, 1)
    calls = []

    def slow_scan(*args, **kwargs):
        calls.append(1)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(registry, "scan", slow_scan)
    assert tasks.scan_task.apply((scan_id,)).get() == "failed"
    with registry.Session() as session:
        scan = session.get(Scan, scan_id)
    assert scan.status == "failed" and scan.attempts == 1 and len(calls) == 1
    assert scan.error == "took longer than 300 s; the page is too large or too slow to check"


# --------------------------------------------------------------------------------------------------
# the embedded default end to end: one background thread, two organisations


def test_embedded_batch_does_not_hold_up_another_organisations_scan(in_process, site) -> None:
    registry = in_process
    for name in [*map(str, range(12)), "b"]:
        site.add(
            f"/slow{name}",
            "<html><body><p>" + "A slow page to check. " * 40 + "</p></body></html>",
            delay=0.3,
        )
    a, b = make_orgs(registry, "Alpha", "Beta")
    dispatch.run_in_background(True)
    try:
        batch = dispatch.submit_urls(registry, [site.url(f"/slow{i}") for i in range(12)], org_id=a)
        single = dispatch.submit_scan(registry, org_id=b, url=site.url("/slowb"), source="url")
        assert dispatch._background.join(60)
    finally:
        dispatch.run_in_background(False)
    with registry.Session() as session:
        rows = {s.id: s for s in session.scalars(select(Scan))}
    assert all(rows[i].status == "done" for i in [*batch, single]), [
        (s.id, s.status, s.error) for s in rows.values()
    ]
    done_before = sum(rows[i].finished_at < rows[single].finished_at for i in batch)
    assert done_before <= 2, f"{done_before} of Alpha's 12 scans ran before Beta's one"


def test_embedded_crawl_runs_beside_the_scans(in_process, site, monkeypatch) -> None:
    """A crawl is one long task: on the embedded default it has a thread of its own, and the pages it
    queues join their organisation's lane like any batch."""
    registry = in_process
    a, b = make_orgs(registry, "Alpha", "Beta")
    gate = threading.Event()
    crawled = []

    def slow_crawl(crawl_id: int) -> str:
        gate.wait(30)  # a crawl that takes its time
        crawled.append(crawl_id)
        return "done"

    monkeypatch.setattr(tasks.crawl_task, "run", slow_crawl)
    site.add("/page", "<html><body><p>" + "A page to check quickly. " * 40 + "</p></body></html>")
    dispatch.run_in_background(True)
    try:
        crawl_id = dispatch.submit_crawl(registry, site.url("/"), org_id=a)
        single = dispatch.submit_scan(registry, org_id=b, url=site.url("/page"), source="url")
        deadline = time.monotonic() + 30
        while True:
            with registry.Session() as session:
                status = session.get(Scan, single).status
            if status in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == "done" and crawled == []  # the scan finished while the crawl still ran
        gate.set()
        assert dispatch._crawls.join(30)
    finally:
        gate.set()
        dispatch.run_in_background(False)
    assert crawled == [crawl_id]
