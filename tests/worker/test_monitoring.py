"""Crawling, monitoring and alerts end to end on the embedded default (tasks in-process), against a
local site, a local webhook receiver and a local SMTP sink (aiosmtpd). Loopback only."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from checker.demo import register_demo_articles
from checker.errors import InputError
from checker.models import AlertEvent, Crawl, MatchRow, Scan, Watch
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import SEEDS
from worker import context, dispatch
from worker.alerts import verify
from worker.tasks import monitor_due

SECRET = "s3cret-for-tests"


class Receiver:
    """Webhook receiver on 127.0.0.1: records POSTs, answers the statuses queued in ``answers``."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alerting(monkeypatch, tmp_path):
    receiver, sink = Receiver(), Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    monkeypatch.setenv("CHECKER_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("CHECKER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CHECKER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHECKER_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("CHECKER_ALERT_TO", "desk@lingkar.example")
    registry = Registry(Settings.from_env({"CHECKER_ALLOW_PRIVATE_URLS": "1"}, data_dir=tmp_path / "data"))
    register_demo_articles(registry, SEEDS)
    context.use(registry)
    try:
        yield registry, receiver, sink
    finally:
        context.use(None)
        registry.close()
        receiver.stop()
        smtp.stop()


def page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return f"<html><head><title>{title}</title></head><body><article>{paragraphs}</article></body></html>"


def publish_copier_site(site, seed_suspects) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add(
        "/sitemap.xml",
        (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{site.url('/copy.html')}</loc></url><url><loc>{site.url('/other.html')}</loc></url>"
            f"<url><loc>{site.url('/private/draft.html')}</loc></url></urlset>"
        ),
        content_type="application/xml",
    )
    site.add("/", page("Home", "Welcome").replace("</article>", "<a href='/copy.html'>x</a></article>"))
    site.add("/copy.html", page("Vaksin", seed_suspects["full-copy"]["text"]))
    site.add("/other.html", page("Kuliner", seed_suspects["unrelated"]["text"]))
    site.add("/private/draft.html", page("Draft", seed_suspects["partial-copy"]["text"]))


def count(registry, model, *where) -> int:
    with registry.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_watch_alerts_once_per_new_copy(alerting, site, seed_suspects) -> None:
    registry, receiver, sink = alerting
    publish_copier_site(site, seed_suspects)
    watch_id = dispatch.add_watch(registry, site.url("/"), interval_minutes=60, max_pages=10)

    assert monitor_due.delay().get() == 1  # beat's tick: the new watch is due, its crawl runs
    with registry.Session() as session:
        crawl = session.scalars(select(Crawl).where(Crawl.watch_id == watch_id)).one()
        scans = session.scalars(select(Scan).where(Scan.crawl_id == crawl.id).order_by(Scan.url)).all()
        assert crawl.status == "done" and crawl.pages_found == len(scans)
        by_url = {s.url: s for s in scans}
    assert (
        site.url("/private/draft.html") not in by_url and site.hits("/private/draft.html") == 0
    )  # robots.txt
    copy = by_url[site.url("/copy.html")]
    assert copy.status == "done" and copy.verdict == "unattributed_reuse" and copy.source == "watch"
    assert len(copy.body_sha256) == 64 and copy.fetched_at is not None
    assert by_url[site.url("/other.html")].verdict == "no_reuse"

    # One signed webhook event and one e-mail digest for the one new unattributed copy.
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    assert verify(body, SECRET, headers["x-checker-signature"])
    event = json.loads(body)
    assert event["event"] == "new_unattributed_reuse" and event["suspect_url"] == site.url("/copy.html")
    assert len(sink.messages) == 1
    mail = message_from_bytes(sink.messages[0])
    assert "1 new unattributed copy" in mail["Subject"] and site.url("/copy.html") in mail.get_payload()
    with registry.Session() as session:
        (alert,) = session.scalars(select(AlertEvent)).all()
        assert (alert.webhook_status, alert.email_status) == ("sent", "sent")

    # The next crawl finds the same copy again: nothing new is recorded, nothing is sent.
    matches_before = count(registry, MatchRow)
    assert monitor_due.delay().get() == 0  # not due yet
    with registry.Session.begin() as session:
        session.get(Watch, watch_id).next_due_at = datetime.now(UTC) - timedelta(minutes=1)
    assert monitor_due.delay().get() == 1
    assert count(registry, Crawl, Crawl.watch_id == watch_id) == 2
    assert count(registry, MatchRow) == matches_before
    assert len(receiver.posts) == 1 and len(sink.messages) == 1


def test_webhook_failures_are_retried(alerting, site, seed_suspects) -> None:
    registry, receiver, sink = alerting
    publish_copier_site(site, seed_suspects)
    receiver.answers = [503, 500]  # the receiver is down twice, then accepts
    crawl_id = dispatch.submit_crawl(registry, site.url("/"), max_pages=5)
    with registry.Session() as session:
        assert session.get(Crawl, crawl_id).status == "done"
        (alert,) = session.scalars(select(AlertEvent)).all()
    assert len(receiver.posts) == 3 and alert.webhook_status == "sent" and alert.attempts >= 3
    bodies = {body for _, body in receiver.posts}
    assert len(bodies) == 1  # the same signed event each time, so the receiver can de-duplicate
    assert len(sink.messages) == 1


def test_batch_of_urls_alerts_and_bad_urls_fail_cleanly(alerting, site, seed_suspects) -> None:
    registry, receiver, _ = alerting
    publish_copier_site(site, seed_suspects)
    # A URL that does not parse is refused with the whole batch, before anything is stored.
    with pytest.raises(InputError, match="URL 3: 'http://\\[::1' is not a valid URL"):
        dispatch.submit_urls(registry, [site.url("/copy.html"), site.url("/missing.html"), "http://[::1"])
    with registry.Session() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0
    # One that parses but cannot be fetched fails on its own; the others are scanned.
    ids = dispatch.submit_urls(
        registry, [site.url("/copy.html"), site.url("/missing.html"), "http://[::1]:1/"]
    )
    with registry.Session() as session:
        rows = {s.id: s for s in session.scalars(select(Scan).where(Scan.id.in_(ids)))}
    assert rows[ids[0]].verdict == "unattributed_reuse"
    assert rows[ids[1]].status == "failed" and "404" in rows[ids[1]].error
    assert rows[ids[2]].status == "failed" and rows[ids[2]].error
    assert len(receiver.posts) == 1


def test_a_delivery_that_keeps_failing_records_why_per_channel(
    alerting, site, seed_suspects, monkeypatch
) -> None:
    registry, receiver, sink = alerting
    publish_copier_site(site, seed_suspects)
    receiver.answers = [503] * 20  # the receiver never recovers
    monkeypatch.setenv("CHECKER_SMTP_PORT", str(free_port()))  # nothing listens there
    dispatch.submit_crawl(registry, site.url("/"), max_pages=5)
    with registry.Session() as session:
        (alert,) = session.scalars(select(AlertEvent)).all()
    assert (alert.webhook_status, alert.email_status) == ("failed", "failed")
    # Both channels' reasons, each in plain words, on the event itself.
    assert "answered 503" in alert.last_error and "e-mail:" in alert.last_error
    assert len(sink.messages) == 0 and len(receiver.posts) >= 2
