"""Sitemap, feed and link parsers, and crawling a small local site (127.0.0.1 only)."""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import replace

import pytest

from worker.discover import (
    Crawler,
    feed_links,
    gunzip_capped,
    normalise_url,
    parse_feed,
    parse_sitemap,
    same_site_links,
)
from worker.fetch import CRAWL_TYPES, FetchOptions, HostRateLimiter, RobotsCache, fetch

URLSET = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://news.example.com/a</loc><lastmod>2024-01-01</lastmod></url>
  <url><loc> https://news.example.com/b?id=2#top </loc></url>
  <url><loc>https://news.example.com/a</loc></url>
  <url><loc>ftp://news.example.com/file</loc></url>
</urlset>"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example.com/sitemap-1.xml</loc></sitemap>
  <sitemap><loc>https://news.example.com/sitemap-2.xml.gz</loc></sitemap>
</sitemapindex>"""


def test_parse_sitemap_urlset_and_index():
    assert parse_sitemap(URLSET) == (["https://news.example.com/a", "https://news.example.com/b?id=2"], [])
    assert parse_sitemap(INDEX.encode()) == (
        [],
        ["https://news.example.com/sitemap-1.xml", "https://news.example.com/sitemap-2.xml.gz"],
    )


def test_parse_sitemap_tolerates_real_world_mess():
    no_namespace = "<urlset><url><loc>/relative</loc></url></urlset>"
    assert parse_sitemap(no_namespace, "https://x.example/sitemap.xml") == (
        ["https://x.example/relative"],
        [],
    )
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>https://x.example/caf\xe9</loc></url></urlset>'
    assert parse_sitemap(latin1.encode("latin-1"))[0] == ["https://x.example/café"]
    assert parse_sitemap(latin1)[0] == ["https://x.example/café"]  # str with a declaration
    assert parse_sitemap("https://x.example/1\nhttps://x.example/2\nnot a url\n") == (
        ["https://x.example/1", "https://x.example/2"],
        [],
    )
    assert parse_sitemap("") == ([], [])
    assert parse_sitemap("<urlset><url><loc>https://x.example/ok</loc></url><url><loc>") == (
        ["https://x.example/ok"],
        [],
    )


def test_parse_sitemap_does_not_resolve_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>
    <urlset><url><loc>https://x.example/&x;</loc></url></urlset>"""
    pages, _ = parse_sitemap(xxe)
    assert not any("TOPSECRET" in p for p in pages)


RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>News</title><link>https://news.example.com/</link>
<item><title>One</title><link>https://news.example.com/2024/one</link></item>
<item><title>Two</title><guid isPermaLink="true">https://news.example.com/2024/two</guid></item>
<item><title>Three</title><guid isPermaLink="false">tag:news,3</guid><link>/2024/three</link></item>
<item><title>No link</title><guid isPermaLink="false">tag:news,4</guid></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/">
<title>Blog</title><link href="https://blog.example.org/" rel="alternate"/>
<entry><title>A</title><link rel="edit" href="/api/a"/>
<link rel="alternate" type="text/html" href="posts/a"/></entry>
<entry><title>B</title><link href="https://blog.example.org/posts/b"/></entry>
<entry><title>C</title><link rel="enclosure" href="/c.mp3"/></entry>
</feed>"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://x.example/"><title>X</title><link>https://x.example/</link></channel>
<item rdf:about="https://x.example/1"><title>1</title><link>https://x.example/1</link></item>
</rdf:RDF>"""


def test_parse_feed_rss_atom_rdf():
    assert parse_feed(RSS, "https://news.example.com/feed") == [
        "https://news.example.com/2024/one",
        "https://news.example.com/2024/two",
        "https://news.example.com/2024/three",
    ]
    assert parse_feed(ATOM.encode()) == [
        "https://blog.example.org/posts/a",
        "https://blog.example.org/posts/b",
    ]
    assert parse_feed(RDF) == ["https://x.example/1"]
    assert parse_feed("not xml at all") == []


HOME = """<html><head>
<base href="/section/">
<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="RSS">
<link rel="alternate" type="application/atom+xml" href="https://www.news.example.com/atom.xml">
<link rel="alternate" hreflang="en" href="/en/">
<link rel="stylesheet" href="/style.css">
</head><body>
<a href="story-1">relative to base</a>
<a href="https://news.example.com/story-2#comments">fragment</a>
<a href="https://news.example.com:443/story-2">default port</a>
<a href="HTTPS://WWW.NEWS.EXAMPLE.COM/story-3">www and case</a>
<a href="https://other.example.net/x">other site</a>
<a href="https://sub.news.example.com/x">subdomain</a>
<a href="mailto:desk@news.example.com">mail</a>
<a href="javascript:void(0)">js</a>
<a href="/photo.JPG">image</a>
<a href="/file.pdf">pdf</a>
<a href="#top">top</a>
<a>no href</a>
<map><area href="/area-link" alt=""></map>
</body></html>"""


def test_feed_links():
    assert feed_links(HOME, "https://news.example.com/") == [
        "https://news.example.com/feed.xml",
        "https://www.news.example.com/atom.xml",
    ]


def test_same_site_links_are_normalised():
    assert same_site_links(HOME, "https://news.example.com/") == [
        "https://news.example.com/section/story-1",
        "https://news.example.com/story-2",
        "https://www.news.example.com/story-3",
        "https://news.example.com/section/",
        "https://news.example.com/area-link",
    ]


@pytest.mark.parametrize(
    "url,base,expected",
    [
        ("HTTP://Example.COM", None, "http://example.com/"),
        ("http://example.com:80/a#b", None, "http://example.com/a"),
        ("https://example.com:8443/a?x=1", None, "https://example.com:8443/a?x=1"),
        ("../up", "https://example.com/a/b/c", "https://example.com/a/up"),
        ("https://user:pw@example.com/", None, "https://example.com/"),
        ("mailto:x@example.com", None, None),
        ("https://example.com:bad/", None, None),
        ("http://[::1]:8080/x", None, "http://[::1]:8080/x"),
    ],
)
def test_normalise_url(url, base, expected):
    assert normalise_url(url, base) == expected


def test_gunzip_capped():
    assert gunzip_capped(gzip.compress(b"hello")) == b"hello"
    assert len(gunzip_capped(gzip.compress(b"a" * 1_000_000), limit=1000)) == 1000
    assert gunzip_capped(b"\x1f\x8bnot really gzip") == b""


# --------------------------------------------------------------------------------------------------
# crawling a local site


def page(title: str, *links: str, extra_head: str = "") -> str:
    anchors = "".join(f'<p><a href="{link}">{link}</a></p>' for link in links)
    return (
        f"<html><head><title>{title}</title>{extra_head}</head>"
        f"<body><article><h1>{title}</h1><p>Body of {title}.</p>{anchors}</article></body></html>"
    )


@pytest.fixture
def small_site(site):
    base = site.url("")
    site.add(
        "/robots.txt",
        f"User-agent: *\nDisallow: /private/\nDisallow: /*.cgi$\nSitemap: {base}/sitemap_index.xml\n",
        content_type="text/plain",
    )
    site.add(
        "/sitemap_index.xml",
        f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sitemap-posts.xml.gz</loc></sitemap>
<sitemap><loc>{base}/sitemap_index.xml</loc></sitemap>
</sitemapindex>""",
        content_type="application/xml",
    )
    site.add(
        "/sitemap-posts.xml.gz",
        gzip.compress(
            f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/from-sitemap.html</loc></url>
<url><loc>{base}/private/in-sitemap.html</loc></url>
<url><loc>http://elsewhere.example/x</loc></url>
</urlset>""".encode()
        ),
        content_type="application/x-gzip",
    )
    site.add("/sitemap.xml", f"<urlset><url><loc>{base}/a.html</loc></url></urlset>", content_type="text/xml")
    site.add(
        "/",
        page(
            "Home",
            "/a.html",
            "/b.html",
            "/b.html#frag",
            "/private/secret.html",
            "/loop1.html",
            "/search.cgi",
            "/redirect-me",
            "/not-html.txt",
            "/broken.html",
            "/logo.png",
            "http://elsewhere.example/page",
            "mailto:x@y.z",
            extra_head='<link rel="alternate" type="application/rss+xml" href="/feed.xml">',
        ),
    )
    site.add(
        "/feed.xml",
        f"""<rss version="2.0"><channel>
<item><link>{base}/post1.html</link></item><item><link>{base}/a.html</link></item>
<item><link>http://elsewhere.example/post</link></item></channel></rss>""",
        content_type="application/rss+xml",
    )
    site.add("/a.html", page("A", "/", "/deep1.html"))
    site.add("/b.html", page("B", "/a.html"))
    site.add("/loop1.html", page("Loop 1", "/loop2.html"))
    site.add("/loop2.html", page("Loop 2", "/loop1.html", "/", "/loop2.html"))
    site.add("/deep1.html", page("Deep 1", "/deep2.html"))
    site.add("/deep2.html", page("Deep 2", "/deep3.html"))
    site.add("/deep3.html", page("Deep 3"))
    site.add("/post1.html", page("Post 1"))
    site.add("/from-sitemap.html", page("From sitemap"))
    site.add("/private/secret.html", page("Secret"))
    site.add("/private/in-sitemap.html", page("Secret 2"))
    site.add("/search.cgi", page("Search"))
    site.redirect("/redirect-me", "/b.html", 301)
    site.add("/not-html.txt", "plain text", content_type="text/plain")
    site.add("/broken.html", "server error", status=500)
    return site


@pytest.fixture
def crawl_parts(small_site):
    options = FetchOptions(allow_private=True, connect_timeout=2, read_timeout=2, total_timeout=10)
    crawl_options = replace(options, accepted_types=CRAWL_TYPES)
    waits = []

    class CountingLimiter(HostRateLimiter):
        def wait(self, url, min_interval=None):
            waits.append(url)
            return super().wait(url, min_interval)

    return {
        "fetch_fn": lambda url: fetch(url, options=crawl_options),
        "robots": RobotsCache(options),
        "rate_limiter": CountingLimiter(0.0),
        "waits": waits,
    }


def test_crawls_a_small_site(small_site, crawl_parts, connection_spy):
    crawler = Crawler(
        crawl_parts["fetch_fn"], crawl_parts["robots"], crawl_parts["rate_limiter"], max_depth=2, max_pages=50
    )
    results = list(crawler.crawl(small_site.url("/")))
    paths = [url.split(str(small_site.port), 1)[1] for url, _ in results]

    assert paths[0] == "/"
    assert set(paths) == {
        "/",
        "/from-sitemap.html",
        "/a.html",
        "/post1.html",
        "/b.html",
        "/loop1.html",
        "/loop2.html",
        "/deep1.html",
    }
    assert len(paths) == len(set(paths))
    # Order: start page, sitemap entries, then feed entries and links.
    assert paths.index("/from-sitemap.html") < paths.index("/post1.html") < paths.index("/loop1.html")
    # Each URL requested at most once, link loops included; robots.txt once.
    counts = Counter(r.path for r in small_site.requests)
    # /b.html is asked for twice: once by itself and once as the target of /redirect-me, which the
    # fetcher follows before the crawler learns where it leads. It is yielded once (checked above).
    assert counts.pop("/b.html") == 2
    assert max(counts.values()) == 1, counts
    assert counts["/robots.txt"] == 1 and counts["/sitemap-posts.xml.gz"] == 1 and counts["/feed.xml"] == 1
    # robots.txt rules held; nothing disallowed or beyond the depth was fetched.
    for path in (
        "/private/secret.html",
        "/private/in-sitemap.html",
        "/search.cgi",
        "/deep2.html",
        "/deep3.html",
    ):
        assert counts[path] == 0, path
    assert small_site.url("/private/secret.html") in crawler.report.disallowed
    assert small_site.url("/search.cgi") in crawler.report.disallowed
    # Non-HTML and failing pages are not yielded; failures are reported, not raised.
    assert counts["/not-html.txt"] == 1 and "/not-html.txt" not in paths
    assert [u for u, _ in crawler.report.errors] == [small_site.url("/broken.html")]
    # The redirect landed on a page already crawled: not yielded twice.
    assert counts["/redirect-me"] == 1
    # Pages come with their content; politeness was asked for every fetch.
    by_path = dict(zip(paths, (p for _, p in results), strict=True))
    assert "Body of Loop 2." in by_path["/loop2.html"].text
    assert len(crawl_parts["waits"]) == crawler.report.fetched
    assert crawler.report.sitemaps == [
        small_site.url(p) for p in ("/sitemap_index.xml", "/sitemap.xml", "/sitemap-posts.xml.gz")
    ]
    assert crawler.report.feeds == [small_site.url("/feed.xml")]
    # Off-site URLs (sitemap, feed, links) were never even attempted.
    assert connection_spy.hosts == {"127.0.0.1"}


def test_page_limit(small_site, crawl_parts):
    crawler = Crawler(
        crawl_parts["fetch_fn"], crawl_parts["robots"], crawl_parts["rate_limiter"], max_pages=3
    )
    assert len(list(crawler.crawl(small_site.url("/")))) == 3


def test_depth_zero_is_the_start_page_only(small_site, crawl_parts):
    crawler = Crawler(crawl_parts["fetch_fn"], crawl_parts["robots"], None, max_depth=0, use_sitemaps=False)
    assert [url for url, _ in crawler.crawl(small_site.url("/"))] == [small_site.url("/")]


def test_deeper_crawl_reaches_deeper_pages(small_site, crawl_parts):
    crawler = Crawler(
        crawl_parts["fetch_fn"], crawl_parts["robots"], None, max_depth=4, use_sitemaps=False, use_feeds=False
    )
    paths = {url.split(str(small_site.port), 1)[1] for url, _ in crawler.crawl(small_site.url("/"))}
    assert {"/deep2.html", "/deep3.html"} <= paths
    assert "/post1.html" not in paths and "/from-sitemap.html" not in paths


def test_crawler_with_fakes_only():
    """The crawler is I/O-free: fakes for fetching and robots drive it."""
    from datetime import UTC, datetime

    from worker.fetch import FetchedPage, FetchError

    pages = {
        "https://s.example/": page("Home", "/x", "/y", "/x"),
        "https://s.example/x": page("X", "/y", "/"),
        "https://s.example/y": page("Y", "/x"),
    }
    calls = []

    def fake_fetch(url):
        calls.append(url)
        if url not in pages:
            raise FetchError(f"{url}: HTTP 404", url=url, status=404)
        return FetchedPage(url, url, 200, "text/html", datetime.now(UTC), "0" * 64, pages[url])

    class AllowAll:
        def allowed(self, url, user_agent=None):
            return True

    crawler = Crawler(fake_fetch, AllowAll(), None, max_depth=5)
    assert [u for u, _ in crawler.crawl("https://s.example")] == list(pages)
    assert sorted(calls) == sorted(set(calls))  # sitemap.xml tried once, each page once
    assert "https://s.example/sitemap.xml" in calls


def test_links_longer_than_a_stored_url_are_dropped():
    from checker.validate import URL_MAX_CHARS

    base = "https://example.com/"
    fits = base + "a" * (URL_MAX_CHARS - len(base))
    assert normalise_url(fits) == fits
    assert normalise_url(fits + "a") is None
    assert normalise_url("/" + "a" * URL_MAX_CHARS, base) is None
