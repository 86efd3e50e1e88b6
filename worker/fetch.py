"""SSRF-safe page fetching: the only module in ``worker`` that touches the network.

``fetch(url, options=...)`` checks the URL with ``worker.urlguard``, resolves the host once, checks every
address, and connects to the checked address itself with urllib3 (the Host header, TLS SNI and
certificate verification still use the host name, so there is no second DNS lookup to rebind). Redirects
are followed by hand, each hop checked again, up to ``max_redirects``. The body is streamed and stopped
at ``max_bytes``; connect, read and whole-fetch timeouts bound the time. Only the accepted content types
are read, and the text is decoded with the charset the bytes really use (see ``decode_body``).

Errors: ``FetchError`` (permanent: refused URL, 4xx, wrong type, too large, too many redirects, TLS
failure) and its subclass ``TransientFetchError`` (timeouts, connection failures, 5xx, 429, temporary DNS
failure) which a task may retry with backoff.

Conditional requests: ``fetch(url, etag=..., last_modified=...)`` sends ``If-None-Match`` /
``If-Modified-Since`` (through the same guard, redirects and caps); a 304 answer comes back as a
``FetchedPage`` with ``not_modified`` true and no body, and every page carries the response's ``ETag``
and ``Last-Modified`` so the caller can store them for next time (a watched feed that has not changed
then costs one small request).

Also here: ``HostRateLimiter`` (a polite per-host interval) and ``RobotsCache`` (robots.txt through the
same safe fetcher, parsed with Protego, which implements RFC 9309 wildcards and longest match).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypedDict
from urllib.parse import urljoin, urlsplit

import urllib3
from charset_normalizer import from_bytes
from protego import Protego
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from checker.errors import CheckerError
from checker.textio import bom_encoding
from worker.urlguard import HostUnresolvable, ParsedTarget, Resolver, UrlRefused, check_url, resolve_and_check

# Identify ourselves so site owners can find out who crawls them (and block us by name in robots.txt).
USER_AGENT_TOKEN = "reuse-checker"
DEFAULT_USER_AGENT = f"{USER_AGENT_TOKEN}/0.1 (+https://github.com/reuse-checker/reuse-checker)"

HTML_TYPES = ("text/html", "application/xhtml+xml")
PAGE_TYPES = (*HTML_TYPES, "text/plain")
XML_TYPES = (
    "application/xml",
    "text/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
)
GZIP_TYPES = ("application/gzip", "application/x-gzip")
# What a crawler's fetcher accepts: pages plus sitemaps (maybe gzipped) and feeds.
CRAWL_TYPES = (*PAGE_TYPES, *XML_TYPES, *GZIP_TYPES)
# robots.txt is meant to be text/plain, but servers label it all sorts of ways.
ROBOTS_TYPES = ("text/plain", "text/html", "application/octet-stream")

REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch. Defaults suit a polite crawler of news pages.

    ``allow_private`` lets the fetcher reach loopback/private addresses (tests only; the caller maps
    ``CHECKER_ALLOW_PRIVATE_URLS``). ``total_timeout`` bounds the whole fetch including redirects and a
    server that drips its body slowly. ``resolver`` has ``socket.getaddrinfo``'s signature.
    """

    user_agent: str = DEFAULT_USER_AGENT
    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 45.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    accepted_types: tuple[str, ...] = PAGE_TYPES
    resolver: Resolver = socket.getaddrinfo
    verify_tls: bool = True
    ca_certs: str | None = None  # None: the system trust store
    accept_language: str | None = None


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page, with what is needed as evidence.

    ``url`` is the URL asked for, ``final_url`` the one that answered after redirects; ``redirects``
    lists, in order, each URL that answered with a redirect (so ``redirects[0] == url`` when there was
    one). ``body_sha256`` is the hex SHA-256 of ``body`` (after Content-Encoding is undone), ``text``
    the body decoded with ``encoding`` (empty for gzip payloads), ``fetched_at`` aware UTC.

    ``etag`` and ``last_modified`` are the response's validators (None when it sent none). A
    conditional fetch the server answered with 304 has ``status == 304``, ``not_modified`` true, an
    empty body and content type, and the validators that still hold.
    """

    url: str
    final_url: str
    status: int
    content_type: str
    fetched_at: datetime
    body_sha256: str
    text: str
    redirects: list[str] = field(default_factory=list)
    encoding: str | None = None
    body: bytes = field(default=b"", repr=False)
    etag: str | None = None
    last_modified: str | None = None

    @property
    def is_html(self) -> bool:
        return self.content_type in HTML_TYPES

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(CheckerError):
    """A fetch failed for good. ``str(exc)`` is one readable line; ``status`` is the HTTP status if any."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class TransientFetchError(FetchError):
    """A fetch failed in a way that may pass: timeout, connection failure, 5xx, 429.

    ``retry_after`` is the server's Retry-After in seconds when it sent one.
    """

    def __init__(self, message: str, *, url=None, status=None, retry_after: float | None = None):
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class FetchRefused(FetchError):
    """The URL guard refused the URL or one of its addresses (never connected)."""


