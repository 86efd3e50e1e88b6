"""Web search providers for discovery, behind one small interface, with a daily budget and a cache.

Providers (configured by :class:`checker.settings.Settings`; docs/discovery.md):

- **SearXNG** (``searxng_url``), a self-hosted open-source metasearch engine: ``GET {url}/search?q=..
  &format=json``, results in ``results[].url``. The instance must allow the JSON format
  (``search: formats: [html, json]`` in its settings.yml), or it answers 403.
- **Brave Search API** (``brave_api_key``): ``GET {brave_url}?q=..`` with the key in the
  ``X-Subscription-Token`` header, results in ``web.results[].url``. It answers 429 past the plan's
  per-second or monthly limit, with ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (one value per
  window, per second first: ``1, 1000``) saying what is left and when it comes back.

The provider endpoints are operator settings (like the alert webhook, :mod:`worker.alerts`), so they
are not put through the URL guard. The result URLs are untrusted: nothing here fetches them; they
are scanned through the ordinary scan path (:mod:`worker.dispatch`: URL guard, robots.txt, size
limits).

Every query sent is a :class:`checker.models.SearchQuery` row: the day's usage against
``search_daily_budget`` (per provider, per UTC day, failed queries included, so a broken provider
cannot be hammered), and the cache: a phrase a provider answered within ``search_repeat_days`` is not
sent to it again, for any organisation (the web's answer does not depend on who asks); its stored
result URLs are used instead. A failed query is not a cached answer: the next run sends it again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Protocol

import urllib3
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checker.errors import CheckerError
from checker.models import SearchQuery
from checker.phrases import phrase_key
from checker.scans import readable_error
from checker.settings import Settings

LOGGER = logging.getLogger(__name__)

SEARXNG, BRAVE = "searxng", "brave"
PROVIDERS = (SEARXNG, BRAVE)
TIMEOUT_S = 20.0
# A result page is a few tens of kilobytes of JSON; anything far larger is not an answer.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
# Result URLs kept per query: an exact-phrase query's copies are on its first page, and each kept
# URL costs a fetch. Brave's ``count`` takes at most 20.
MAX_RESULTS = 20
# Brave's free plan allows one request per second; paid plans more. One second between requests from
# this process keeps every plan under its per-second limit.
BRAVE_MIN_INTERVAL_S = 1.0
# A 429 (or an exhausted per-second window) asking to wait at most this long is waited for, once;
# a longer wait ends the provider's part of the run with the reason.
MAX_WAIT_S = 5.0
USER_AGENT = "reuse-checker-discovery/0.1"


class SearchError(CheckerError):
    """A query failed; the message is a complete sentence for the operator (it is stored on the row)."""


class RateLimited(SearchError):
    """The provider refuses more queries for now (429, or its quota is used up): stop asking it in
    this run. ``retry_after``: seconds until it accepts queries again, when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SearchProvider(Protocol):
    """A web search engine: the URLs of the pages it finds for an exact phrase."""

    name: str

    def search(self, phrase: str) -> list[str]:
        """Result URLs for ``phrase`` as an exact-phrase query, best first; raises SearchError."""
        ...


def exact(phrase: str) -> str:
    """The query for ``phrase`` word for word (both providers pass the quoted form on)."""
    return f'"{phrase}"'


def _get_json(
    url: str, fields: dict[str, str], headers: dict[str, str], who: str
) -> tuple[object, urllib3.BaseHTTPResponse]:
    """GET ``url`` with ``fields`` as its query string and read at most MAX_RESPONSE_BYTES of JSON.
    Returns the decoded value and the response (for its status and headers); raises SearchError for
    a network error, an answer too large or one that is not JSON. The status is the caller's."""
    http = urllib3.PoolManager(timeout=urllib3.Timeout(total=TIMEOUT_S), retries=False)
    try:
        response = http.request(
            "GET",
            url,
            fields=fields,
            headers={"User-Agent": USER_AGENT, **headers},
            redirect=False,
            preload_content=False,
        )
        try:
            body = response.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise SearchError(f"{who} could not be reached: {exc}") from None
    finally:
        http.clear()
    if len(body) > MAX_RESPONSE_BYTES:
        raise SearchError(
            f"{who} answered more than {MAX_RESPONSE_BYTES // 1024 // 1024} MB (status "
            f"{response.status}); that is not a result page"
        )
    if response.status >= 300:  # no redirects from an API; the caller words the status
        return None, response
    try:
        return json.loads(body.decode("utf-8")), response
    except (UnicodeDecodeError, ValueError):
        preview = " ".join(body[:80].decode("utf-8", "replace").split())
        raise SearchError(
            f"{who} answered {response.status} with something that is not JSON ({preview!r}…)"
        ) from None


