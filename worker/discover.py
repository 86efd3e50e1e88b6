"""Finding a site's pages: sitemap, feed and link parsers, and a breadth-first ``Crawler``.

The parsers are pure (text in, URLs out). ``Crawler`` does no I/O of its own: fetching, robots.txt and
the per-host rate are injected, so the same class runs against real sites, a local test site, or fakes.
Order of discovery, as a polite crawler of a news site should do it: robots.txt, then sitemaps
(``/sitemap.xml`` and those robots.txt names), then the feeds the start page links to, then links.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from checker.validate import URL_MAX_CHARS
from worker.fetch import FetchError

log = logging.getLogger(__name__)

# Crawl limits and filters, in one place.
MAX_SITEMAPS = 20  # sitemap files read per crawl (an index can name thousands)
MAX_SITEMAP_BYTES = 20 * 1024 * 1024  # after gunzip; the protocol caps a sitemap at 50 MB / 50,000 URLs
MAX_FEEDS = 5  # feeds read per crawl
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Links to these are not pages; skipping them saves a fetch that would be refused on content type.
NON_PAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".svg",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".avif",
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".ppt",
        ".pptx",
        ".odt",
        ".zip",
        ".gz",
        ".tgz",
        ".rar",
        ".7z",
        ".mp3",
        ".mp4",
        ".m4a",
        ".wav",
        ".ogg",
        ".webm",
        ".avi",
        ".mov",
        ".css",
        ".js",
        ".json",
        ".woff",
        ".woff2",
        ".ttf",
        ".eot",
        ".exe",
        ".dmg",
        ".apk",
        ".iso",
    }
)

_XML_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    recover=True,
    remove_comments=True,
)
_XML_DECL_RE = re.compile(r"^\s*+<\?xml[^>]*\?>")  # anchored: read once, in linear time
# The same, refusing what is not well-formed: only to say why a document could not be read.
_STRICT_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)
# What a feed or sitemap document is, by its root element (RSS 1.0's root is rdf:RDF).
DOCUMENT_KINDS = {
    "rss": "rss",
    "rdf": "rss",
    "feed": "atom",
    "urlset": "sitemap",
    "sitemapindex": "sitemap index",
}


# --------------------------------------------------------------------------------------------------
# URLs


def normalise_url(url: str, base: str | None = None) -> str | None:
    """Absolute, normalised http(s) URL, or None (also when longer than a stored URL may be).

    Resolves against ``base``, lower-cases scheme and host, drops the default port, the fragment and
    user info, and gives an empty path as ``/``; the query is kept as it is (it often names the page).
    """
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    normal = urlunsplit((scheme, host, parts.path or "/", parts.query, ""))
    return normal if len(normal) <= URL_MAX_CHARS else None  # longer cannot be stored as a scan's URL


def site_host(url: str) -> str:
    """The host a URL belongs to for "same site" purposes: lower case, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def same_site(url: str, base: str) -> bool:
    return site_host(url) == site_host(base) != ""


# --------------------------------------------------------------------------------------------------
# parsers


def parse_sitemap(xml: str | bytes, base: str | None = None) -> tuple[list[str], list[str]]:
    """``(page_urls, sub_sitemaps)`` from a sitemap (``<urlset>``) or sitemap index (``<sitemapindex>``).

    Namespace-agnostic (servers get the namespace wrong); plain-text sitemaps (one URL a line) are
    accepted too. Gzip is the caller's business. Malformed input gives what could be recovered.
    """
    root = _parse_xml(xml)
    if root is None:
        return _text_sitemap(xml, base), []
    kind = _local(root.tag)
    pages: list[str] = []
    subs: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or _local(element.tag) != "loc":
            continue
        parent = element.getparent()
        url = normalise_url(element.text or "", base)
        if url is None or parent is None:
            continue
        target = subs if (_local(parent.tag) == "sitemap" or kind == "sitemapindex") else pages
        if url not in target:
            target.append(url)
    return pages, subs


def parse_feed(xml: str | bytes, base: str | None = None) -> list[str]:
    """Entry URLs from an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in feed order."""
    root = _parse_xml(xml)
    if root is None:
        return []
    urls: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local(element.tag)
        if name == "item":  # RSS 2.0 and RSS 1.0
            link = _child(element, "link")
            href = (link.text or "").strip() if link is not None else ""
            if not href:
                guid = _child(element, "guid")
                if guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
                    href = (guid.text or "").strip()
            if not href:
                href = element.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about") or ""
        elif name == "entry":  # Atom
            href = _atom_link(element)
        else:
            continue
        entry_base = element.base or base
        url = normalise_url(href, entry_base) if href else None
        if url and url not in urls:
            urls.append(url)
    return urls


def document_kind(xml: str | bytes) -> str | None:
    """``"rss"``, ``"atom"``, ``"sitemap"`` or ``"sitemap index"`` by the document's root element
    (recovering from small XML errors, as the parsers do); None for anything else, HTML included."""
    root = _parse_xml(xml)
    return DOCUMENT_KINDS.get(_local(root.tag)) if root is not None else None


