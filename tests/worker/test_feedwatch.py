"""Feed watches: conditional reads of RSS, Atom and sitemaps on a local site (127.0.0.1 only).

Each read builds its fetcher, robots.txt cache and rate limiter afresh, as ``crawl_task`` does for
every run, so "an unchanged feed costs one request" is measured against what a real run would send.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from email.utils import formatdate
from functools import partial

import pytest

from tests.worker.conftest import Route, SeenRequest
from worker.feedwatch import ETAG_MAX_CHARS, FeedRun, read_feed
from worker.fetch import (
    CRAWL_TYPES,
    FetchError,
    FetchOptions,
    HostRateLimiter,
    RobotsCache,
    conditional_headers,
    fetch,
)

FAKE_PUBLIC_IP = "93.184.216.34"  # stands for a site on the internet; the spy reroutes it locally


def article(title: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><p>{title} text</p></body></html>"


def rss(items: list[str]) -> str:
    entries = "".join(f"<item><title>{p}</title><link>{p}</link></item>" for p in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{entries}</channel></rss>'


def atom(items: list[str]) -> str:
    entries = "".join(
        f'<entry><title>{p}</title><link rel="alternate" type="text/html" href="{p}"/></entry>' for p in items
    )
    return (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>{entries}</feed>'
    )


def sitemap(items: list[str]) -> str:
    urls = "".join(f"<url><loc>{p}</loc></url>" for p in items)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


FORMATS = {
    "rss": (rss, "application/rss+xml"),
    "atom": (atom, "application/atom+xml"),
    "sitemap": (sitemap, "application/xml"),
}


class Feed:
    """A feed route that honours conditional requests like a real server: a new version changes its
    ETag and Last-Modified; If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)."""

    def __init__(self, render, content_type, *, use_etag=True, use_last_modified=True):
        self.render, self.content_type = render, content_type
        self.use_etag, self.use_last_modified = use_etag, use_last_modified
        self.items: list[str] = []
        self.version = 0

    def publish(self, *items: str) -> None:
        self.items.extend(items)
        self.version += 1

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'

    @property
    def last_modified(self) -> str:
        return formatdate(1_700_000_000 + self.version * 3600, usegmt=True)

    def __call__(self, request: SeenRequest) -> Route:
        validators = {}
        if self.use_etag:
            validators["ETag"] = self.etag
        if self.use_last_modified:
            validators["Last-Modified"] = self.last_modified
        if self.use_etag and "if-none-match" in request.headers:
            unchanged = request.headers["if-none-match"] == self.etag
        elif self.use_last_modified and "if-modified-since" in request.headers:
            unchanged = request.headers["if-modified-since"] == self.last_modified
        else:
            unchanged = False
        if unchanged:
            return Route(304, b"", validators)
        body = self.render(self.items).encode()
        return Route(200, body, {"Content-Type": self.content_type, **validators})


@pytest.fixture
def options(make_resolver):
    return FetchOptions(
        allow_private=True,
        accepted_types=CRAWL_TYPES,
        connect_timeout=2,
        read_timeout=2,
        total_timeout=10,
        resolver=make_resolver({"news.test": ["127.0.0.1"]}),
    )


def read(url: str, options: FetchOptions, *, robots: bool = True, **kwargs) -> FeedRun:
    """One run, wired as crawl_task wires it: fetch with the crawl options, a fresh robots.txt cache
    and rate limiter."""
    kwargs.setdefault("etag", None)
    kwargs.setdefault("last_modified", None)
    kwargs.setdefault("seen", set())
    kwargs.setdefault("max_items", 50)
    return read_feed(
        url,
        fetch_page=partial(fetch, options=options),
        robots=RobotsCache(options) if robots else None,
        limiter=HostRateLimiter(0.0),
        user_agent=options.user_agent,
        **kwargs,
    )


def paths(site, run: FeedRun) -> list[str]:
    prefix = site.url("")
    return [url.removeprefix(prefix) for url, _ in run.pages]


def requested(site, since: int = 0) -> list[str]:
    return [r.path for r in site.requests[since:]]


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_reads_new_items_then_costs_one_request_while_unchanged(site, options, kind):
    render, content_type = FORMATS[kind]
    feed = Feed(render, content_type)
    site.routes["/feed"] = feed
    for name in ("a", "b", "c", "d"):
        site.add(f"/{name}", article(name))
    feed.publish(site.url("/a"), site.url("/b"), site.url("/c"))

    first = read(site.url("/feed"), options)
    assert first.error is None and not first.not_modified
    assert first.kind == kind
    assert paths(site, first) == ["/a", "/b", "/c"]  # feed order
    assert all(page.status == 200 and "text" in page.text for _, page in first.pages)
    assert (first.etag, first.last_modified) == (feed.etag, feed.last_modified)
    assert (first.items, first.new, first.requests) == (3, 3, 4)
    seen = {url for url, _ in first.pages}

    before = len(site.requests)
    second = read(site.url("/feed"), options, etag=first.etag, last_modified=first.last_modified, seen=seen)
    assert requested(site, before) == ["/feed"]  # one request: no robots.txt, no item
    assert site.requests[-1].headers["if-none-match"] == feed.etag
    assert site.requests[-1].headers["if-modified-since"] == feed.last_modified
    assert second.not_modified and second.pages == [] and second.error is None
    assert (second.etag, second.last_modified, second.requests) == (first.etag, first.last_modified, 1)

    feed.publish(site.url("/d"))
    before = len(site.requests)
    third = read(site.url("/feed"), options, etag=second.etag, last_modified=second.last_modified, seen=seen)
    assert not third.not_modified
    assert paths(site, third) == ["/d"]
    assert [p for p in requested(site, before) if p != "/robots.txt"] == ["/feed", "/d"]
    assert (third.items, third.new) == (4, 1)
    assert (
        (third.etag, third.last_modified)
        == (feed.etag, feed.last_modified)
        != (first.etag, first.last_modified)
    )
    assert all(site.hits(f"/{name}") == 1 for name in "abcd")


def test_server_with_last_modified_only(site, options):
    feed = Feed(rss, "application/rss+xml", use_etag=False)
    site.routes["/rss.xml"] = feed
    site.add("/a", article("a"))
    feed.publish(site.url("/a"))

    first = read(site.url("/rss.xml"), options)
    assert first.etag is None and first.last_modified == feed.last_modified
    assert paths(site, first) == ["/a"]

    before = len(site.requests)
    second = read(site.url("/rss.xml"), options, last_modified=first.last_modified, seen={site.url("/a")})
    assert requested(site, before) == ["/rss.xml"]
    assert "if-none-match" not in site.requests[-1].headers
    assert second.not_modified and (second.etag, second.last_modified) == (None, feed.last_modified)


def test_server_without_validators_is_read_in_full_and_seen_items_skipped(site, options):
    feed = Feed(rss, "application/rss+xml", use_etag=False, use_last_modified=False)
    site.routes["/rss.xml"] = feed
    site.add("/a", article("a"))
    site.add("/b", article("b"))
    feed.publish(site.url("/a"), site.url("/b"))
    run = read(site.url("/rss.xml"), options, seen={site.url("/a")})
    assert (run.etag, run.last_modified, run.not_modified) == (None, None, False)
    assert "if-none-match" not in site.requests[0].headers
    assert paths(site, run) == ["/b"] and site.hits("/a") == 0


def test_robots_txt_disallows_an_item(site, options):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    feed = Feed(atom, "application/atom+xml")
    site.routes["/private/feed.atom"] = feed  # named by a person: read like a feed reader reads it
    site.add("/open", article("open"))
    site.add("/private/secret", article("secret"))
    feed.publish(site.url("/private/secret"), site.url("/open"))

    run = read(site.url("/private/feed.atom"), options)
    assert paths(site, run) == ["/open"]
    assert run.disallowed == [site.url("/private/secret")]
    assert site.hits("/private/secret") == 0
    assert run.errors == [] and run.etag == feed.etag  # a disallowed item is dealt with: validators kept


def test_refused_item_addresses_are_reported_and_never_connected(site, make_resolver, connection_spy):
    """A 'public' feed (fake DNS, rerouted to the local server) lists items on a private address, a
    name resolving to one, loopback, and an item that redirects inside: each is refused by the URL
    guard before any connection, and reported."""
    options = FetchOptions(
        accepted_types=CRAWL_TYPES,
        connect_timeout=2,
        read_timeout=2,
        resolver=make_resolver({"news.test": [FAKE_PUBLIC_IP], "intranet.test": ["10.0.0.7"]}),
    )
    connection_spy.reroute[(FAKE_PUBLIC_IP, site.port)] = site.port
    port = site.port
    site.add("/ok", article("ok"))
    site.redirect("/go", f"http://10.0.0.1:{port}/inside")
    refused = [f"http://10.0.0.1:{port}/x", f"http://intranet.test:{port}/y", f"http://127.0.0.1:{port}/z"]
    items = [site.url("/ok", host="news.test"), *refused, site.url("/go", host="news.test")]
    site.add("/feed.xml", rss(items), content_type="application/rss+xml")

    for with_robots in (True, False):
        connection_spy.attempts.clear()
        run = read(site.url("/feed.xml", host="news.test"), options, robots=with_robots)
        assert run.error is None
        assert [url for url, _ in run.pages] == [site.url("/ok", host="news.test")]
        reasons = dict(run.errors)
        assert set(reasons) == {*refused, site.url("/go", host="news.test")}
        assert all("refused address" in reason for reason in reasons.values()), reasons
        assert connection_spy.hosts == {FAKE_PUBLIC_IP}  # nothing else was ever connected to
    assert site.hits("/x") == site.hits("/inside") == 0


def test_items_go_through_the_size_cap_and_content_types(site, options):
    site.add("/big", article("big" + "x" * 5000))
    site.add("/small", article("small"))
    site.add("/image", b"\x89PNG", content_type="image/png")
    site.add(
        "/feed",
        rss([site.url("/big"), site.url("/image"), site.url("/small")]),
        content_type="application/rss+xml",
    )
    run = read(site.url("/feed"), replace(options, max_bytes=2000))
    assert paths(site, run) == ["/small"]
    reasons = dict(run.errors)
    assert "2000-byte limit" in reasons[site.url("/big")]
    assert "image/png is not accepted" in reasons[site.url("/image")]


def test_max_items_leaves_the_rest_for_the_next_run(site, options):
    feed = Feed(rss, "application/rss+xml")
    site.routes["/feed"] = feed
    for name in "abc":
        site.add(f"/{name}", article(name))
    feed.publish(*(site.url(f"/{name}") for name in "abc"))

    first = read(site.url("/feed"), options, max_items=2)
    assert paths(site, first) == ["/a", "/b"] and first.left_over == 1
    assert (first.etag, first.last_modified) == (None, None)  # a 304 next time would lose /c

    seen = {url for url, _ in first.pages}
    second = read(site.url("/feed"), options, etag=first.etag, last_modified=first.last_modified, seen=seen)
    assert paths(site, second) == ["/c"] and second.left_over == 0
    assert second.etag == feed.etag


def test_an_item_failing_for_now_keeps_the_feed_unvalidated(site, options):
    feed = Feed(rss, "application/rss+xml")
    site.routes["/feed"] = feed
    site.add("/a", article("a"))
    site.add("/down", "busy", status=503, content_type="text/plain")
    site.add("/gone", "gone", status=404, content_type="text/plain")
    feed.publish(site.url("/a"), site.url("/down"))
    run = read(site.url("/feed"), options)
    assert paths(site, run) == ["/a"] and "HTTP 503" in dict(run.errors)[site.url("/down")]
    assert (run.etag, run.last_modified) == (None, None)  # /down is tried again next run

    site.routes["/feed"] = Feed(rss, "application/rss+xml")
    site.routes["/feed"].publish(site.url("/a"), site.url("/gone"))
    run = read(site.url("/feed"), options, seen={site.url("/a")})
    assert "HTTP 404" in dict(run.errors)[site.url("/gone")]
    assert run.etag is not None  # a permanent failure does not make every run a full read


def test_sitemap_index_reads_its_sitemaps(site, options):
    site.add(
        "/sitemap-index.xml",
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/s1.xml')}</loc></sitemap>"
        f"<sitemap><loc>{site.url('/s2.xml.gz')}</loc></sitemap>"
        "<sitemap><loc>https://elsewhere.test/s3.xml</loc></sitemap></sitemapindex>",
        content_type="application/xml",
        headers={"ETag": '"idx1"'},
    )
    site.add("/s1.xml", sitemap([site.url("/a")]), content_type="application/xml")
    site.add(
        "/s2.xml.gz",
        gzip.compress(sitemap([site.url("/b"), site.url("/a")]).encode()),
        content_type="application/gzip",
    )
    site.add("/a", article("a"))
    site.add("/b", article("b"))
    run = read(site.url("/sitemap-index.xml"), options)
    assert run.kind == "sitemap index"
    assert paths(site, run) == ["/a", "/b"]
    assert dict(run.errors) == {
        "https://elsewhere.test/s3.xml": "https://elsewhere.test/s3.xml: a sitemap on another site is not read"
    }
    assert run.etag == '"idx1"'


def test_plain_text_sitemap(site, options):
    site.add("/sitemap.txt", f"{site.url('/a')}\n{site.url('/b')}\n", content_type="text/plain")
    site.add("/a", article("a"))
    site.add("/b", article("b"))
    run = read(site.url("/sitemap.txt"), options, seen={site.url("/b")})
    assert run.kind == "text sitemap" and paths(site, run) == ["/a"]


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>News & more</title>'
            "<item><title>A</titl></channel>",
            "application/rss+xml",
            "could not be read: its XML is malformed (a bare & (it must be written &amp;), line 1",
        ),
        (
            '<?xml version="1.0"?><catalog><book>1</book></catalog>',
            "application/xml",
            "is not an RSS/Atom feed or a sitemap",
        ),
        (
            "<notes><note>unclosed</notes>",
            "text/xml",
            "is not an RSS/Atom feed or a sitemap: its XML is malformed (",
        ),
        (
            '<html><head><link rel="alternate" type="application/rss+xml" href="/real.rss"></head>'
            "<body>News</body></html>",
            "text/html",
            "is not an RSS/Atom feed or a sitemap: it is a web page; the feed it announces is http://",
        ),
    ],
)
def test_what_is_not_a_feed_says_so(site, options, body, content_type, expected):
    site.add("/feed", body, content_type=content_type)
    run = read(site.url("/feed"), options, etag='"old"', last_modified=None)
    assert run.error is not None and expected in run.error, run.error
    assert site.url("/feed") in run.error
    assert run.pages == [] and run.etag == '"old"'  # the stored validators stay as they were
    assert requested(site) == ["/feed"]


def test_feed_that_cannot_be_fetched(site, options, make_resolver):
    site.add("/feed", "no", status=404, content_type="text/plain")
    run = read(site.url("/feed"), options)
    assert run.error.startswith("the feed could not be fetched: ") and "HTTP 404" in run.error
    refused = read("http://10.0.0.1/feed", replace(options, allow_private=False))
    assert refused.error.startswith("the feed could not be fetched: ")
    assert read("ftp://news.test/feed", options).error == (
        "the feed address is not an http(s) URL: ftp://news.test/feed"
    )


# --------------------------------------------------------------------------------------------------
# the conditional fetch itself


def test_conditional_fetch_returns_not_modified_through_redirects(site, options):
    feed = Feed(rss, "application/rss+xml")
    feed.publish("http://news.test/a")
    site.routes["/feed"] = feed
    site.redirect("/old-feed", "/feed", 301)
    page = fetch(site.url("/old-feed"), options=options)
    assert page.status == 200 and not page.not_modified
    assert (page.etag, page.last_modified) == (feed.etag, feed.last_modified)

    page = fetch(site.url("/old-feed"), options=options, etag=feed.etag)
    assert page.not_modified and page.body == b"" and page.text == ""
    assert page.final_url == site.url("/feed") and page.redirects == [site.url("/old-feed")]
    assert page.etag == feed.etag and page.last_modified == feed.last_modified
    assert [r.headers.get("if-none-match") for r in site.requests[-2:]] == [feed.etag, feed.etag]


def test_304_without_a_conditional_request_is_an_error(site, options):
    site.routes["/odd"] = Route(304, b"", {})
    with pytest.raises(FetchError, match="HTTP 304"):
        fetch(site.url("/odd"), options=options)


def test_validators_that_cannot_be_sent_or_stored(site, options):
    assert conditional_headers('"a"\r\nX-Injected: 1', " Tue, 01 Jan 2030 00:00:00 GMT ") == {
        "If-Modified-Since": "Tue, 01 Jan 2030 00:00:00 GMT"
    }
    assert conditional_headers(None, "") == {}
    long_etag = '"' + "e" * ETAG_MAX_CHARS + '"'
    site.add("/feed", rss([site.url("/a")]), content_type="application/rss+xml", headers={"ETag": long_etag})
    site.add("/a", article("a"))
    run = read(site.url("/feed"), options)
    assert paths(site, run) == ["/a"] and run.etag is None  # too long for its column: not stored


def test_validators_with_control_characters_are_not_kept(site, options):
    # A hostile or broken server's ETag with a control character (a NUL would not even store in
    # PostgreSQL) could not be sent back: it is dropped, and the next run reads the feed in full.
    site.add("/a", article("a"))
    site.add(
        "/rss.xml",
        rss([site.url("/a")]),
        content_type="application/rss+xml",
        headers={"ETag": '"v1\x01"', "Last-Modified": "Mon, 30 Nov 2026 04:00:00 GMT\x7f"},
    )
    run = read(site.url("/rss.xml"), options)
    assert run.error is None and paths(site, run) == ["/a"]
    assert (run.etag, run.last_modified) == (None, None)
