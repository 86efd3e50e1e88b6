"""/metrics (issue 12, "Run it"): a scan moves the scan counter and the engine-time histogram, the
index and article gauges match the database, queue depth reads the embedded threads and the Redis
broker's lists, CHECKER_METRICS=0 turns the endpoint off; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from checker.settings import Settings
from tests.web.conftest import SEEDS, close_app, make_app
from web.metrics import directory_bytes, queue_depths

BROKER_DB = 7  # this module's Redis database (no other test uses it): only its Celery queue lists are touched


def scrape(client) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of one scrape, checking it is a public 200."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "text/plain" and answer.headers["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def app(storage_app):
    return storage_app


def test_a_scan_moves_the_counter_and_the_histogram(app):
    from checker.demo import demo_suspects

    client = app.test_client()
    world = app.config["WORLD"]
    before = scrape(client)  # no login: like /healthz
    text = next(s for s in demo_suspects(SEEDS) if s["id"] == "full-copy")["text"]
    answer = client.post(
        "/api/scans", json={"text": text}, headers={"Authorization": f"Bearer {world.tokens['editor']}"}
    )
    assert answer.status_code == 202
    scan = client.get(
        f"/api/scans/{answer.get_json()['id']}", headers={"Authorization": f"Bearer {world.tokens['editor']}"}
    ).get_json()
    assert scan["status"] == "done"  # the fixtures' app runs tasks inside the request
    after = scrape(client)
    labels = {"status": "done", "verdict": scan["verdict"], "source": "text"}
    assert value(after, "checker_scans_total", **labels) == value(before, "checker_scans_total", **labels) + 1
    count = "checker_scan_duration_seconds_count"
    assert value(after, count, source="text") == value(before, count, source="text") + 1
    assert value(after, "checker_scan_duration_seconds_sum", source="text") > value(
        before, "checker_scan_duration_seconds_sum", source="text"
    )
    # Engine time is a real duration: at least one bucket at or below 300 s took the sample.
    assert value(after, "checker_scan_duration_seconds_bucket", source="text", le="300.0") == value(
        after, count, source="text"
    )


def test_index_and_article_gauges_match_the_registry(app):
    registry = app.extensions["checker.registry"]
    samples = scrape(app.test_client())
    articles = registry.count_articles()
    assert articles > 2
    assert value(samples, "checker_articles_registered") == articles
    assert value(samples, "checker_index_articles") == len(registry.index.article_ids()) == articles
    on_disk = directory_bytes(registry.settings.index_dir)
    assert on_disk > 0 and value(samples, "checker_index_bytes") == on_disk
    assert value(samples, "checker_scans_waiting", status="queued") == 0
    assert ("checker_import_jobs", (("state", "running"),)) in samples
    # A deleted article leaves both the database count and the index count (the cache sees the change).
    registry.delete_article(app.config["WORLD"].beta_article)
    samples = scrape(app.test_client())
    assert value(samples, "checker_articles_registered") == articles - 1
    assert value(samples, "checker_index_articles") == articles - 1


@pytest.mark.parametrize("how", ["config", "environment"])
def test_metrics_can_be_turned_off(tmp_path, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("CHECKER_METRICS", "0")
        app = make_app(tmp_path)
    else:
        app = make_app(tmp_path, METRICS=False)
    try:
        assert app.test_client().get("/metrics").status_code == 404
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        close_app(app)


def test_queue_depth_counts_the_embedded_threads_waiting_tasks(tmp_path):
    from worker import dispatch

    app = make_app(tmp_path, BACKGROUND_TASKS=True, SCHEDULER=False)
    release = threading.Event()
    try:
        runner = dispatch._background
        started = threading.Event()
        runner.submit(("org", 1), lambda: (started.set(), release.wait(30)))
        assert started.wait(10)  # the first task runs (not counted) ...
        runner.submit(("org", 1), lambda: None)  # ... the next two wait
        runner.submit(("org", 2), lambda: None)
        samples = scrape(app.test_client())
        assert value(samples, "checker_queue_depth", queue="checker") == 2
        assert value(samples, "checker_queue_depth", queue="checker-crawl") == 0
        release.set()
        assert runner.join(timeout=10)
        assert value(scrape(app.test_client()), "checker_queue_depth", queue="checker") == 0
    finally:
        release.set()
        close_app(app)


def test_queue_depth_reads_the_redis_brokers_queues():
    """Tasks sent through Celery to a real Redis broker (no worker) are counted where kombu put them."""
    from worker.celery_app import CRAWL_QUEUE, QUEUE, create_celery

    url = f"redis://127.0.0.1:6379/{BROKER_DB}"
    client = redis.Redis.from_url(url)

    def queue_keys() -> list[bytes]:
        return [k for k in client.keys("*") if k.startswith((QUEUE.encode(), b"_kombu"))]

    if queue_keys():
        client.delete(*queue_keys())
    settings = Settings.from_env({"CHECKER_BROKER_URL": url})
    from worker.app import celery_app as default_app

    app = create_celery(settings)  # a new Celery app makes itself the current one: restored below
    try:
        assert queue_depths(settings) == {QUEUE: 0, CRAWL_QUEUE: 0}
        for scan_id in (1, 2, 3):
            app.send_task("worker.tasks.scan", (scan_id,))
        app.send_task("worker.tasks.crawl", (1,), queue=CRAWL_QUEUE, routing_key=CRAWL_QUEUE)
        app.send_task("worker.tasks.scan", (4,), priority=5)  # kombu keeps priorities in lists of their own
        assert queue_depths(settings) == {QUEUE: 4, CRAWL_QUEUE: 1}  # a send returns once Redis has it
    finally:
        default_app.set_current()
        app.close()
        if queue_keys():
            client.delete(*queue_keys())
        client.close()


MULTIPROCESS_APP = r"""
import logging, os, sys
from checker import metrics
from checker.settings import Settings
from web import create_app

