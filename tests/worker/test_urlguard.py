"""URL guard decisions: pure functions over many address forms, with fake resolvers only."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from worker.urlguard import (
    HostUnresolvable,
    UrlRefused,
    check_address,
    check_url,
    parse_ipv4_host,
    resolve_and_check,
)

# Hosts that name a refused address in some notation: (url, words the one-line reason must contain).
REFUSED_URLS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.255.255.254/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f000001/", "loopback"),  # hex, one part
    ("http://0x7f.1/", "loopback"),  # hex + short form
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://017700000001/", "loopback"),  # octal, one part
    ("http://127.1/", "loopback"),  # short form
    ("http://127.0.1/", "loopback"),
    ("http://127.0.0.1./", "loopback"),  # trailing dot
    ("http://0x7F.0x00.0x00.0x01/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[::a9fe:a9fe]/", "link-local"),
    ("http://[64:ff9b::7f00:1]/", "NAT64"),
    ("http://[64:ff9b::169.254.169.254]/", "link-local"),
    ("http://[64:ff9b:1::1]/", "local-use NAT64"),
    ("http://[2002:7f00:1::1]/", "6to4"),
    ("http://[2002:a9fe:a9fe::]/", "link-local"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo client"),  # client 127.0.0.1
    ("http://[2001:0:7f00:1::1]/", "Teredo server"),  # server 127.0.0.1, client 255.255.255.255 ^ 0
    ("http://10.0.0.1/", "private"),
    ("http://10.255.255.255/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://3232235777/", "private"),  # 192.168.1.1 in decimal
    ("http://0xc0.0xa8.1.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0251.0376.0251.0376/", "link-local"),  # 169.254.169.254 in octal
    ("http://2852039166/", "link-local"),  # 169.254.169.254 in decimal
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "shared"),
    ("http://100.127.255.254/", "shared"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://0.1.2.3/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.0.8/", "IETF"),
    ("http://192.0.2.1/", "documentation"),
    ("http://203.0.113.9/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[fec0::1]/", "site-local"),
]


@pytest.mark.parametrize("url,reason", REFUSED_URLS)
def test_refused_addresses_in_every_notation(url, reason):
    with pytest.raises(UrlRefused) as info:
        check_url(url)
    message = str(info.value)
    assert reason.lower() in message.lower()
    assert "\n" not in message and message.startswith("refused")


@pytest.mark.parametrize(
    "url,reason",
    [
        ("ftp://example.com/", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("//example.com/", "scheme 'none'"),
        ("example.com/page", "scheme"),
        ("http:///path", "no host"),
        ("http://user:secret@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com@127.0.0.1/", "credentials"),
        ("http://example.com:0/", "port 0"),
        ("http://example.com:65536/", "invalid port"),
        ("http://example.com:-1/", "invalid port"),
        ("http://example.com:http/", "invalid port"),
        ("http://exa mple.com/", "whitespace"),
        ("http://example.com\n.evil/", "control"),
        ("http://%31%32%37.0.0.1/", "percent-encoded"),
        ("http://[::1/", "malformed"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://1.2.3.4.5/", "malformed numeric"),
        ("http://256.0.0.1/", "out of range"),
        ("http://1.2.65536/", "out of range"),
        ("http://4294967296/", "out of range"),
        ("http://08.0.0.1/", "malformed numeric"),  # 8 is not an octal digit
        ("http://exa_mple..com/", "invalid host"),
        ("http://-bad-.com/", "invalid host"),
        ("", "empty"),
        ("http://" + "a" * 9000 + ".com/", "longer than"),
    ],
)
def test_refused_url_shapes(url, reason):
    with pytest.raises(UrlRefused) as info:
        check_url(url)
    assert reason.lower() in str(info.value).lower()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("http://example.com", ("http", "example.com", 80, "/", "http://example.com/")),
        (
            "HTTPS://Example.COM:443/a/b?q=1#frag",
            ("https", "example.com", 443, "/a/b?q=1", "https://example.com/a/b?q=1"),
        ),
        ("http://example.com:8080/x", ("http", "example.com", 8080, "/x", "http://example.com:8080/x")),
        ("http://bücher.de/", ("http", "xn--bcher-kva.de", 80, "/", "http://xn--bcher-kva.de/")),
        ("http://93.184.216.34/", ("http", "93.184.216.34", 80, "/", "http://93.184.216.34/")),
        ("http://1572395042/", ("http", "93.184.216.34", 80, "/", "http://93.184.216.34/")),  # decimal public
        ("http://[2606:4700::1111]/", ("http", "2606:4700::1111", 80, "/", "http://[2606:4700::1111]/")),
        ("http://[::ffff:8.8.8.8]/", ("http", "::ffff:808:808", 80, "/", "http://[::ffff:808:808]/")),
        (
            "http://news.example.co.id./berita",
            ("http", "news.example.co.id", 80, "/berita", "http://news.example.co.id/berita"),
        ),
    ],
)
def test_accepted_urls_are_normalised(url, expected):
    target = check_url(url)
    assert (target.scheme, target.host, target.port, target.request_target, target.url) == expected


def test_host_header_and_origin():
    assert check_url("http://example.com/").host_header == "example.com"
    assert check_url("https://example.com:8443/").host_header == "example.com:8443"
    assert check_url("http://[2606:4700::1111]:8080/").host_header == "[2606:4700::1111]:8080"
    assert check_url("https://example.com/x").origin == "https://example.com"


def test_allow_private_lifts_only_loopback_and_private():
    for url in [
        "http://127.0.0.1:8000/",
        "http://127.1/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
    ]:
        check_url(url, allow_private=True)
    for url in [
        "http://169.254.169.254/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ]:
        with pytest.raises(UrlRefused):
            check_url(url, allow_private=True)
    for url in ["ftp://127.0.0.1/", "file:///etc/passwd", "http://u:p@127.0.0.1/"]:
        with pytest.raises(UrlRefused):
            check_url(url, allow_private=True)


def test_reason_names_the_host_as_written():
    with pytest.raises(UrlRefused, match=r"2130706433 \(127\.0\.0\.1\): loopback"):
        check_url("http://2130706433/")


@pytest.mark.parametrize(
    "host,expected",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0x", "0.0.0.0"),
        ("1.2.3.4.", "1.2.3.4"),
        ("example.com", None),
        ("1.2.3.com", None),
        ("0x7f.example", None),
    ],
)
def test_parse_ipv4_host(host, expected):
    result = parse_ipv4_host(host)
    assert (str(result) if result else None) == expected


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700::1111",
        "2a00:1450::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address):
    check_address(address)
    check_address(ipaddress.ip_address(address), allow_private=True)


def test_check_address_rejects_garbage():
    with pytest.raises(UrlRefused, match="not an IP address"):
        check_address("not-an-ip")


# --------------------------------------------------------------------------------------------------
# resolve_and_check with fake resolvers


def test_resolves_once_and_returns_every_address(make_resolver):
    resolver = make_resolver(
        {"news.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]}
    )
    addresses = resolve_and_check("news.example", 443, resolver)
    assert [str(a) for a in addresses] == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert resolver.calls == ["news.example"]


@pytest.mark.parametrize(
    "answers",
    [
        ["93.184.216.34", "10.0.0.5"],  # one private address among public ones refuses the host
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["93.184.216.34", "fe80::1"],
        ["0.0.0.0"],
        ["100.64.3.4"],
    ],
)
def test_any_refused_answer_refuses_the_host(answers, make_resolver):
    resolver = make_resolver({"rebind.example": answers})
    with pytest.raises(UrlRefused, match="rebind.example"):
        resolve_and_check("rebind.example", 80, resolver)
    assert resolver.calls == ["rebind.example"]


def test_allow_private_resolution(make_resolver):
    resolver = make_resolver({"app.test": ["127.0.0.1", "::1"]})
    assert [str(a) for a in resolve_and_check("app.test", 80, resolver, allow_private=True)] == [
        "127.0.0.1",
        "::1",
    ]
    resolver = make_resolver({"meta.test": ["127.0.0.1", "169.254.169.254"]})
    with pytest.raises(UrlRefused, match="link-local"):
        resolve_and_check("meta.test", 80, resolver, allow_private=True)


def test_ip_literal_is_checked_without_resolving(make_resolver):
    resolver = make_resolver()
    assert [str(a) for a in resolve_and_check("8.8.8.8", 80, resolver)] == ["8.8.8.8"]
    assert [str(a) for a in resolve_and_check("[2606:4700::1111]", 80, resolver)] == ["2606:4700::1111"]
    with pytest.raises(UrlRefused):
        resolve_and_check("127.0.0.1", 80, resolver)
    assert resolver.calls == []


def test_unresolvable_hosts(make_resolver):
    with pytest.raises(HostUnresolvable) as info:
        resolve_and_check("nowhere.example", 80, make_resolver())
    assert not info.value.transient
    assert "cannot resolve host nowhere.example" in str(info.value)

    def flaky(*args):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(HostUnresolvable) as info:
        resolve_and_check("flaky.example", 80, flaky)
    assert info.value.transient

    with pytest.raises(HostUnresolvable, match="no addresses"):
        resolve_and_check("empty.example", 80, lambda *a: [])


def test_non_ip_families_are_refused():
    def unix_answer(*args):
        return [(socket.AF_UNIX, socket.SOCK_STREAM, 0, "", "/run/x.sock")]

    with pytest.raises(UrlRefused, match="non-IP"):
        resolve_and_check("odd.example", 80, unix_answer)


def test_scoped_ipv6_answer_is_refused(make_resolver):
    resolver = make_resolver({"scoped.example": ["fe80::1%eth0"]})
    with pytest.raises(UrlRefused):
        resolve_and_check("scoped.example", 80, resolver)


def test_urls_longer_than_a_stored_url_are_refused():
    """A page at (or redirected to) a URL the database cannot store as evidence is not fetched: the
    guard's limit is the URL columns' size (issue 9: a 2,001-character URL failed the insert on PostgreSQL)."""
    from checker.validate import URL_MAX_CHARS

    base = "https://example.com/"
    assert check_url(base + "a" * (URL_MAX_CHARS - len(base))).host == "example.com"
    with pytest.raises(UrlRefused, match="longer than"):
        check_url(base + "a" * (URL_MAX_CHARS - len(base) + 1))