# libxml2's names for the commonest feed error (a bare "&" in a title or URL), said plainly.
_XML_JARGON = {
    "xmlParseEntityRef: no name": "a bare & (it must be written &amp;)",
    "EntityRef: expecting ';'": "an & that does not start an entity (it must be written &amp;)",
}


def xml_problem(xml: str | bytes) -> str | None:
    """Why ``xml`` is not well-formed XML, in one line with its place (None when it is). The parsers
    recover from such errors; this says why a document that yielded nothing could not be read."""
    data = _xml_bytes(xml)
    if not data.strip():
        return "the document is empty"
    try:
        etree.fromstring(data, parser=_STRICT_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        message = " ".join(str(exc.msg or exc).split())[:200]  # libxml2's words, with line and column
        for jargon, words in _XML_JARGON.items():
            message = message.replace(jargon, words)
        return message
    return None


def feed_links(html: str, base: str) -> list[str]:
    """Feeds a page announces: ``<link rel="alternate" type="application/rss+xml|atom+xml" href>``."""
    root = _parse_html(html)
    if root is None:
        return []
    base = _base_href(root, base)
    urls: list[str] = []
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and link.get("href"):
            url = normalise_url(link.get("href"), base)
            if url and url not in urls:
                urls.append(url)
    return urls


def same_site_links(
    html: str, base: str, *, skip_extensions: frozenset[str] = NON_PAGE_EXTENSIONS
) -> list[str]:
    """Normalised http(s) links (``<a>``/``<area href>``) to the same site as ``base``, in page order.

    Same site: the same host, ignoring a leading ``www.``. Fragments are dropped, so ``page#a`` and
    ``page#b`` are one URL; links to obvious non-pages (images, PDFs, archives) are skipped.
    """
    root = _parse_html(html)
    if root is None:
        return []
    page_base = _base_href(root, base)
    urls: list[str] = []
    seen: set[str] = set()
    for element in root.iter("a", "area"):
        href = element.get("href")
        if not href or href.strip().lower().startswith(("javascript:", "mailto:", "tel:", "data:")):
            continue
        url = normalise_url(href, page_base)
        if url is None or url in seen or not same_site(url, base):
            continue
        path = urlsplit(url).path.lower()
        if any(path.endswith(ext) for ext in skip_extensions):
            continue
        seen.add(url)
        urls.append(url)
    return urls


def gunzip_capped(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Gunzip ``data`` but stop at ``limit`` bytes of output (a gzip bomb must not fill memory)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        return b""
    return out


def is_gzip(data: bytes) -> bool:
    return data[:2] == b"\x1f\x8b"


# --------------------------------------------------------------------------------------------------
# the crawler


@dataclass
class CrawlReport:
    """What a crawl did besides yielding pages, for the task's log and the user."""

    fetched: int = 0
    pages: int = 0
    disallowed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


class Crawler:
    """Breadth-first crawl of one site; each URL is fetched at most once.

    ``fetch_fn(url) -> FetchedPage`` does the fetching (it should accept HTML, XML and gzip types, e.g.
    ``fetch(url, options=replace(opts, accepted_types=CRAWL_TYPES))``) and raises ``FetchError`` on
    failure. ``robots`` answers ``allowed(url, user_agent)`` and, optionally, ``sitemaps(url)`` and
    ``crawl_delay(url, user_agent)``. ``rate_limiter`` has ``wait(url, min_interval=None)``.

    ``max_depth`` counts link hops from the start page (sitemap and feed entries are one hop);
    ``max_pages`` caps the HTML pages yielded and ``max_fetches`` every request, sitemaps included.
    """

    def __init__(
        self,
        fetch_fn: Callable[[str], object],
        robots=None,
        rate_limiter=None,
        *,
        user_agent: str | None = None,
        max_depth: int = 2,
        max_pages: int = 100,
        max_fetches: int | None = None,
        use_sitemaps: bool = True,
        use_feeds: bool = True,
    ):
        self.fetch_fn = fetch_fn
        self.robots = robots
        self.rate_limiter = rate_limiter
        self.user_agent = user_agent
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.max_fetches = max_fetches if max_fetches is not None else max(10, max_pages * 3)
        self.use_sitemaps = use_sitemaps
        self.use_feeds = use_feeds
        self.report = CrawlReport()
        self._seen: set[str] = set()

    def crawl(self, start_url: str) -> Iterator[tuple[str, object]]:
        """Yield ``(url, FetchedPage)`` for each HTML page reached, breadth first."""
        start = normalise_url(start_url)
        if start is None:
            raise ValueError(f"not an http(s) URL: {start_url}")
        self.report = CrawlReport()
        self._seen = set()
        queue: deque[tuple[str, int]] = deque()
        self._enqueue(queue, start, 0, start)
        if self.use_sitemaps:
            for url in self._sitemap_pages(start):
                self._enqueue(queue, url, 1, start)
        while queue and self.report.pages < self.max_pages and self.report.fetched < self.max_fetches:
            url, depth = queue.popleft()
            page = self._get(url)
            if page is None:
                continue
            final = normalise_url(page.final_url) or url
            if final != url:
                if final in self._seen or not same_site(final, start):
                    continue  # a redirect to a page we have (or will have), or off the site
                self._seen.add(final)
            if page.content_type not in HTML_TYPES:
                continue
            self.report.pages += 1
            yield url, page
            if depth >= self.max_depth:
                continue
            if self.use_feeds and depth == 0:
                for feed in feed_links(page.text, final)[:MAX_FEEDS]:
                    for entry in self._feed_entries(feed, start):
                        self._enqueue(queue, entry, depth + 1, start)
            for link in same_site_links(page.text, final):
                self._enqueue(queue, link, depth + 1, start)

    # ----------------------------------------------------------------------------------------------

    def _enqueue(self, queue: deque, url: str, depth: int, start: str) -> None:
        if url in self._seen or not same_site(url, start) or depth > self.max_depth:
            return
        self._seen.add(url)
        queue.append((url, depth))

    def _allowed(self, url: str) -> bool:
        if self.robots is None:
            return True
        if self.robots.allowed(url, self.user_agent):
            return True
        self.report.disallowed.append(url)
        return False

    def _get(self, url: str):
        """Fetch ``url`` politely (robots, rate); None when disallowed or failed."""
        if self.report.fetched >= self.max_fetches or not self._allowed(url):
            return None
        if self.rate_limiter is not None:
            delay = None
            if self.robots is not None and hasattr(self.robots, "crawl_delay"):
                delay = self.robots.crawl_delay(url, self.user_agent)
            self.rate_limiter.wait(url, delay)
        self.report.fetched += 1
        try:
            return self.fetch_fn(url)
        except FetchError as exc:  # one bad URL must not end the crawl
            log.info("crawl: %s", exc)
            self.report.errors.append((url, str(exc)))
            return None

    def _sitemap_pages(self, start: str) -> list[str]:
        candidates = [normalise_url("/sitemap.xml", start)]
        if self.robots is not None and hasattr(self.robots, "sitemaps"):
            candidates = [normalise_url(u) for u in self.robots.sitemaps(start)] + candidates
        todo = deque(u for u in dict.fromkeys(candidates) if u)
        done: set[str] = set()
        pages: list[str] = []
        while todo and len(done) < MAX_SITEMAPS:
            url = todo.popleft()
            if url in done:
                continue
            done.add(url)
            page = self._get(url)
            if page is None:
                continue
            self.report.sitemaps.append(url)
            body = document_payload(page)
            found, subs = parse_sitemap(body, page.final_url)
            pages.extend(u for u in found if same_site(u, start))
            todo.extend(s for s in subs if s not in done)
        return pages

    def _feed_entries(self, feed: str, start: str) -> list[str]:
        if feed in self._seen:
            return []
        self._seen.add(feed)
        page = self._get(feed)
        if page is None:
            return []
        self.report.feeds.append(feed)
        return [u for u in parse_feed(document_payload(page), page.final_url) if same_site(u, start)]


# --------------------------------------------------------------------------------------------------
# helpers


def document_payload(page) -> bytes | str:
    """The document inside a fetched sitemap or feed: raw bytes (gunzipped) when there are any."""
    body = getattr(page, "body", b"") or b""
    if body:
        return gunzip_capped(body) if is_gzip(body) else body
    return page.text


def _xml_bytes(xml: str | bytes) -> bytes:
    if isinstance(xml, str):
        # lxml refuses str input that carries an encoding declaration; the text is decoded already.
        return _XML_DECL_RE.sub("", xml, count=1).encode("utf-8")
    return xml


def _parse_xml(xml: str | bytes):
    data = _xml_bytes(xml)
    if not data.strip() or not data.lstrip().startswith(b"<"):
        return None
    try:
        root = etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None
    return root


def _text_sitemap(text: str | bytes, base: str | None) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    urls: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.lower().startswith(("http://", "https://")):
            url = normalise_url(line, base)
            if url and url not in urls:
                urls.append(url)
    return urls


def _local(tag: str) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child(element, name: str):
    for child in element:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    return None


def _atom_link(entry) -> str:
    fallback = ""
    for child in entry:
        if not isinstance(child.tag, str) or _local(child.tag) != "link":
            continue
        rel = (child.get("rel") or "alternate").lower()
        kind = (child.get("type") or "text/html").lower()
        href = (child.get("href") or "").strip()
        if rel == "alternate" and href and ("html" in kind):
            return href
        if rel == "alternate" and href and not fallback:
            fallback = href
    return fallback


def _parse_html(html: str | bytes):
    data = html.encode("utf-8", errors="replace") if isinstance(html, str) else html
    if not data.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _base_href(root, url: str) -> str:
    base = root.find(".//base[@href]")
    if base is not None:
        return urljoin(url, base.get("href").strip())
    return url


__all__ = [
    "Crawler",
    "CrawlReport",
    "document_kind",
    "document_payload",
    "feed_links",
    "gunzip_capped",
    "normalise_url",
    "parse_feed",
    "parse_sitemap",
    "same_site",
    "same_site_links",
    "site_host",
    "xml_problem",
]
