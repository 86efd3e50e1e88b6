"""The safe fetcher against a local HTTP server on 127.0.0.1 (never any other address)."""

from __future__ import annotations

import gzip
import socket
import ssl
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import pytest

from worker.fetch import (
    DEFAULT_USER_AGENT,
    BodyTooLarge,
    FetchError,
    FetchOptions,
    FetchRefused,
    HostRateLimiter,
    RobotsCache,
    TooManyRedirects,
    TransientFetchError,
    UnsupportedContentType,
    decode_body,
    fetch,
    host_key,
)

PAGE = "<!doctype html><html><head><title>T</title></head><body><p>Hello reuse</p></body></html>"
# A public address that stands for "some site on the internet" in a fake DNS answer. The connection
# spy reroutes connections meant for it to the local server: no packet is ever sent to it.
FAKE_PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def local_options(make_resolver):
    """Options for the local site: private addresses allowed, short timeouts, a fake resolver."""
    resolver = make_resolver(
        {
            "news.test": ["127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "mixed.test": ["127.0.0.1", "169.254.169.254"],
        }
    )
    return FetchOptions(
        allow_private=True, connect_timeout=2, read_timeout=2, total_timeout=10, resolver=resolver
    )


def test_fetches_a_page_with_evidence(site, local_options, connection_spy):
    site.add("/article", PAGE, content_type="text/html; charset=utf-8")
    page = fetch(site.url("/article"), options=local_options)
    assert page.status == 200
    assert page.url == page.final_url == site.url("/article")
    assert page.content_type == "text/html"
    assert "Hello reuse" in page.text
    assert page.redirects == []
    assert page.fetched_at.tzinfo is UTC
    import hashlib

    assert page.body_sha256 == hashlib.sha256(PAGE.encode()).hexdigest()
    assert page.is_html
    request = site.requests[-1]
    assert request.headers["user-agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("reuse-checker/0.1 (+https://github.com/")
    assert connection_spy.hosts == {"127.0.0.1"}


def test_connects_to_the_checked_address_and_keeps_the_host_name(site, local_options, connection_spy):
    site.add("/p", PAGE)
    page = fetch(site.url("/p", host="news.test"), options=local_options)
    assert page.final_url == f"http://news.test:{site.port}/p"
    assert site.requests[-1].headers["host"] == f"news.test:{site.port}"
    assert local_options.resolver.calls == ["news.test"]  # resolved once, then connected by address
    assert connection_spy.attempts == [("127.0.0.1", site.port)]


def test_follows_redirects_and_records_them(site, local_options):
    site.redirect("/old", "/older", 301)
    site.redirect("/older", site.url("/new", host="news.test"), 308)
    site.add("/new", PAGE)
    page = fetch(site.url("/old"), options=local_options)
    assert page.final_url == f"http://news.test:{site.port}/new"
    assert page.redirects == [site.url("/old"), site.url("/older")]
    assert page.url == site.url("/old")


def test_redirect_loops_are_capped(site, local_options):
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    with pytest.raises(TooManyRedirects, match="more than 3 redirects"):
        fetch(site.url("/a"), options=replace(local_options, max_redirects=3))
    assert site.hits("/a") + site.hits("/b") == 4


@pytest.mark.parametrize(
    "location,reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0251.0376.0251.0376/latest/meta-data/", "link-local"),
        ("http://2852039166/", "link-local"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://metadata.test/computeMetadata/v1/", "link-local"),  # DNS answer is refused
        ("http://mixed.test/", "link-local"),  # one refused address in the answer is enough
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.251/", "multicast"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme 'gopher'"),
        ("http://user:pw@127.0.0.1/", "credentials"),
    ],
)
def test_redirect_to_a_refused_target_never_connects(site, local_options, connection_spy, location, reason):
    site.redirect("/go", location)
    with pytest.raises(FetchRefused) as info:
        fetch(site.url("/go"), options=local_options)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
    assert not isinstance(info.value, TransientFetchError)
    assert connection_spy.hosts == {"127.0.0.1"}  # only the first hop connected


def test_public_site_redirecting_inside_is_refused(site, make_resolver, connection_spy):
    """allow_private=False: a 'public' site (fake DNS, rerouted by the spy) redirects to private targets."""
    resolver = make_resolver(
        {
            "public.test": [FAKE_PUBLIC_IP],
            "sneaky.test": [FAKE_PUBLIC_IP, "10.1.2.3"],
            "loopback.test": ["127.0.0.1"],
        }
    )
    connection_spy.reroute[(FAKE_PUBLIC_IP, site.port)] = site.port
    options = FetchOptions(resolver=resolver, connect_timeout=2, read_timeout=2)
    site.add("/ok", PAGE)
    assert "Hello reuse" in fetch(f"http://public.test:{site.port}/ok", options=options).text

    targets = [
        "http://10.0.0.1/",
        "http://192.168.0.1/admin",
        "http://127.0.0.1:6379/",
        "http://2130706433/",
        "http://[::1]/",
        "http://localhost.test/",
        "http://loopback.test/",
        f"http://sneaky.test:{site.port}/",
        "http://100.64.0.1/",
        "http://169.254.169.254/",
    ]
    for i, target in enumerate(targets):
        site.redirect(f"/r{i}", target)
        with pytest.raises(FetchError) as info:
            fetch(f"http://public.test:{site.port}/r{i}", options=options)
        assert "refused" in str(info.value) or "cannot resolve" in str(info.value)
    # Every connection was to the fake public address (rerouted to the local server); none elsewhere.
    assert connection_spy.hosts == {FAKE_PUBLIC_IP}
    assert connection_spy.attempts == [(FAKE_PUBLIC_IP, site.port)] * (len(targets) + 1)


def test_loopback_refused_without_allow_private(site, make_resolver, connection_spy):
    site.add("/p", PAGE)
    options = FetchOptions(resolver=make_resolver({"local.test": ["127.0.0.1"]}))
    for url in [
        site.url("/p"),
        site.url("/p", host="local.test"),
        f"http://[::1]:{site.port}/p",
        f"http://0x7f.1:{site.port}/p",
    ]:
        with pytest.raises(FetchRefused, match="loopback"):
            fetch(url, options=options)
    assert connection_spy.attempts == []
    assert site.requests == []


def test_declared_oversized_body_is_refused_before_reading(site, local_options):
    site.add("/big", "x" * 200_000)
    with pytest.raises(BodyTooLarge, match="200000 bytes exceeds the 100000-byte limit"):
        fetch(site.url("/big"), options=replace(local_options, max_bytes=100_000))


def test_undeclared_oversized_body_stops_at_the_cap(site, local_options):
    site.add("/stream", b"y" * 3_000_000, content_length=False)
    with pytest.raises(BodyTooLarge, match="exceeds the 100000-byte limit"):
        fetch(site.url("/stream"), options=replace(local_options, max_bytes=100_000))


def test_gzip_bomb_is_capped_after_decoding(site, local_options):
    bomb = gzip.compress(b"<p>" + b"a" * 20_000_000)
    assert len(bomb) < 100_000
    site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(BodyTooLarge):
        fetch(site.url("/bomb"), options=replace(local_options, max_bytes=1_000_000))


def test_gzip_content_encoding_is_decoded(site, local_options):
    site.add("/gz", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    page = fetch(site.url("/gz"), options=local_options)
    assert "Hello reuse" in page.text


def test_slow_response_times_out(site, local_options):
    site.add("/slow", PAGE, delay=1.5)
    with pytest.raises(TransientFetchError, match="timed out"):
        fetch(site.url("/slow"), options=replace(local_options, read_timeout=0.3))


def test_dripping_body_hits_the_total_timeout(site, local_options):
    site.add("/drip", b"z" * 100, drip=0.05)  # 5 s in all, each byte well within the read timeout
    with pytest.raises(TransientFetchError, match="not received within"):
        fetch(site.url("/drip"), options=replace(local_options, read_timeout=1, total_timeout=0.6))


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "application/json", "application/pdf", "application/octet-stream", "text/javascript"],
)
def test_wrong_content_types_are_refused(site, local_options, content_type):
    site.add("/file", b"\x89PNG....", content_type=content_type)
    with pytest.raises(UnsupportedContentType) as info:
        fetch(site.url("/file"), options=local_options)
    assert f"content type {content_type} is not accepted" in str(info.value)
    assert not isinstance(info.value, TransientFetchError)


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "application/xhtml+xml", "text/plain; charset=utf-8", "TEXT/HTML; Charset=UTF-8"],
)
def test_accepted_content_types(site, local_options, content_type):
    site.add("/ok", PAGE, content_type=content_type)
    page = fetch(site.url("/ok"), options=local_options)
    assert page.content_type == content_type.split(";")[0].lower()


