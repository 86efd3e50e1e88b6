"""Watches run on time in every setup (issue 11): the embedded scheduler of a dashboard started with no
broker, what a failed run does to its watch, and daily alert digests. Celery beat with a real worker is
in test_celery_beat.py. Loopback only."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

from sqlalchemy import select

from checker import monitoring
from checker.demo import register_demo_articles
from checker.models import AlertEvent, Crawl, MatchRow, Organisation, Scan, Watch
from checker.settings import Settings
from tests.conftest import SEEDS
from tests.web.conftest import close_app, make_app
from tests.worker.test_monitoring import alerting, free_port, publish_copier_site  # noqa: F401 - a fixture
from worker import dispatch, scheduler
from worker.celery_app import periodic_schedule
from worker.tasks import monitor_due, send_digests


def wait_until(condition, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)
    return value


# -- the scheduler's clock ---------------------------------------------------------------------------


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


def test_each_task_is_sent_at_its_interval_and_a_failing_send_stops_nothing() -> None:
    now = [0.0]
    sent: list[str] = []

    def send(task):
        if task.name == "broken":
            raise RuntimeError("broker down")
        sent.append(task.name)

    tick = Named("tick"), Named("slow"), Named("broken")
    s = scheduler.Scheduler(
        10, send=send, clock=lambda: now[0], tasks=[(tick[0], 10), (tick[1], 300), (tick[2], 10)]
    )
    assert s.run_pending() == ["tick", "slow"]  # everything on the first tick, as beat does
    for t in (9.9, 20.1, 299, 300.2):  # a tick a little early still counts (half a tick of slack)
        now[0] = t
        s.run_pending()
    assert sent == ["tick", "slow", "tick", "tick", "tick", "slow"]  # nothing at 300.2: 1.2 s after 299


def test_the_embedded_schedule_is_beats_schedule() -> None:
    names = {task.name for task, _ in scheduler.periodic_tasks(1.0)}
    assert names == {entry["task"] for entry in periodic_schedule(1.0).values()}
    assert {
        "worker.tasks.monitor_due",
        "worker.discovery_tasks.discover_due",
        "worker.tasks.send_digests",
        "worker.tasks.sweep_stuck",
    } <= names


# -- the embedded default runs a due watch within one tick -------------------------------------------


def test_a_dashboard_without_a_broker_runs_a_watch_on_its_own(tmp_path, site, seed_suspects) -> None:
    publish_copier_site(site, seed_suspects)
    settings = Settings.from_env(
        {"CHECKER_ALLOW_PRIVATE_URLS": "1", "CHECKER_SCHEDULER_TICK_S": "0.5"}, data_dir=tmp_path / "data"
    )
    assert settings.broker_url is None
    app = make_app(tmp_path, SETTINGS=settings, BACKGROUND_TASKS=True)
    try:
        registry = app.extensions["checker.registry"]
        register_demo_articles(registry, SEEDS)
        watch_id = dispatch.add_watch(registry, site.url("/"), interval_minutes=60, max_pages=10)

        def copy_scanned():
            with registry.Session() as session:
                return session.scalars(
                    select(Scan).where(Scan.url == site.url("/copy.html"), Scan.status == "done")
                ).first()

        scan = wait_until(copy_scanned, timeout=60)  # nobody called monitor_due: the scheduler did
        assert scan.source == "watch" and scan.verdict == "unattributed_reuse"
        with registry.Session() as session:
            crawl = session.scalars(select(Crawl).where(Crawl.watch_id == watch_id)).one()
            assert crawl.id == scan.crawl_id
            wait_until(
                lambda: session.get(Crawl, crawl.id).status == "done" or session.expire_all(), timeout=30
            )
            (summary,) = monitoring.summaries(session, None)
        assert summary.last_run_at is not None and summary.next_run_at > summary.last_run_at
        assert summary.pages_seen >= 2 and summary.new_matches >= 1 and summary.last_error is None
        ticks = scheduler._running.ticks
        wait_until(lambda: scheduler._running.ticks >= ticks + 3)  # the watch is due again only in an hour
        with registry.Session() as session:
            assert len(session.scalars(select(Crawl).where(Crawl.watch_id == watch_id)).all()) == 1
    finally:
        close_app(app)
    assert scheduler._running is None  # closing the app stopped its scheduler


# -- a failing watch says why, backs off, and is paused -----------------------------------------------


def test_a_failing_watch_backs_off_then_pauses_with_its_reason(alerting) -> None:  # noqa: F811
    registry, _, _ = alerting
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    watch_id = dispatch.add_watch(registry, dead, interval_minutes=60, max_pages=5)
    waits = []
    for run in range(1, monitoring.MAX_FAILURES + 1):
        started = datetime.now(UTC)
        assert monitor_due.delay().get() == 1
        with registry.Session.begin() as session:
            watch = session.get(Watch, watch_id)
            assert watch.failures == run and "could not connect" in watch.last_error
            waits.append(watch.next_due_at - started)
            watch.next_due_at = datetime.now(UTC) - timedelta(seconds=1)  # due again now
    assert [round(w / timedelta(hours=1)) for w in waits[:4]] == [1, 2, 4, 8]  # doubled each time
    with registry.Session() as session:
        watch = session.get(Watch, watch_id)
        assert not watch.active and watch.paused_reason.startswith(
            f"paused after {monitoring.MAX_FAILURES} failed runs"
        )
        assert "could not connect" in watch.paused_reason
    assert monitor_due.delay().get() == 0  # paused: not run however overdue
    with registry.Session.begin() as session:
        monitoring.resume(session, session.get(Watch, watch_id))
    with registry.Session() as session:
        (summary,) = monitoring.summaries(session, None)
    assert summary.active and summary.failures == 0 and summary.paused_reason is None


def test_a_run_that_works_clears_the_failures(alerting, site, seed_suspects) -> None:  # noqa: F811
    registry, _, _ = alerting
    publish_copier_site(site, seed_suspects)
    watch_id = dispatch.add_watch(registry, site.url("/"), interval_minutes=60, max_pages=5)
    with registry.Session.begin() as session:
        watch = session.get(Watch, watch_id)
        watch.failures, watch.last_error = 3, "the start page could not be fetched: earlier"
    assert monitor_due.delay().get() == 1
    with registry.Session() as session:
        watch = session.get(Watch, watch_id)
        assert (watch.failures, watch.last_error, watch.active) == (0, None, True)


# -- daily digests ---------------------------------------------------------------------------------


def daily_org(registry, emails=None) -> int:
    with registry.Session.begin() as session:
        org = Organisation(name="Lingkar", alert_frequency="daily", alert_emails=emails)
        session.add(org)
        session.flush()
        return org.id


def test_a_daily_organisation_gets_one_digest_a_day(alerting, site, seed_suspects, monkeypatch) -> None:  # noqa: F811
    registry, receiver, sink = alerting
    monkeypatch.setenv("CHECKER_BASE_URL", "https://checker.lingkar.example/")
    org = daily_org(registry, emails=["redaksi@lingkar.example"])
    register_demo_articles(registry, SEEDS, org_id=org)
    publish_copier_site(site, seed_suspects)
    site.add(
        "/copy2.html",
        site.routes["/copy.html"].body.replace(b"Vaksin", b"Vaksin 2"),
        content_type="text/html",
    )
    dispatch.submit_urls(
        registry, [site.url("/copy.html"), site.url("/copy2.html"), site.url("/other.html")], org_id=org
    )
    with registry.Session() as session:
        events = session.scalars(select(AlertEvent).where(AlertEvent.org_id == org)).all()
    assert len(events) == 2 and not receiver.posts and not sink.messages  # stored, waiting for the digest

    assert send_digests.delay().get() == 1
    ((headers, body),) = receiver.posts
    digest = json.loads(body)
    assert digest["event"] == "digest" and digest["org_id"] == org
    assert sorted(e["suspect_url"] for e in digest["events"]) == [
        site.url("/copy.html"),
        site.url("/copy2.html"),
    ]
    assert all(
        e["dashboard_url"].startswith("https://checker.lingkar.example/matches/") for e in digest["events"]
    )
    assert headers["x-checker-event"].startswith("digest-")
    (raw,) = sink.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "redaksi@lingkar.example" and "2 new unattributed copies" in mail["Subject"]
    assert "https://checker.lingkar.example/matches/" in mail.get_payload()

    # A new copy the same day waits for tomorrow's digest.
    site.add(
        "/copy3.html",
        site.routes["/copy.html"].body.replace(b"Vaksin", b"Vaksin 3"),
        content_type="text/html",
    )
    dispatch.submit_urls(registry, [site.url("/copy3.html")], org_id=org)
    assert send_digests.delay().get() == 0 and len(receiver.posts) == 1
    with registry.Session.begin() as session:
        session.get(Organisation, org).last_digest_at -= timedelta(days=1, seconds=1)
    assert send_digests.delay().get() == 1 and len(receiver.posts) == 2
    assert [e["suspect_url"] for e in json.loads(receiver.posts[1][1])["events"]] == [site.url("/copy3.html")]
    assert send_digests.delay().get() == 0  # nothing pending


def test_a_match_dismissed_before_the_digest_is_left_out(alerting, site, seed_suspects) -> None:  # noqa: F811
    registry, receiver, sink = alerting
    org = daily_org(registry)
    register_demo_articles(registry, SEEDS, org_id=org)
    publish_copier_site(site, seed_suspects)
    dispatch.submit_urls(registry, [site.url("/copy.html")], org_id=org)
    with registry.Session.begin() as session:
        match = session.scalars(select(MatchRow)).one()
        match.review_status = "dismissed"
    assert send_digests.delay().get() == 0 and not receiver.posts and not sink.messages
    with registry.Session() as session:
        (event,) = session.scalars(select(AlertEvent)).all()
    assert (event.webhook_status, event.email_status) == ("skipped", "skipped")
    assert "dismissed before it went out" in event.last_error


def test_an_immediate_organisation_is_alerted_at_once(alerting, site, seed_suspects) -> None:  # noqa: F811
    registry, receiver, _ = alerting
    with registry.Session.begin() as session:
        org = Organisation(name="Now", alert_frequency="immediate")
        session.add(org)
        session.flush()
        org_id = org.id
    register_demo_articles(registry, SEEDS, org_id=org_id)
    publish_copier_site(site, seed_suspects)
    dispatch.submit_urls(registry, [site.url("/copy.html")], org_id=org_id)
    assert len(receiver.posts) == 1 and json.loads(receiver.posts[0][1])["event"] == "new_unattributed_reuse"
    assert send_digests.delay().get() == 0


# -- feed watches ----------------------------------------------------------------------------------


def test_a_feed_watch_scans_new_items_and_an_unchanged_feed_costs_one_request(
    alerting,  # noqa: F811 - the fixture imported above
    site,
    seed_suspects,
) -> None:
    from tests.worker.conftest import Route
    from tests.worker.test_feedwatch import rss

    registry, receiver, _ = alerting
    publish_copier_site(site, seed_suspects)
    items = [site.url("/copy.html"), site.url("/other.html")]

    def feed(request):
        tag = f'"v{len(items)}"'
        if request.headers.get("if-none-match") == tag:
            return Route(304, b"", {"ETag": tag})
        return Route(200, rss(items).encode(), {"Content-Type": "application/rss+xml", "ETag": tag})

    site.routes["/feed.xml"] = feed
    watch_id = dispatch.add_watch(
        registry, site.url("/feed.xml"), interval_minutes=30, max_pages=10, kind="feed"
    )

    def run_now() -> list[str]:
        site.requests.clear()
        with registry.Session.begin() as session:
            session.get(Watch, watch_id).next_due_at = datetime.now(UTC) - timedelta(seconds=1)
        assert monitor_due.delay().get() == 1
        return [r.path for r in site.requests]

    assert set(run_now()) >= {"/feed.xml", "/copy.html", "/other.html"}
    with registry.Session() as session:
        scans = {
            s.url: s for s in session.scalars(select(Scan).join(Crawl).where(Crawl.watch_id == watch_id))
        }
        assert session.get(Watch, watch_id).etag == '"v2"'
    assert set(scans) == set(items) and scans[items[0]].verdict == "unattributed_reuse"
    assert scans[items[1]].verdict == "no_reuse" and len(receiver.posts) == 1
    assert site.hits("/") == 0 and site.hits("/sitemap.xml") == 0  # a feed watch reads the feed, not the site

    assert run_now() == ["/feed.xml"]  # unchanged: one conditional request answered 304
    with registry.Session() as session:
        last = session.scalars(
            select(Crawl).where(Crawl.watch_id == watch_id).order_by(Crawl.id.desc())
        ).first()
        assert (last.status, last.pages_found, last.error) == ("done", 0, None)

    site.add("/new.html", site.routes["/copy.html"].body.replace(b"Vaksin", b"Vaksin baru"))
    items.append(site.url("/new.html"))
    assert sorted(run_now()) == [
        "/feed.xml",
        "/new.html",
        "/robots.txt",
    ]  # only the new item (and robots.txt)
    with registry.Session() as session:
        (summary,) = monitoring.summaries(session, None)
    assert summary.kind == "feed" and summary.pages_seen == 1 and summary.new_matches == 2