class UnsupportedContentType(FetchError):
    """The response's content type is not one of ``FetchOptions.accepted_types``."""


class BodyTooLarge(FetchError):
    """The body went past ``FetchOptions.max_bytes``; reading stopped there."""


class TooManyRedirects(FetchError):
    """More than ``FetchOptions.max_redirects`` redirects."""


def fetch(
    url: str,
    *,
    options: FetchOptions | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchedPage:
    """Fetch ``url`` safely and return the decoded page; raise ``FetchError`` (or a subclass).

    With ``etag`` and/or ``last_modified`` (validators a previous response sent) the request is
    conditional, and an unchanged resource comes back as a 304 page (``not_modified``) without a body.
    """
    options = options or FetchOptions()
    deadline = time.monotonic() + options.total_timeout
    conditional = conditional_headers(etag, last_modified)
    redirects: list[str] = []
    current = url
    for _hop in range(options.max_redirects + 1):
        target = _guard(current, options)
        addresses = _resolve(target, options)
        pool, response = _open(target, addresses, options, deadline, conditional)
        try:
            status = response.status
            new_etag = _header_value(response, "ETag")
            new_last_modified = _header_value(response, "Last-Modified")
            if status in REDIRECT_STATUSES:
                location = (response.headers.get("Location") or "").strip()
                if not location:
                    raise FetchError(
                        f"{target.url}: HTTP {status} redirect without a Location", url=url, status=status
                    )
                redirects.append(target.url)
                current = urljoin(target.url, location)
                continue
            if status == 304 and conditional:
                return _not_modified(
                    url, target.url, redirects, new_etag or etag, new_last_modified or last_modified
                )
            _raise_for_status(target.url, status, response)
            media_type, charset = parse_content_type(response.headers.get("Content-Type"))
            if media_type and media_type not in options.accepted_types:
                raise UnsupportedContentType(
                    f"{target.url}: content type {media_type} is not accepted "
                    f"(accepted: {', '.join(options.accepted_types)})",
                    url=url,
                    status=status,
                )
            body = _read_body(target.url, response, options, deadline)
        finally:
            response.close()  # we never reuse connections: each hop may be a different checked address
            pool.close()
        if not media_type:
            media_type = _sniff_type(body)
            if media_type not in options.accepted_types:
                raise UnsupportedContentType(
                    f"{target.url}: no content type and the body does not look like HTML",
                    url=url,
                    status=status,
                )
        if media_type in GZIP_TYPES:
            text, encoding = "", None
        else:
            text, encoding = decode_body(body, header_charset=charset, media_type=media_type)
        return FetchedPage(
            url=url,
            final_url=target.url,
            status=status,
            content_type=media_type,
            fetched_at=datetime.now(UTC),
            body_sha256=hashlib.sha256(body).hexdigest(),
            text=text,
            redirects=redirects,
            encoding=encoding,
            body=body,
            etag=new_etag,
            last_modified=new_last_modified,
        )
    raise TooManyRedirects(f"{url}: more than {options.max_redirects} redirects", url=url)


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` for stored validators. A value that could not be a
    header (control characters, which only a corrupted store would hold) is left out, not sent."""
    headers = {}
    for name, value in (("If-None-Match", etag), ("If-Modified-Since", last_modified)):
        value = (value or "").strip()
        if value and not _CONTROL_RE.search(value):
            headers[name] = value
    return headers


def _header_value(response, name: str) -> str | None:
    """A validator header's value; None when absent, or unusable (control characters: a hostile or
    broken server's, which could not be sent back, nor stored in PostgreSQL when it holds a NUL)."""
    value = (response.headers.get(name) or "").strip()
    return value if value and not _CONTROL_RE.search(value) else None


def _not_modified(
    url: str, final_url: str, redirects: list[str], etag: str | None, last_modified: str | None
) -> FetchedPage:
    """The page of a 304 answer: nothing to read, the validators that still hold."""
    return FetchedPage(
        url=url,
        final_url=final_url,
        status=304,
        content_type="",
        fetched_at=datetime.now(UTC),
        body_sha256=hashlib.sha256(b"").hexdigest(),
        text="",
        redirects=redirects,
        etag=etag,
        last_modified=last_modified,
    )


# --------------------------------------------------------------------------------------------------
# content types and charsets

# A <meta ... charset=...> declaration: the pattern <meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)
# (case-insensitive), found in linear time by meta_charset() (the single pattern read each tag once per
# "<meta" inside it, and split runs of spaces around the quote every possible way).
_META_OPEN_RE = re.compile(rb"<meta", re.IGNORECASE)
_CHARSET_VALUE_RE = re.compile(rb"""\s*+=\s*+["']?\s*+([a-zA-Z0-9_:.+-]+)""")
_XML_DECL_RE = re.compile(rb"""^\s*+<\?xml[^>]*encoding\s*+=\s*+["']([a-zA-Z0-9_.:+-]+)["']""")
# WHATWG Encoding: these labels mean windows-1252 on the web, whatever the registry says.
_WEB_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """``(media_type, charset)`` from a Content-Type header; ``("", None)`` when absent."""
    if not header:
        return "", None
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset


def normalise_charset(label: str | None) -> str | None:
    """The Python codec name for a charset label, web aliases applied; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _WEB_ALIASES.get(name, name)


def meta_charset(head: bytes) -> bytes | None:
    """The charset of the first ``<meta`` tag that declares one (the last declaration inside that tag,
    as the greedy pattern above picks). Each tag is read once: a "<meta" inside a tag without a
    declaration has none either."""
    lower, pos = head.lower(), 0
    while (opening := _META_OPEN_RE.search(head, pos)) is not None:
        end = head.find(b">", opening.end())
        end = len(head) if end < 0 else end
        at = end
        while (at := lower.rfind(b"charset", opening.end() + 1, at + 6)) >= 0:
            value = _CHARSET_VALUE_RE.match(head, at + 7)
            if value:
                return value.group(1)
        pos = end
    return None


def declared_charsets(body: bytes, header_charset: str | None, media_type: str = "text/html") -> list[str]:
    """Charsets the response declares, most authoritative first: header, then meta / XML declaration."""
    found = [header_charset]
    head = body[:8192]
    if media_type in HTML_TYPES:
        meta = meta_charset(head)
        if meta:
            found.append(meta.decode("ascii", "replace"))
    match = _XML_DECL_RE.match(head)
    if match:
        found.append(match.group(1).decode("ascii", "replace"))
    out: list[str] = []
    for label in found:
        name = normalise_charset(label)
        if name and name not in out:
            out.append(name)
    return out


def decode_body(
    body: bytes, *, header_charset: str | None = None, media_type: str = "text/html"
) -> tuple[str, str]:
    """Decode ``body`` with the charset it really uses; return ``(text, encoding)``.

    Pages lie about their encoding (a UTF-8 header on Windows-1252 bytes, a meta tag that contradicts the
    header), so the declarations are tested, not trusted:

    1. a byte-order mark wins;
    2. bytes that decode as UTF-8 and contain multi-byte sequences are UTF-8, whatever is declared
       (valid UTF-8 with non-ASCII sequences almost never happens by accident in other encodings);
    3. otherwise the first declaration (header, then meta/XML) that decodes the bytes strictly;
    4. otherwise charset-normalizer's guess on the bytes;
    5. last resort: Windows-1252 with replacement characters.
    """
    if (marked := bom_encoding(body)) is not None:
        codec, name = marked
        return body.decode(codec, errors="replace"), name
    declared = declared_charsets(body, header_charset, media_type)
    if body.isascii():
        # Every ASCII-compatible declaration decodes ASCII bytes the same way; report what was declared.
        ascii_compatible = [n for n in declared if not n.startswith(("utf-16", "utf-32"))]
        return body.decode("ascii"), (ascii_compatible[0] if ascii_compatible else "ascii")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for name in declared:
        if name.startswith("utf-8"):
            continue  # step 2 already showed the bytes are not UTF-8
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(body).best()
    if best is not None:
        return str(best), best.encoding
    return body.decode("cp1252", errors="replace"), "cp1252"


def _sniff_type(body: bytes) -> str:
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "text/html"
    return "application/octet-stream"


# --------------------------------------------------------------------------------------------------
# the connection


def _guard(url: str, options: FetchOptions) -> ParsedTarget:
    try:
        return check_url(url, allow_private=options.allow_private)
    except UrlRefused as exc:
        raise FetchRefused(str(exc), url=url) from None


def _resolve(target: ParsedTarget, options: FetchOptions) -> list:
    try:
        return resolve_and_check(
            target.host, target.port, options.resolver, allow_private=options.allow_private
        )
    except HostUnresolvable as exc:
        cls = TransientFetchError if exc.transient else FetchError
        raise cls(f"{target.url}: {exc}", url=target.url) from None
    except UrlRefused as exc:
        raise FetchRefused(f"{target.url}: {exc}", url=target.url) from None


def _headers(
    target: ParsedTarget, options: FetchOptions, extra: dict[str, str] | None = None
) -> dict[str, str]:
    headers = {
        "Host": target.host_header,
        "User-Agent": options.user_agent,
        "Accept": ", ".join(options.accepted_types) + ", */*;q=0.1",
        "Accept-Encoding": "gzip, deflate",
    }
    if options.accept_language:
        headers["Accept-Language"] = options.accept_language
    if extra:
        headers.update(extra)
    return headers


class _PoolOptions(TypedDict):
    timeout: urllib3.Timeout
    retries: bool
    maxsize: int
    block: bool


def _pool(target: ParsedTarget, address, options: FetchOptions, deadline: float):
    remaining = max(0.01, deadline - time.monotonic())
    timeout = urllib3.Timeout(
        connect=min(options.connect_timeout, remaining), read=min(options.read_timeout, remaining)
    )
    common: _PoolOptions = {"timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(str(address), target.port, **common)
    # Connect to the checked address, but speak TLS to the host name: SNI and certificate matching.
    name = None if target.ip is not None else target.host
    return urllib3.HTTPSConnectionPool(
        str(address),
        target.port,
        cert_reqs="CERT_REQUIRED" if options.verify_tls else "CERT_NONE",
        ca_certs=options.ca_certs,
        server_hostname=name,
        assert_hostname=(name or str(address)) if options.verify_tls else False,
        **common,
    )


def _open(
    target: ParsedTarget,
    addresses: list,
    options: FetchOptions,
    deadline: float,
    extra_headers: dict[str, str] | None = None,
):
    """Connect to the first address that answers; return ``(pool, response)`` with the body unread."""
    last_error: Exception | None = None
    for address in addresses:
        if time.monotonic() >= deadline:
            break
        pool = _pool(target, address, options, deadline)
        try:
            response = pool.urlopen(
                "GET",
                target.request_target,
                headers=_headers(target, options, extra_headers),
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=True,
                assert_same_host=False,
            )
            return pool, response
        except (NewConnectionError, ConnectTimeoutError) as exc:
            pool.close()
            last_error = exc  # try the next address
        except ReadTimeoutError:
            pool.close()
            raise TransientFetchError(
                f"{target.url}: timed out waiting for the response", url=target.url
            ) from None
        except SSLError as exc:
            pool.close()
            raise FetchError(f"{target.url}: TLS error: {_one_line(exc)}", url=target.url) from None
        except (ProtocolError, HTTPError, OSError) as exc:
            pool.close()
            raise TransientFetchError(
                f"{target.url}: connection failed: {_one_line(exc)}", url=target.url
            ) from None
    if last_error is None:
        raise TransientFetchError(
            f"{target.url}: timed out (total {options.total_timeout:g}s)", url=target.url
        )
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2, so test for it first.
    timed_out = isinstance(last_error, ConnectTimeoutError) and not isinstance(last_error, NewConnectionError)
    kind = "timed out connecting" if timed_out else "could not connect"
    raise TransientFetchError(f"{target.url}: {kind} to {target.host}", url=target.url)


def _raise_for_status(url: str, status: int, response) -> None:
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise TransientFetchError(
            f"{url}: HTTP {status}", url=url, status=status, retry_after=_retry_after(response)
        )
    raise FetchError(f"{url}: HTTP {status}", url=url, status=status)


def _retry_after(response) -> float | None:
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    return None


def _read_body(url: str, response, options: FetchOptions, deadline: float) -> bytes:
    """Read the (decoded) body in chunks, stopping at ``max_bytes`` and at the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > options.max_bytes:
        raise BodyTooLarge(
            f"{url}: body of {int(declared)} bytes exceeds the {options.max_bytes}-byte limit",
            url=url,
            status=response.status,
        )
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise TransientFetchError(
                    f"{url}: body not received within {options.total_timeout:g}s", url=url
                )
            chunk = response.read1(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > options.max_bytes:
                raise BodyTooLarge(
                    f"{url}: body exceeds the {options.max_bytes}-byte limit", url=url, status=response.status
                )
            chunks.append(chunk)
    except ReadTimeoutError:
        raise TransientFetchError(f"{url}: timed out reading the body", url=url) from None
    except DecodeError as exc:
        raise FetchError(f"{url}: cannot decode the body: {_one_line(exc)}", url=url) from None
    except (ProtocolError, HTTPError, OSError) as exc:
        raise TransientFetchError(
            f"{url}: connection broke while reading: {_one_line(exc)}", url=url
        ) from None
    return b"".join(chunks)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


# --------------------------------------------------------------------------------------------------
# politeness


def host_key(url: str) -> str:
    """``scheme://host:port`` of a URL, the unit of politeness and of robots.txt."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class HostRateLimiter:
    """Keeps at least ``min_interval`` seconds between requests to the same host (thread-safe).

    ``wait(url)`` blocks until this host may be asked again and books the slot; a per-call
    ``min_interval`` (e.g. a robots.txt Crawl-delay) can only lengthen the interval.
    """

    def __init__(
        self,
        min_interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str, min_interval: float | None = None) -> float:
        """Block until ``url``'s host may be fetched; return the seconds waited."""
        interval = max(self.min_interval, min_interval or 0.0)
        key = host_key(url)
        with self._lock:
            now = self._clock()
            start = max(now, self._next_slot.get(key, now))
            self._next_slot[key] = start + interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay


@dataclass
class _Robots:
    parser: Protego | None  # None: everything allowed (no robots.txt)
    disallow_all: bool
    expires: float
    error: str | None = None  # why robots.txt could not be read, when that disallowed everything


class RobotsCache:
    """robots.txt per host, fetched through the safe fetcher and cached for ``ttl`` seconds.

    RFC 9309 semantics: a 4xx robots.txt (including 404) allows everything; a server error or an
    unreachable host disallows everything (retried after ``error_ttl``); a refused URL disallows.
    ``fetch_fn(url)`` defaults to ``fetch`` with ``options`` (accepting robots.txt's content types).
    """

    def __init__(
        self,
        options: FetchOptions | None = None,
        *,
        fetch_fn: Callable[[str], FetchedPage] | None = None,
        ttl: float = 3600.0,
        error_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        rate_limiter: HostRateLimiter | None = None,
    ):
        self.options = options or FetchOptions()
        robots_options = replace(self.options, accepted_types=ROBOTS_TYPES, max_bytes=500 * 1024)
        self._fetch = fetch_fn or (lambda u: fetch(u, options=robots_options))
        self.ttl = ttl
        self.error_ttl = error_ttl
        self._clock = clock
        self._rate_limiter = rate_limiter
        self._cache: dict[str, _Robots] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, user_agent: str | None = None) -> bool:
        """May ``user_agent`` (default: ours) fetch ``url``? robots.txt itself is always allowed."""
        agent = user_agent or self.options.user_agent
        if urlsplit(url).path == "/robots.txt":
            return True
        robots = self._robots_for(url)
        if robots.disallow_all:
            return False
        return robots.parser is None or robots.parser.can_fetch(url, agent)

    def unreachable(self, url: str) -> str | None:
        """Why ``url``'s host disallows everything because its robots.txt could not be fetched (the
        address was refused, the host is down); None when robots.txt was read or is absent."""
        with self._lock:
            cached = self._cache.get(host_key(url))
        return cached.error if cached is not None and cached.disallow_all else None

    def crawl_delay(self, url: str, user_agent: str | None = None) -> float | None:
        robots = self._robots_for(url)
        if robots.parser is None:
            return None
        delay = robots.parser.crawl_delay(user_agent or self.options.user_agent)
        return float(delay) if delay is not None else None

    def sitemaps(self, url: str) -> list[str]:
        """The Sitemap: lines of ``url``'s host's robots.txt, made absolute."""
        robots = self._robots_for(url)
        if robots.parser is None:
            return []
        base = robots_url(url)
        return [urljoin(base, s.strip()) for s in robots.parser.sitemaps if s.strip()]

    def _robots_for(self, url: str) -> _Robots:
        key = host_key(url)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached.expires > now:
            return cached
        robots = self._load(robots_url(url), now)
        with self._lock:
            self._cache[key] = robots
        return robots

    def _load(self, url: str, now: float) -> _Robots:
        if self._rate_limiter is not None:
            self._rate_limiter.wait(url)
        try:
            page = self._fetch(url)
        except TransientFetchError as exc:
            return _Robots(None, True, now + self.error_ttl, str(exc))
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return _Robots(None, False, now + self.ttl)
            if isinstance(exc, (UnsupportedContentType, BodyTooLarge)):
                return _Robots(None, False, now + self.ttl)
            return _Robots(None, True, now + self.error_ttl, str(exc))
        return _Robots(Protego.parse(page.text), False, now + self.ttl)


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/robots.txt"