def test_missing_content_type_is_sniffed(site, local_options):
    site.add("/html", PAGE, content_type=None)
    assert fetch(site.url("/html"), options=local_options).content_type == "text/html"
    site.add("/blob", b"\x00\x01binary", content_type=None)
    with pytest.raises(UnsupportedContentType):
        fetch(site.url("/blob"), options=local_options)


def test_status_errors_are_classified(site, local_options):
    site.add("/gone", "gone", status=404)
    site.add("/down", "down", status=503)
    site.add("/busy", "busy", status=429, headers={"Retry-After": "7"})
    with pytest.raises(FetchError) as info:
        fetch(site.url("/gone"), options=local_options)
    assert info.value.status == 404 and not isinstance(info.value, TransientFetchError)
    with pytest.raises(TransientFetchError) as info:
        fetch(site.url("/down"), options=local_options)
    assert info.value.status == 503
    with pytest.raises(TransientFetchError) as info:
        fetch(site.url("/busy"), options=local_options)
    assert info.value.status == 429 and info.value.retry_after == 7.0


def test_connection_refused_is_transient(local_options):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the fetch: nothing listens there
    with pytest.raises(TransientFetchError, match="could not connect"):
        fetch(f"http://127.0.0.1:{port}/", options=local_options)


def test_unresolvable_host(local_options):
    with pytest.raises(FetchError, match="cannot resolve host nowhere.test") as info:
        fetch("http://nowhere.test/", options=local_options)
    assert not isinstance(info.value, TransientFetchError)

    def temporary_failure(*args):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(TransientFetchError):
        fetch("http://dns-down.test/", options=replace(local_options, resolver=temporary_failure))


