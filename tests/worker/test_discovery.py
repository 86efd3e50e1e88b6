"""Discovery end to end on the embedded default (tasks in-process): a fake SearXNG and a fake Brave
Search API on 127.0.0.1, answering in each one's documented JSON format, return result URLs on a local
site; the copy among them becomes a match and an alert. Loopback only: no test sends a query to a real
provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from checker.errors import NotFound
from checker.models import AlertEvent, Article, MatchRow, Organisation, Scan, SearchQuery
from checker.phrases import pick_phrases
from checker.records import ArticleIn
from checker.registry import Registry
from checker.settings import Settings
from tests.worker.conftest import make_orgs
from worker import context, discovery, search
from worker.discovery_tasks import discover_article, discover_due

BRAVE_KEY = "test-brave-key"


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeEngine:
    """A search API on 127.0.0.1: records every request; ``answer(seen)`` gives (status, headers, body)."""

    answer: Callable[[Seen], tuple[int, dict, bytes]]
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                )
                engine.requests.append(seen)
                status, headers, body = engine.answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def queries(self) -> list[str]:
        return [r.params.get("q") for r in self.requests]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def searxng_page(query: str, urls: list[str]) -> bytes:
    """A SearXNG ``format=json`` answer (docs.searxng.org/dev/search_api)."""
    results = [
        {
            "url": u,
            "title": f"Result {i}",
            "content": "…",
            "engine": "bing",
            "engines": ["bing", "brave"],
            "parsed_url": list(urlsplit(u)),
            "template": "default.html",
            "positions": [i + 1],
            "score": 1.0 / (i + 1),
            "category": "general",
        }
        for i, u in enumerate(urls)
    ]
    return json.dumps(
        {
            "query": query,
            "number_of_results": 0,
            "results": results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [],
            "unresponsive_engines": [],
        }
    ).encode()


BRAVE_HEADERS = {
    "Content-Type": "application/json",
    "X-RateLimit-Limit": "1, 15000",
    "X-RateLimit-Policy": "1;w=1, 15000;w=2592000",
    "X-RateLimit-Remaining": "1, 14990",
    "X-RateLimit-Reset": "1, 1419704",
}


def brave_page(query: str, urls: list[str]) -> bytes:
    """A Brave Search API web search answer: the results in ``web.results[].url``."""
    results = [
        {
            "title": f"Result {i}",
            "url": u,
            "description": "…",
            "is_source_local": False,
            "is_source_both": False,
            "family_friendly": True,
            "type": "search_result",
        }
        for i, u in enumerate(urls)
    ]
    return json.dumps(
        {
            "type": "search",
            "query": {"original": query, "show_strict_warning": False},
            "mixed": {"type": "mixed", "main": [{"type": "web", "index": 0, "all": False}]},
            "web": {"type": "search", "results": results, "family_friendly": True},
        }
    ).encode()


def page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return f"<html><head><title>{title}</title></head><body><article>{paragraphs}</article></body></html>"


@pytest.fixture
def world(tmp_path, monkeypatch, site, make_site, seed_articles, seed_suspects):
    """A registry with one organisation and two articles (the vaccine article on "localhost", its
    sister on 127.0.0.4), a copier site on 127.0.0.1, a publisher site, and both fake engines."""
    for name in ("CHECKER_WEBHOOK_URL", "CHECKER_SMTP_HOST", "CHECKER_ALERT_TO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(search, "BRAVE_MIN_INTERVAL_S", 0.0)
    monkeypatch.setattr(search, "_brave_next", 0.0)
    publisher = make_site().start()
    results: list[str] = []
    searxng = FakeEngine(
        lambda s: (200, {"Content-Type": "application/json"}, searxng_page(s.params["q"], results))
    )
    brave = FakeEngine(lambda s: (200, BRAVE_HEADERS, brave_page(s.params["q"], results)))
    settings = Settings.from_env(
        {"CHECKER_ALLOW_PRIVATE_URLS": "1"},
        data_dir=tmp_path / "data",
        searxng_url=searxng.base + "/",
        brave_api_key=BRAVE_KEY,
        brave_url=brave.base + "/res/v1/web/search",
    )
    registry = Registry(settings)
    context.use(registry)
    (org_id,) = make_orgs(registry, "Lingkar")
    with registry.Session.begin() as session:
        session.get(Organisation, org_id).excluded_sources = ["127.0.0.3"]
    vaccine, flood = seed_articles[0], seed_articles[1]
    own_url = publisher.url("/original.html", host="localhost")
    article_id = registry.register(
        ArticleIn(
            title=vaccine["title"],
            text=vaccine["text"],
            url=own_url,
            publisher="Lingkar.co",
            partners=("mitra-lingkar.example", "127.0.0.2"),
        ),
        org_id=org_id,
    )
    registry.register(
        ArticleIn(title=flood["title"], text=flood["text"], url="http://127.0.0.4/banjir.html"), org_id=org_id
    )
    publisher.add("/original.html", page(vaccine["title"], vaccine["text"]))
    site.add("/copy.html", page("Vaksin", seed_suspects["full-copy"]["text"]))
    site.add("/other.html", page("Kuliner", seed_suspects["unrelated"]["text"]))
    site.add("/old.html", page("Lama", seed_suspects["full-copy"]["text"]))
    results += [
        site.url("/copy.html"),
        own_url,
        site.url("/other.html"),
        f"http://127.0.0.2:{site.port}/p.html",
        f"http://127.0.0.3:{site.port}/x.html",
        f"http://127.0.0.4:{site.port}/sister.html",
        site.url("/old.html"),
        site.url("/copy.html#comments"),
    ]
    # /old.html was scanned for this organisation last week.
    with registry.Session.begin() as session:
        session.add(
            Scan(
                org_id=org_id,
                source="url",
                status="done",
                url=site.url("/old.html"),
                created_at=datetime.now(UTC) - timedelta(days=7),
            )
        )
    try:
        yield registry, settings, article_id, org_id, searxng, brave, publisher, vaccine["text"]
    finally:
        context.use(None)
        registry.close()
        searxng.stop()
        brave.stop()
        publisher.stop()


def test_discovery_end_to_end(world, site) -> None:
    registry, settings, article_id, org_id, searxng, brave, publisher, text = world
    phrases = pick_phrases(text, settings.discovery_phrases)
    assert len(phrases) == 3
    with registry.Session() as session:
        assert discovery.due_articles(session, settings)[-1] == article_id  # never searched: due

    run = discovery.discover(registry, article_id, settings)

    # Each provider got each phrase once, as an exact-phrase query in its documented form.
    expected = [f'"{p}"' for p in phrases]
    assert searxng.queries() == expected and brave.queries() == expected
    for r in searxng.requests:
        assert r.path == "/search" and r.params["format"] == "json"
    for r in brave.requests:
        assert r.path == "/res/v1/web/search" and r.params["count"] == "20"
        assert r.headers["x-subscription-token"] == BRAVE_KEY and r.headers["accept"] == "application/json"
    assert (run.queries_sent, run.queries_cached, run.queries_over_budget, run.queries_failed) == (6, 0, 0, 0)
    assert run.searched and run.urls_found == 7  # "#comments" is the same page

    # The copy and the other page were scanned; nothing else was.
    reasons = dict(run.skipped)
    own_url = publisher.url("/original.html", host="localhost")
    assert "publisher's own site (localhost)" in reasons[own_url]
    assert "licensed partner (127.0.0.2)" in reasons[f"http://127.0.0.2:{site.port}/p.html"]
    assert "excluded source" in reasons[f"http://127.0.0.3:{site.port}/x.html"]
    assert "own site (127.0.0.4)" in reasons[f"http://127.0.0.4:{site.port}/sister.html"]
    assert "scanned for this organisation" in reasons[site.url("/old.html")]
    assert run.scans_started == 2 and len(run.skipped) == 5
    assert publisher.requests == []  # the publisher's own page was never fetched
    assert site.hits("/old.html") == 0 and site.hits("/copy.html") == 1 and site.hits("/other.html") == 1
    with registry.Session() as session:
        scans = {s.url: s for s in session.scalars(select(Scan).where(Scan.id.in_(run.scan_ids)))}
        copy, other = scans[site.url("/copy.html")], scans[site.url("/other.html")]
        assert copy.source == other.source == "discovery" and copy.org_id == org_id
        assert copy.status == "done" and copy.verdict == "unattributed_reuse"
        (match,) = session.scalars(select(MatchRow).where(MatchRow.scan_id == copy.id)).all()
        assert match.article_id == article_id
        assert other.status == "done" and other.verdict == "no_reuse"
        assert session.scalars(select(MatchRow).where(MatchRow.scan_id == other.id)).all() == []
        assert session.get(Article, article_id).discovered_at is not None
        rows = session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()
        assert [(r.provider, r.status, r.org_id, r.article_id) for r in rows] == (
            [("searxng", "done", org_id, article_id)] * 3 + [("brave", "done", org_id, article_id)] * 3
        )
        assert rows[0].result_urls[0] == site.url("/copy.html")
        # An alert for the copy (discovery is one of the alerting sources).
        (alert,) = session.scalars(select(AlertEvent).where(AlertEvent.org_id == org_id)).all()
        assert (
            alert.payload["suspect_url"] == site.url("/copy.html") and alert.payload["match_id"] == match.id
        )
        assert [
            (u.provider, u.configured, u.used_today, u.budget) for u in search.usage_today(session, settings)
        ] == [("searxng", True, 3, 100), ("brave", True, 3, 100)]
        assert discovery.due_articles(session, settings)[0] != article_id

    # A second run sends no query again: all answered from the cache; the pages are not scanned again.
    again = discovery.discover(registry, article_id, settings)
    assert len(searxng.requests) == 3 and len(brave.requests) == 3
    assert (again.queries_sent, again.queries_cached, again.scans_started) == (0, 6, 0)
    assert again.urls_found == 7 and "6 cached" in again.summary()
    assert "scanned for this organisation" in dict(again.skipped)[site.url("/copy.html")]
    assert site.hits("/copy.html") == 1


def test_budget_used_up_sends_nothing_and_says_so(world) -> None:
    registry, settings, article_id, _, searxng, brave, _, _ = world
    from dataclasses import replace

    tight = replace(settings, search_daily_budget=2)
    run = discovery.discover(registry, article_id, tight)
    assert len(searxng.requests) == 2 and len(brave.requests) == 2  # the third phrase waits for tomorrow
    assert (run.queries_sent, run.queries_over_budget) == (4, 2)
    assert "2 not sent (daily budget used up)" in run.summary()
    assert not run.searched  # it stays due
    with registry.Session() as session:
        assert session.get(Article, article_id).discovered_at is None
        assert [u.used_today for u in search.usage_today(session, tight)] == [2, 2]
    none_left = discovery.discover(registry, article_id, tight)
    assert len(searxng.requests) == 2 and len(brave.requests) == 2
    assert (
        none_left.queries_sent == 0 and none_left.queries_cached == 4 and none_left.queries_over_budget == 2
    )
    # Yesterday's queries do not count against today's budget.
    with registry.Session.begin() as session:
        for row in session.scalars(select(SearchQuery)):
            row.queried_at -= timedelta(days=1)
    tomorrow = discovery.discover(registry, article_id, tight)
    assert tomorrow.queries_over_budget == 0 and tomorrow.searched
    assert len(searxng.requests) == 3 and len(brave.requests) == 3


def test_provider_errors_are_stored_readably(world) -> None:
    registry, settings, article_id, _, searxng, brave, _, _ = world
    searxng.answer = lambda s: (500, {"Content-Type": "text/html"}, b"<h1>Internal Server Error</h1>")
    brave.answer = lambda s: (200, {"Content-Type": "text/html"}, b"<html>captcha</html>")
    run = discovery.discover(registry, article_id, settings)
    assert run.queries_failed == 6 and run.scans_started == 0 and not run.searched
    assert run.errors == [
        "SearXNG answered 500",
        "Brave Search answered 200 with something that is not JSON ('<html>captcha</html>'…)",
    ]
    with registry.Session() as session:
        rows = session.scalars(select(SearchQuery)).all()
        assert {(r.status, r.error) for r in rows} == {("failed", e) for e in run.errors}
        assert session.get(Article, article_id).discovered_at is None  # due again

    # A failed query is not a cached answer: the next run asks again.
    searxng.answer = lambda s: (403, {"Content-Type": "text/html"}, b"Forbidden")
    brave.answer = lambda s: (200, {"Content-Type": "application/json"}, b'{"web": {"results": "nope"}}')
    run = discovery.discover(registry, article_id, settings)
    assert len(searxng.requests) == 6 and len(brave.requests) == 6
    assert (
        "SearXNG refused the JSON format (403)" in run.errors[0] and "formats: [html, json]" in run.errors[0]
    )
    assert run.errors[1] == "Brave Search answered JSON without a list of results"

    searxng.answer = lambda s: (200, {"Content-Type": "application/json"}, b'["not", "a", "page"]')
    brave.answer = lambda s: (401, {"Content-Type": "application/json"}, b'{"error": "bad key"}')
    run = discovery.discover(registry, article_id, settings)
    assert run.errors == [
        "SearXNG answered JSON that is not a result page",
        "Brave Search refused the API key (401): check CHECKER_BRAVE_API_KEY",
    ]


def test_brave_rate_limit_is_respected(world, site) -> None:
    registry, settings, article_id, _, searxng, brave, _, _ = world
    # A long wait: the query fails saying when Brave takes queries again, and the run sends Brave no more.
    limited = {
        **BRAVE_HEADERS,
        "X-RateLimit-Remaining": "0, 0",
        "X-RateLimit-Reset": "1, 3600",
        "Retry-After": "3600",
    }
    brave.answer = lambda s: (429, limited, b'{"type": "ErrorResponse", "error": {"code": "RATE_LIMITED"}}')
    run = discovery.discover(registry, article_id, settings)
    assert len(brave.requests) == 1 and len(searxng.requests) == 3
    assert run.errors == [
        "Brave Search refused the query: the plan's rate limit or monthly quota is used up (429); "
        "it accepts queries again in 3600 s"
    ]
    assert (run.queries_sent, run.queries_failed, run.queries_held) == (4, 1, 2)
    assert "2 not sent (rate limited)" in run.summary()
    assert not run.searched  # due again: Brave's part is still to do
    with registry.Session() as session:
        (row,) = session.scalars(select(SearchQuery).where(SearchQuery.provider == "brave")).all()
        assert row.status == "failed" and "429" in row.error

    # A short wait: waited for once, then answered.
    calls = []

    def once_limited(seen):
        calls.append(seen)
        if len(calls) == 1:
            return 429, {**BRAVE_HEADERS, "Retry-After": "0.2"}, b"{}"
        return 200, BRAVE_HEADERS, brave_page(seen.params["q"], [site.url("/copy.html")])

    brave.answer = once_limited
    run = discovery.discover(registry, article_id, settings)
    assert len(calls) == 4 and calls[0].params["q"] == calls[1].params["q"]
    assert run.queries_failed == 0 and run.searched and run.queries_cached == 3  # SearXNG's from the cache


def test_tasks_and_due(world, monkeypatch) -> None:
    registry, settings, article_id, org_id, searxng, brave, _, _ = world
    assert discover_article.name == "worker.discovery_tasks.discover_article"
    assert discover_due.name == "worker.discovery_tasks.discover_due"
    summary = discover_article.delay(article_id).get()
    assert summary["sent"] == 6 and summary["scans_started"] == 2
    assert discover_article.delay(999_999).get() == {
        "article_id": 999_999,
        "skipped": "no article with id 999999",
    }
    with pytest.raises(NotFound):
        discovery.discover(registry, 999_999, settings)
    # The other article (never searched) is due; this one only after rediscover_days.
    assert discover_due.delay().get() == 1
    assert discover_due.delay().get() == 0
    with registry.Session.begin() as session:
        session.get(Article, article_id).discovered_at -= timedelta(days=settings.rediscover_days + 1)
    with registry.Session() as session:
        assert discovery.due_articles(session, settings) == [article_id]
        assert discovery.due_articles(session, settings, org_id=org_id + 1) == []
    assert discover_due.delay().get() == 1
    # No provider: nothing is done.
    from dataclasses import replace

    bare = replace(settings, searxng_url=None, brave_api_key=None)
    with pytest.raises(discovery.NoProvider, match="CHECKER_SEARXNG_URL"):
        discovery.discover(registry, article_id, bare)
    monkeypatch.setattr(registry, "settings", bare)
    before = len(searxng.requests)
    with registry.Session.begin() as session:
        session.get(Article, article_id).discovered_at = None
    assert discover_due.delay().get() == 0 and len(searxng.requests) == before
    with registry.Session() as session:
        assert [u.configured for u in search.usage_today(session, bare)] == [False, False]


def test_cli(world, tmp_path) -> None:
    """`checker discover` (the installed console script, as a user runs it) on the world's database."""
    registry, settings, article_id, _, searxng, brave, _, _ = world
    checker = Path(sys.executable).parent / "checker"
    env = {
        **os.environ,
        "CHECKER_DATA_DIR": str(settings.data_dir),
        "CHECKER_ALLOW_PRIVATE_URLS": "1",
        "CHECKER_ORG": "Lingkar",
        "CHECKER_SEARXNG_URL": searxng.base,
        "CHECKER_BRAVE_API_KEY": "",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("CHECKER_DATABASE_URL", None)
    env.pop("CHECKER_BROKER_URL", None)

    def run(*args: str, **extra: str) -> tuple[int, str]:
        proc = subprocess.run(
            [str(checker), *args], capture_output=True, env={**env, **extra}, cwd=tmp_path, timeout=120
        )
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert "Traceback" not in err, err
        return proc.returncode, out + err

    searxng.answer = lambda s: (200, {"Content-Type": "application/json"}, searxng_page(s.params["q"], []))
    code, output = run("discover", str(article_id))
    assert code == 0, output
    assert f"article {article_id}: 3 phrase(s), 3 query(ies) sent, 0 cached" in output
    assert "searxng: 3 of 100 queries used today (UTC)" in output
    assert len(searxng.requests) == 3 and brave.requests == []
    code, output = run("discover", "--due")
    assert code == 0 and "1 article(s): 3 query(ies) sent" in output, output  # the sister article
    code, output = run("discover", "424242")
    assert code == 1 and "error: no article with id 424242" in output
    code, output = run("discover", str(article_id), CHECKER_SEARXNG_URL="")
    assert code == 1 and "error: no web search provider is configured" in output