def _urls(items: object, who: str) -> list[str]:
    """The ``url`` of each result object, http(s) only, first occurrence only, at most MAX_RESULTS."""
    if not isinstance(items, list):
        raise SearchError(f"{who} answered JSON without a list of results")
    out: list[str] = []
    for item in items:
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")) and url not in out:
            out.append(url)
            if len(out) >= MAX_RESULTS:
                break
    return out


def _seconds(value: str | None) -> float | None:
    """A Retry-After in seconds (HTTP dates are not used by these providers), or None."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _windows(value: str | None) -> list[float]:
    """``X-RateLimit-*`` values, one per window ("1, 1000" -> [1.0, 1000.0])."""
    out = []
    for part in (value or "").split(","):
        try:
            out.append(float(part.strip()))
        except ValueError:
            pass
    return out


class SearxngProvider:
    """A SearXNG instance's JSON API."""

    name = SEARXNG

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def search(self, phrase: str) -> list[str]:
        data, response = _get_json(
            f"{self.base_url}/search", {"q": exact(phrase), "format": "json"}, {}, "SearXNG"
        )
        if response.status == 403:
            raise SearchError(
                "SearXNG refused the JSON format (403): allow it in the instance's settings.yml "
                "(search: formats: [html, json])"
            )
        if response.status == 429:
            raise RateLimited(
                "SearXNG is rate limiting this client (429): turn its limiter off for this "
                "server, or lower CHECKER_SEARCH_DAILY_BUDGET",
                _seconds(response.headers.get("Retry-After")),
            )
        if response.status != 200:
            raise SearchError(f"SearXNG answered {response.status}")
        if not isinstance(data, dict):
            raise SearchError("SearXNG answered JSON that is not a result page")
        return _urls(data.get("results"), "SearXNG")


_brave_lock = threading.Lock()
_brave_next = 0.0  # monotonic time before which this process sends no Brave request


class BraveProvider:
    """The Brave Search API (web search)."""

    name = BRAVE

    def __init__(self, api_key: str, url: str) -> None:
        self.api_key, self.url = api_key, url

    def search(self, phrase: str) -> list[str]:
        for attempt in (1, 2):
            _brave_wait()
            data, response = _get_json(
                self.url,
                {"q": exact(phrase), "count": str(MAX_RESULTS)},
                {"X-Subscription-Token": self.api_key, "Accept": "application/json"},
                "Brave Search",
            )
            wait = self._rate_state(response)
            if response.status == 429:
                if attempt == 1 and wait is not None and wait <= MAX_WAIT_S:
                    _brave_hold(wait)
                    continue
                raise RateLimited(
                    "Brave Search refused the query: the plan's rate limit or monthly quota "
                    "is used up (429)" + (f"; it accepts queries again in {wait:.0f} s" if wait else ""),
                    wait,
                )
            break
        if response.status in (401, 403):
            raise SearchError(
                f"Brave Search refused the API key ({response.status}): check CHECKER_BRAVE_API_KEY"
            )
        if response.status != 200:
            raise SearchError(f"Brave Search answered {response.status}")
        if not isinstance(data, dict):
            raise SearchError("Brave Search answered JSON that is not a result page")
        web = data.get("web")
        return _urls(web.get("results", []) if isinstance(web, dict) else [], "Brave Search")

    @staticmethod
    def _rate_state(response) -> float | None:
        """Seconds to wait before the next request, from Retry-After or the X-RateLimit-* headers
        (the soonest window with nothing remaining); holds this process's requests until then."""
        wait = _seconds(response.headers.get("Retry-After"))
        remaining = _windows(response.headers.get("X-RateLimit-Remaining"))
        reset = _windows(response.headers.get("X-RateLimit-Reset"))
        empty = [r for left, r in zip(remaining, reset) if left <= 0]
        if wait is None and empty:
            wait = max(empty) if response.status == 429 else min(empty)
        if wait is not None and response.status != 429:
            _brave_hold(min(wait, MAX_WAIT_S))
        return wait


def _brave_wait() -> None:
    """Keep BRAVE_MIN_INTERVAL_S between this process's Brave requests."""
    global _brave_next
    with _brave_lock:
        delay = _brave_next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        _brave_next = time.monotonic() + BRAVE_MIN_INTERVAL_S