# --------------------------------------------------------------------------------------------------
# charsets

FRENCH = "Café crème, naïveté et « guillemets » – 20 € pour l’été à Besançon. " * 3
RUSSIAN = "Москва — столица России, крупнейший по численности населения город страны. " * 3


def test_header_says_utf8_but_body_is_cp1252(site, local_options):
    site.add(
        "/lie",
        f"<html><body><p>{FRENCH}</p></body></html>".encode("cp1252"),
        content_type="text/html; charset=utf-8",
    )
    page = fetch(site.url("/lie"), options=local_options)
    assert FRENCH.strip() in page.text
    assert page.encoding == "cp1252"


def test_header_says_latin1_but_body_is_utf8(site, local_options):
    site.add(
        "/u8",
        f"<html><body><p>{FRENCH}</p></body></html>".encode(),
        content_type="text/html; charset=iso-8859-1",
    )
    page = fetch(site.url("/u8"), options=local_options)
    assert FRENCH.strip() in page.text and page.encoding == "utf-8"


def test_meta_and_header_disagree(site, local_options):
    # The header is wrong (utf-8), the meta tag is right (windows-1251).
    html = f'<html><head><meta charset="windows-1251"></head><body><p>{RUSSIAN}</p></body></html>'
    site.add("/ru", html.encode("cp1251"), content_type="text/html; charset=utf-8")
    page = fetch(site.url("/ru"), options=local_options)
    assert RUSSIAN.strip() in page.text and page.encoding == "cp1251"
    # The meta tag is wrong (utf-8), the header is right.
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    html = f"<html><head>{meta}</head><body>{FRENCH}</body></html>"
    site.add("/fr", html.encode("cp1252"), content_type="text/html; charset=windows-1252")
    page = fetch(site.url("/fr"), options=local_options)
    assert FRENCH.strip() in page.text and page.encoding == "cp1252"


def test_no_declaration_at_all_is_detected(site, local_options):
    site.add(
        "/bare", f"<html><body><p>{RUSSIAN}</p></body></html>".encode("cp1251"), content_type="text/html"
    )
    page = fetch(site.url("/bare"), options=local_options)
    assert RUSSIAN.strip() in page.text


def test_decode_body_rules():
    assert decode_body(b"\xef\xbb\xbfcaf\xc3\xa9") == ("café", "utf-8")
    assert decode_body("café".encode("utf-16")) == ("café", "utf-16")
    assert decode_body(b"plain ascii", header_charset="iso-8859-1") == ("plain ascii", "cp1252")
    assert decode_body(b"plain ascii") == ("plain ascii", "ascii")
    assert decode_body(FRENCH.encode("cp1252"), header_charset="bogus-charset")[0] == FRENCH
    assert decode_body(
        '<?xml version="1.0" encoding="ISO-8859-1"?><r>caf\xe9 cr\xe8me</r>'.encode("latin-1"),
        media_type="application/xml",
    ) == ('<?xml version="1.0" encoding="ISO-8859-1"?><r>café crème</r>', "cp1252")


# --------------------------------------------------------------------------------------------------
# politeness