metrics.record_scan("done", "no_reuse", "mp-test", 0.01)  # this process (a gunicorn worker, say)
pid = os.fork()
if pid == 0:  # another process of the same service
    metrics.record_scan("done", "no_reuse", "mp-test", 0.02)
    os._exit(0)
assert os.waitpid(pid, 0)[1] == 0
app = create_app({"TESTING": True, "SECRET_KEY": "x", "BACKGROUND_TASKS": False,
                  "SETTINGS": Settings.from_env({}, data_dir=sys.argv[1])})
logging.getLogger("web.probe").warning("scraped %s", "once")
sys.stdout.write(app.test_client().get("/metrics").get_data(as_text=True))
app.extensions["checker.registry"].close()
"""


def test_multiprocess_mode_adds_up_the_processes_and_logs_json(tmp_path):
    """gunicorn's workers (or any processes of one service) with PROMETHEUS_MULTIPROC_DIR: a scrape of any
    one of them counts every process's scans; CHECKER_LOG_FORMAT=json through the real factory."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "prom").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "CHECKER_LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_APP, str(tmp_path / "data")],
        check=False,
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(done.stdout)
        for s in family.samples
    }
    labels = (("source", "mp-test"), ("status", "done"), ("verdict", "no_reuse"))
    assert samples[("checker_scans_total", labels)] == 2
    assert samples[("checker_scan_duration_seconds_count", (("source", "mp-test"),))] == 2
    assert ("checker_articles_registered", ()) in samples  # the scrape-time gauges too
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # nothing but JSON on stderr
    assert {"level": "WARNING", "logger": "web.probe", "message": "scraped once"}.items() <= lines[-1].items()


@pytest.mark.parametrize("probe", ["/metrics", "/readyz"])
def test_a_probe_never_hides_another_processs_edit_from_the_next_scan(tmp_path, probe):
    """A scrape (or readiness check) that sees another process's index writes first must not keep the
    scans from seeing them: an article edited elsewhere is read again, its new text found whole."""
    from checker.records import ArticleIn
    from checker.registry import Registry

    app = make_app(tmp_path)
    try:
        here = app.extensions["checker.registry"]
        old = " ".join(f"kata{i} lama{i % 7} berita{i % 11}" for i in range(300))
        new = " ".join(f"teks{i} baru{i % 5} sekali{i % 13}" for i in range(300))
        article_id = here.register(ArticleIn(title="Asal", text=old))
        assert here.scan(old).matches[0].article.id == article_id  # cached here, with its old text
        with Registry(here.settings) as elsewhere:  # another process edits it
            elsewhere.update_article(article_id, ArticleIn(title="Asal", text=new))
        assert app.test_client().get(probe).status_code == 200
        (match,) = here.scan(new).matches
        assert match.article.id == article_id and match.source_coverage > 0.9, match
    finally:
        close_app(app)


def test_the_local_index_count_agrees_with_its_article_ids_through_removes_and_revivals(tmp_path):
    """The scrape's count (sorting, cached per state) equals ``article_ids()`` after adds, removes, an
    id added again and a save's merges; only its way of counting differs."""
    import numpy as np

    from checker.fingerprint import DEFAULT_SCHEME
    from checker.index_memory import MemoryIndex
    from web.metrics import indexed_articles

    index = MemoryIndex(DEFAULT_SCHEME, directory=tmp_path / "index")
    rng = np.random.default_rng(3)

    def keys() -> np.ndarray:
        return rng.integers(1, 2**63, 40, dtype=np.uint64)

    counts = []
    for batch in range(12):
        index.add((i, keys()) for i in range(batch * 50 + 1, batch * 50 + 51))
        index.remove(range(batch * 50 + 1, batch * 50 + 1 + batch))  # some of this batch's ids
        if batch % 3 == 2:
            index.add([(batch * 50 + 1, keys())])  # one removed id comes back
            index.save()
        counts.append((indexed_articles(index), len(index.article_ids())))
    assert all(ours == theirs for ours, theirs in counts), counts
    assert counts[-1][0] == 600 - sum(range(12)) + 4  # batches 2, 5, 8 and 11 revived one each
    assert indexed_articles(index) == counts[-1][0]  # cached: the same state counts the same


def test_the_shared_index_count_is_its_set_of_articles(tmp_path):
    """On the Redis index the gauge is one SCARD, equal to the ids the index lists."""
    import uuid

    from checker.demo import register_demo_articles
    from checker.index_redis import drop
    from checker.registry import Registry
    from web.metrics import indexed_articles

    url, prefix = f"redis://127.0.0.1:6379/{BROKER_DB}", f"test-metrics:{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env(
        {"CHECKER_INDEX_URL": url, "CHECKER_INDEX_PREFIX": prefix}, data_dir=tmp_path / "d"
    )
    registry = Registry(settings)
    try:
        assert type(registry.index).__name__ == "RedisIndex" and indexed_articles(registry.index) == 0
        ids = register_demo_articles(registry, SEEDS)
        assert indexed_articles(registry.index) == len(registry.index.article_ids()) == len(ids) > 2
    finally:
        drop(registry.index.client, prefix)
        registry.close()