def _brave_hold(seconds: float) -> None:
    global _brave_next
    with _brave_lock:
        _brave_next = max(_brave_next, time.monotonic() + seconds)


def providers(settings: Settings) -> list[SearchProvider]:
    """The providers ``settings`` configure, in a fixed order (SearXNG first: it costs nothing)."""
    out: list[SearchProvider] = []
    if settings.searxng_url:
        out.append(SearxngProvider(settings.searxng_url))
    if settings.brave_api_key:
        out.append(BraveProvider(settings.brave_api_key, settings.brave_url))
    return out


def configured(settings: Settings, name: str) -> bool:
    return (
        bool(settings.searxng_url)
        if name == SEARXNG
        else bool(settings.brave_api_key)
        if name == BRAVE
        else False
    )


@dataclass(frozen=True)
class Usage:
    """A provider's use today (UTC), for the monitoring page."""

    provider: str
    configured: bool
    used_today: int
    budget: int


def day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: budgets are per UTC day."""
    return datetime.combine(now.astimezone(UTC).date(), dtime.min, tzinfo=UTC)


def used_today(session: Session, provider: str, now: datetime | None = None) -> int:
    """Queries sent to ``provider`` since midnight UTC (failed ones included)."""
    now = now or datetime.now(UTC)
    return (
        session.scalar(
            select(func.count())
            .select_from(SearchQuery)
            .where(SearchQuery.provider == provider, SearchQuery.queried_at >= day_start(now))
        )
        or 0
    )


def usage_today(session: Session, settings: Settings, now: datetime | None = None) -> list[Usage]:
    """Every known provider: whether it is configured, queries sent today (UTC) and the daily budget."""
    return [
        Usage(name, configured(settings, name), used_today(session, name, now), settings.search_daily_budget)
        for name in PROVIDERS
    ]


def cached_result(session: Session, provider: str, key: str, since: datetime) -> SearchQuery | None:
    """The newest answered query of the phrase ``key`` to ``provider`` since ``since``."""
    return session.scalars(
        select(SearchQuery)
        .where(
            SearchQuery.provider == provider,
            SearchQuery.phrase_key == key,
            SearchQuery.status == "done",
            SearchQuery.queried_at >= since,
        )
        .order_by(SearchQuery.queried_at.desc(), SearchQuery.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class QueryOutcome:
    """What became of one phrase at one provider: ``sent`` (answered now), ``cached`` (answered within
    the repeat period), ``budget`` (not sent: the day's budget is used), ``failed`` (sent, with the
    error), ``limited`` (sent and refused by the provider's rate limit); worker.discovery adds
    ``held`` (not sent: the provider refused an earlier query of the run)."""

    provider: str
    phrase: str
    status: str
    urls: tuple[str, ...] = ()
    error: str | None = None


def run_query(
    Session,
    provider: SearchProvider,
    phrase: str,
    settings: Settings,
    *,
    org_id: int | None,
    article_id: int | None,
    now: datetime | None = None,
) -> QueryOutcome:
    """Answer ``phrase`` at ``provider`` from the cache, or send it if the day's budget allows, and
    record what was sent. Concurrent runs may overshoot the budget by the queries in flight."""
    now = now or datetime.now(UTC)
    key = phrase_key(phrase)
    with Session() as session:
        hit = cached_result(session, provider.name, key, now - timedelta(days=settings.search_repeat_days))
        if hit is not None:
            return QueryOutcome(provider.name, phrase, "cached", tuple(hit.result_urls or ()))
        if used_today(session, provider.name, now) >= settings.search_daily_budget:
            return QueryOutcome(provider.name, phrase, "budget")
    status, urls, error, limited = "done", [], None, False
    try:
        urls = provider.search(phrase)
    except SearchError as exc:
        status, error, limited = "failed", readable_error(str(exc)), isinstance(exc, RateLimited)
    except Exception as exc:  # a provider's bug must not stop discovery; the log has it
        LOGGER.exception("search at %s failed", provider.name)
        status, error = "failed", readable_error(f"internal error: {type(exc).__name__}: {exc}")
    with Session.begin() as session:
        session.add(
            SearchQuery(
                org_id=org_id,
                article_id=article_id,
                provider=provider.name,
                phrase_key=key,
                phrase=phrase,
                status=status,
                result_urls=urls if status == "done" else None,
                error=error,
                queried_at=now,
            )
        )
    if status == "done":
        return QueryOutcome(provider.name, phrase, "sent", tuple(urls))
    return QueryOutcome(provider.name, phrase, "limited" if limited else "failed", error=error)