def test_rate_limiter_spaces_requests_per_host():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    limiter = HostRateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    assert limiter.wait("http://a.test/1") == 0
    assert limiter.wait("http://a.test/2") == pytest.approx(2.0)
    assert limiter.wait("http://b.test/1") == 0  # another host is not held up
    now[0] += 10
    assert limiter.wait("http://a.test/3") == 0
    assert limiter.wait("http://a.test/4", min_interval=5) == pytest.approx(2.0)
    assert limiter.wait("http://a.test/5") == pytest.approx(5.0)  # the crawl-delay booked a longer slot
    assert slept == [2.0, 2.0, 5.0]
    assert host_key("HTTP://A.test/x") == "http://a.test:80" == host_key("http://a.test:80/y")


ROBOTS = """
User-agent: *
Disallow: /private/
Allow: /private/press/
Disallow: /*.cgi$

User-agent: reuse-checker
Disallow: /no-checkers/
Disallow: /private/
Allow: /private/press/
Crawl-delay: 3

Sitemap: /sitemap-news.xml
"""


def test_robots_rules(site, local_options):
    site.add("/robots.txt", ROBOTS, content_type="text/plain")
    robots = RobotsCache(local_options)
    assert robots.allowed(site.url("/article"))
    assert not robots.allowed(site.url("/no-checkers/page"))  # our own group
    assert robots.allowed(site.url("/no-checkers/page"), "SomeOtherBot/1.0")
    assert not robots.allowed(site.url("/private/x"))
    assert robots.allowed(site.url("/private/press/release"))  # longest match wins
    assert not robots.allowed(site.url("/search.cgi"), "OtherBot")
    assert robots.allowed(site.url("/search.cgi?q=1"), "OtherBot")  # $ anchors the end
    assert robots.crawl_delay(site.url("/")) == 3.0
    assert robots.sitemaps(site.url("/")) == [site.url("/sitemap-news.xml")]
    assert site.hits("/robots.txt") == 1  # cached
    assert site.requests[0].headers["user-agent"] == DEFAULT_USER_AGENT


def test_robots_missing_allows_and_server_error_disallows(site, local_options):
    robots = RobotsCache(local_options)
    assert robots.allowed(site.url("/anything"))  # 404
    site.add("/robots.txt", "oops", status=500)
    robots = RobotsCache(local_options)
    assert not robots.allowed(site.url("/anything"))
    assert robots.sitemaps(site.url("/")) == []


def test_robots_refused_host_disallows(local_options, connection_spy):
    robots = RobotsCache(local_options)
    assert not robots.allowed("http://169.254.169.254/latest/")
    assert connection_spy.attempts == []


# --------------------------------------------------------------------------------------------------
# TLS: connect to the checked address, but verify the certificate for the host name (and send SNI)

TLS_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def tls_site(make_site):
    """An HTTPS site on 127.0.0.1 whose (self-signed, test-only) certificate names news.test."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DATA / "news-test.pem", TLS_DATA / "news-test.key")
    server_names: list[str | None] = []
    context.sni_callback = lambda sslobj, name, ctx: server_names.append(name)
    s = make_site(tls_context=context).start()
    s.server_names = server_names
    yield s
    s.stop()


def test_https_verifies_the_host_name_not_the_address(tls_site, local_options, connection_spy):
    tls_site.add("/secure", PAGE)
    options = replace(local_options, ca_certs=str(TLS_DATA / "news-test.pem"))
    page = fetch(tls_site.url("/secure", host="news.test"), options=options)
    assert "Hello reuse" in page.text and page.final_url == f"https://news.test:{tls_site.port}/secure"
    assert tls_site.server_names == ["news.test"]  # SNI carries the name although we dialled 127.0.0.1
    assert tls_site.requests[-1].headers["host"] == f"news.test:{tls_site.port}"
    assert connection_spy.hosts == {"127.0.0.1"}


def test_https_certificate_problems_are_permanent_errors(tls_site, make_resolver):
    tls_site.add("/secure", PAGE)
    resolver = make_resolver({"news.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    options = FetchOptions(allow_private=True, resolver=resolver, ca_certs=str(TLS_DATA / "news-test.pem"))
    with pytest.raises(FetchError, match="TLS error") as info:  # certificate is for news.test
        fetch(tls_site.url("/secure", host="other.test"), options=options)
    assert not isinstance(info.value, TransientFetchError)
    with pytest.raises(FetchError, match="TLS error"):  # self-signed: not in the system trust store
        fetch(tls_site.url("/secure", host="news.test"), options=replace(options, ca_certs=None))
    assert tls_site.requests == []
