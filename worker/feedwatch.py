"""A feed watch: read one RSS/Atom feed or sitemap of a suspect site and fetch only its new items.

A watch of kind "feed" runs often, and most runs find nothing new, so the feed is asked for with the
validators the last run stored (``If-None-Match`` / ``If-Modified-Since``): an unchanged feed answers
304 and the run costs that one small request. When it changed, the items not in ``seen`` (the URLs
already scanned) are fetched, politely and safely, in feed order.

Like :class:`worker.discover.Crawler`, nothing here does I/O of its own: ``fetch_page`` is
:func:`worker.fetch.fetch` with the crawler's options (URL guard, redirects checked hop by hop, size and
time caps), ``robots`` a :class:`worker.fetch.RobotsCache`, ``limiter`` a
:class:`worker.fetch.HostRateLimiter`. Item URLs come from the suspect site and are untrusted: each goes
through ``robots`` and ``fetch_page``, never a raw request.

The feed itself is fetched like a feed reader fetches it, without asking robots.txt first: a person
named it, and asking would double the cost of every unchanged run. Sub-sitemaps and items, which the
site names, obey robots.txt and its Crawl-delay.

The validators are stored only when every new item was dealt with: when ``max_items`` left items for
later, or an item failed in a way that may pass (timeout, 5xx), ``FeedRun.etag`` and
``FeedRun.last_modified`` are None, so the next run reads the feed in full and picks them up (the
items done are in ``seen`` by then) instead of being told "not modified" and losing them.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from checker.models import Watch
from checker.validate import column_length
from worker.discover import (
    MAX_SITEMAPS,
    document_kind,
    document_payload,
    feed_links,
    normalise_url,
    parse_feed,
    parse_sitemap,
    same_site,
    xml_problem,
)
from worker.fetch import PAGE_TYPES, FetchedPage, FetchError, TransientFetchError

log = logging.getLogger(__name__)

# Validators longer than their columns cannot be stored; such a one is dropped (the next run then
# fetches the feed in full), never cut, since a cut validator would never match.
ETAG_MAX_CHARS = column_length(Watch.etag)
LAST_MODIFIED_MAX_CHARS = column_length(Watch.last_modified)
FEED_KINDS = ("rss", "atom")


@dataclass
class FeedRun:
    """What one read of a feed did.

    ``not_modified``: the server answered 304 (nothing else was fetched). ``etag`` and
    ``last_modified`` are the validators to store for the next run (None: store none, read in full next
    time). ``pages`` are the new items fetched, ``(item_url, page)`` in feed order, HTML or plain-text
    pages only. ``error`` says in plain words why the feed itself could not be fetched or read;
    ``errors`` lists ``(url, reason)`` for sub-sitemaps and items that failed, ``disallowed`` the
    items robots.txt forbids. ``kind`` is "rss", "atom", "sitemap", "sitemap index" or "text sitemap";
    ``items`` counts the item URLs the feed listed, ``new`` those not in ``seen``, ``left_over`` the new
    ones left for the next run by ``max_items``, and ``requests`` the fetches made (robots.txt aside).
    """

    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    pages: list[tuple[str, FetchedPage]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    disallowed: list[str] = field(default_factory=list)
    kind: str | None = None
    items: int = 0
    new: int = 0
    left_over: int = 0
    requests: int = 0


def read_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    seen: Collection[str] = frozenset(),
    max_items: int = 50,
    fetch_page: Callable[..., FetchedPage],
    robots=None,
    limiter=None,
    user_agent: str | None = None,
) -> FeedRun:
    """Read the feed or sitemap at ``url`` and fetch its items not in ``seen`` (at most ``max_items``).

    ``fetch_page(url, etag=None, last_modified=None) -> FetchedPage`` raises ``FetchError``; it must
    accept XML and gzip (``worker.fetch.CRAWL_TYPES``) as well as pages. ``robots`` answers
    ``allowed(url, user_agent)`` and optionally ``crawl_delay(url, user_agent)`` and
    ``unreachable(url)``; ``limiter`` has ``wait(url, min_interval=None)``. Both may be None (tests).
    """
    reader = _Reader(fetch_page, robots, limiter, user_agent)
    run = reader.run
    run.etag, run.last_modified = etag, last_modified  # kept as they were when the feed fails
    feed_url = normalise_url(url)
    if feed_url is None:
        run.error = f"the feed address is not an http(s) URL: {url}"
        return run
    if limiter is not None:
        limiter.wait(feed_url)  # no Crawl-delay lookup: it would cost a robots.txt request every run
    run.requests += 1
    try:
        page = fetch_page(feed_url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        run.error = f"the feed could not be fetched: {exc}"
        return run
    if page.not_modified:
        run.not_modified = True
        run.etag, run.last_modified = _storable(page)
        return run
    items = reader.items(feed_url, page)
    if items is None:
        return run  # reader.items set run.error
    reader.fetch_items(feed_url, items, seen, max_items)
    complete = not run.left_over and not reader.retry_later
    run.etag, run.last_modified = _storable(page) if complete else (None, None)
    return run


class _Reader:
    """One run's state: the politeness around each fetch and what happened."""

    def __init__(self, fetch_page, robots, limiter, user_agent):
        self.fetch_page = fetch_page
        self.robots = robots
        self.limiter = limiter
        self.user_agent = user_agent
        self.run = FeedRun()
        self.retry_later = False  # something failed that may pass: do not store the validators

    def items(self, feed_url: str, page: FetchedPage) -> list[str] | None:
        """The item URLs of the fetched feed (reading sub-sitemaps of an index); None and
        ``run.error`` when the document is not a feed or sitemap."""
        run = self.run
        payload = document_payload(page)
        kind = document_kind(payload)
        pages: list[str] = []
        if kind is None and _looks_like_text(payload):
            pages, _ = parse_sitemap(payload, page.final_url)  # one URL a line
            kind = "text sitemap" if pages else None
        if kind is None:
            run.error = _not_a_feed(feed_url, page, payload)
            return None
        run.kind = kind
        if kind in FEED_KINDS:
            urls = parse_feed(payload, page.final_url)
        elif kind == "text sitemap":
            urls = pages
        else:
            urls = self._sitemap_pages(feed_url, page, payload)
        if not urls and kind != "text sitemap":
            problem = xml_problem(payload)
            if problem:
                run.error = f"the feed at {feed_url} could not be read: its XML is malformed ({problem})"
                return None
        run.items = len(urls)
        return urls

    def _sitemap_pages(self, feed_url: str, page: FetchedPage, payload) -> list[str]:
        """The page URLs of a sitemap, or of the sitemaps a sitemap index names (on the same site,
        at most MAX_SITEMAPS read in all)."""
        pages, subs = parse_sitemap(payload, page.final_url)
        todo = deque(subs)
        done = {feed_url}
        while todo and len(done) < MAX_SITEMAPS:
            sub = todo.popleft()
            if sub in done:
                continue
            done.add(sub)
            if not same_site(sub, feed_url):
                self.run.errors.append((sub, f"{sub}: a sitemap on another site is not read"))
                continue
            sitemap = self._get(sub)
            if sitemap is None:
                continue
            found, more = parse_sitemap(document_payload(sitemap), sitemap.final_url)
            pages.extend(found)
            todo.extend(more)
        if any(sub not in done for sub in todo):
            self.retry_later = True  # sitemaps left unread: read the index in full next time
        return list(dict.fromkeys(pages))

    def fetch_items(self, feed_url: str, urls: list[str], seen: Collection[str], max_items: int) -> None:
        run = self.run
        known = {normalise_url(u) or u for u in seen}
        new = [u for u in dict.fromkeys(urls) if u not in known and u != feed_url]
        run.new = len(new)
        fetched = 0
        for index, url in enumerate(new):
            if fetched >= max_items:
                run.left_over = len(new) - index
                break
            if not self._allowed(url):
                continue
            fetched += 1
            page = self._fetch(url)
            if page is None:
                continue
            if page.content_type not in PAGE_TYPES:
                run.errors.append((url, f"{url} is not a web page (content type {page.content_type})"))
                continue
            final = normalise_url(page.final_url) or url
            if final != url and final in known:
                continue  # an old address of a page already scanned
            known.add(final)
            run.pages.append((url, page))

    # ----------------------------------------------------------------------------------------------

    def _allowed(self, url: str) -> bool:
        if self.robots is None or self.robots.allowed(url, self.user_agent):
            return True
        unreachable = self.robots.unreachable(url) if hasattr(self.robots, "unreachable") else None
        if unreachable:  # robots.txt could not be read: the address was refused, or the host is down
            self.run.errors.append((url, f"{url} could not be reached: {unreachable}"))
        else:
            self.run.disallowed.append(url)
        return False

    def _get(self, url: str) -> FetchedPage | None:
        return self._fetch(url) if self._allowed(url) else None

    def _fetch(self, url: str) -> FetchedPage | None:
        """Fetch ``url`` at the host's polite pace; None (and the reason in ``errors``) on failure."""
        if self.limiter is not None:
            delay = None
            if self.robots is not None and hasattr(self.robots, "crawl_delay"):
                delay = self.robots.crawl_delay(url, self.user_agent)
            self.limiter.wait(url, delay)
        self.run.requests += 1
        try:
            return self.fetch_page(url)
        except TransientFetchError as exc:
            self.retry_later = True
            self.run.errors.append((url, str(exc)))
        except FetchError as exc:  # one bad item must not end the run
            log.info("feed watch: %s", exc)
            self.run.errors.append((url, str(exc)))
        return None


def _storable(page: FetchedPage) -> tuple[str | None, str | None]:
    etag = page.etag if page.etag and len(page.etag) <= ETAG_MAX_CHARS else None
    modified = page.last_modified
    modified = modified if modified and len(modified) <= LAST_MODIFIED_MAX_CHARS else None
    return etag, modified


def _looks_like_text(payload: bytes | str) -> bool:
    head = payload[:64].lstrip()
    if isinstance(head, bytes):
        return bool(head) and not head.startswith(b"<")
    return bool(head) and not head.startswith("<")


def _not_a_feed(feed_url: str, page: FetchedPage, payload: bytes | str) -> str:
    """Why the document is not read, in plain words; a web page that announces a feed names it."""
    message = f"{feed_url} is not an RSS/Atom feed or a sitemap"
    if page.is_html:
        announced = feed_links(page.text, page.final_url)
        if announced:
            return f"{message}: it is a web page; the feed it announces is {announced[0]}"
        return f"{message}: it is a web page"
    problem = xml_problem(payload) if not _looks_like_text(payload) else None
    if problem:
        return f"{message}: its XML is malformed ({problem})"
    return message


__all__ = ["FeedRun", "read_feed"]
