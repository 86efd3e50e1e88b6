"""Discovery: search the web for an article's distinctive phrases and scan the pages found.

For one article (:func:`discover`): pick a few phrases (:func:`checker.phrases.pick_phrases`), ask
every configured provider for each (:mod:`worker.search`: the daily budget and the cache decide what
is really sent), and queue a scan with ``source="discovery"`` for each result page that is worth one.
Not worth one: the publisher's own pages (the article's host, the hosts of the organisation's other
articles, a publisher named by its domain), a licensed partner's (``Article.partners``, which the
verdict would call licensed anyway), the organisation's excluded sources, a URL found twice, and a
URL this organisation scanned within ``search_repeat_days``. What is skipped is reported with why.

Result URLs are untrusted: they are only stored as scans and fetched by the scan task, through the URL
guard, robots.txt and the size limits like every other fetch. New unattributed matches of those scans
raise alerts ("discovery" is one of worker.tasks.ALERTING_SOURCES).

Which articles are due (:func:`due_articles`): those never searched, newest first, then those searched
longer than ``rediscover_days`` ago, oldest first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from checker import scans
from checker.attribution import host_of, host_within
from checker.errors import CheckerError, InputError, NotFound
from checker.match_options import source_covers
from checker.models import Article, Organisation, Scan, same_org
from checker.phrases import pick_phrases
from checker.registry import Registry
from checker.settings import Settings
from checker.validate import http_url
from worker import search

LOGGER = logging.getLogger(__name__)

# Scans queued per article and run: an exact-phrase search finds few pages; a flood of results means
# the phrases were common, and each scan costs a fetch.
MAX_SCANS_PER_RUN = 50


class NoProvider(CheckerError):
    """No search provider is configured."""


NO_PROVIDER = (
    "no web search provider is configured: set CHECKER_SEARXNG_URL (a SearXNG instance) or "
    "CHECKER_BRAVE_API_KEY (Brave Search API); see docs/discovery.md"
)


@dataclass
class DiscoveryRun:
    """What one discovery run of one article did."""

    article_id: int
    phrases: list[str] = field(default_factory=list)
    queries: list[search.QueryOutcome] = field(default_factory=list)
    urls_found: int = 0  # distinct result URLs
    scan_ids: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why it was not scanned)
    searched: bool = False  # every phrase was answered or tried: Article.discovered_at was set

    def _count(self, status: str) -> int:
        return sum(1 for q in self.queries if q.status == status)

    @property
    def queries_sent(self) -> int:
        """Queries sent to a provider in this run (answered or not)."""
        return self._count("sent") + self._count("failed") + self._count("limited")

    @property
    def queries_cached(self) -> int:
        return self._count("cached")

    @property
    def queries_over_budget(self) -> int:
        return self._count("budget")

    @property
    def queries_failed(self) -> int:
        """Sent and not answered (an error, or the provider's rate limit)."""
        return self._count("failed") + self._count("limited")

    @property
    def queries_held(self) -> int:
        """Not sent: the provider refused more queries earlier in this run (its rate limit)."""
        return self._count("held")

    @property
    def scans_started(self) -> int:
        return len(self.scan_ids)

    @property
    def errors(self) -> list[str]:
        """The providers' errors, each once, in order."""
        out: list[str] = []
        for q in self.queries:
            if q.error and q.error not in out:
                out.append(q.error)
        return out

    def summary(self) -> str:
        """One line for the CLI and the log."""
        parts = [
            f"article {self.article_id}: {len(self.phrases)} phrase(s)",
            f"{self.queries_sent} query(ies) sent",
            f"{self.queries_cached} cached",
        ]
        if self.queries_over_budget:
            parts.append(f"{self.queries_over_budget} not sent (daily budget used up)")
        if self.queries_failed:
            parts.append(f"{self.queries_failed} failed")
        if self.queries_held:
            parts.append(f"{self.queries_held} not sent (rate limited)")
        parts += [f"{self.urls_found} URL(s) found", f"{self.scans_started} scan(s) started"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} URL(s) skipped")
        return ", ".join(parts)


def discover(
    registry: Registry, article_id: int, settings: Settings | None = None, *, now: datetime | None = None
) -> DiscoveryRun:
    """Search the web for copies of article ``article_id`` and queue scans of the pages found (see the
    module docstring). Raises NoProvider when no provider is configured, NotFound for no such article."""
    settings = settings or registry.settings
    providers = search.providers(settings)
    if not providers:
        raise NoProvider(NO_PROVIDER)
    now = now or datetime.now(UTC)
    with registry.Session() as session:
        article = session.get(Article, article_id)
        if article is None:
            raise NotFound(f"no article with id {article_id}")
        org_id, text = article.org_id, article.text
    run = DiscoveryRun(article_id, phrases=pick_phrases(text, settings.discovery_phrases))
    for provider in providers:
        stopped: str | None = None  # the provider refused more queries in this run: why
        for phrase in run.phrases:
            if stopped:
                run.queries.append(search.QueryOutcome(provider.name, phrase, "held", error=stopped))
                continue
            outcome = search.run_query(
                registry.Session, provider, phrase, settings, org_id=org_id, article_id=article_id, now=now
            )
            run.queries.append(outcome)
            if outcome.status == "limited":
                stopped = outcome.error
    found = _distinct(u for q in run.queries for u in q.urls)
    run.urls_found = len(found)
    with registry.Session() as session:
        to_scan, run.skipped = _worth_scanning(session, article_id, found, settings, now)
    answered = any(q.status in ("sent", "cached") for q in run.queries)
    waiting = any(q.status in ("budget", "limited", "held") for q in run.queries)
    run.searched = not run.phrases or (answered and not waiting)
    if run.searched:
        with registry.Session.begin() as session:
            row = session.get(Article, article_id)
            if row is not None:
                row.discovered_at = now
    if to_scan:
        run.scan_ids = _start_scans(registry, to_scan, org_id)
    LOGGER.info("discovery: %s", run.summary())
    return run


def _distinct(urls) -> list[str]:
    seen: dict[str, None] = {}
    for url in urls:
        seen.setdefault(url.split("#", 1)[0], None)
    return list(seen)


def _worth_scanning(
    session: Session, article_id: int, urls: list[str], settings: Settings, now: datetime
) -> tuple[list[str], list[tuple[str, str]]]:
    """``(to scan, [(url, why not)])`` of the result ``urls`` of article ``article_id``."""
    article = session.get(Article, article_id)
    if article is None:  # deleted while the searches ran
        raise NotFound(f"no article with id {article_id}")
    org = session.get(Organisation, article.org_id) if article.org_id is not None else None
    own = _OwnHosts(session, article)
    excluded = list((org.excluded_sources if org is not None else None) or [])
    recent = _recently_scanned(
        session, article.org_id, urls, now - timedelta(days=settings.search_repeat_days)
    )
    keep: list[str] = []
    skipped: list[tuple[str, str]] = []
    for url in urls:
        try:
            url = http_url(url, "result URL")
        except InputError as exc:
            skipped.append((url, str(exc)))
            continue
        host = host_of(url)
        why = None
        if (site := own.covering(host)) is not None:
            why = f"the publisher's own site ({site})"
        elif (partner := next((p for p in article.partners or () if host_within(host, p)), None)) is not None:
            why = f"a licensed partner ({partner})"
        elif (entry := next((e for e in excluded if source_covers(e, url)), None)) is not None:
            why = f"an excluded source of the organisation ({entry})"
        elif url in recent:
            why = f"scanned for this organisation on {recent[url]:%Y-%m-%d}"
        elif len(keep) >= MAX_SCANS_PER_RUN:
            why = f"over the limit of {MAX_SCANS_PER_RUN} scans per article and run"
        if why:
            skipped.append((url, why))
        else:
            keep.append(url)
    return keep, skipped


class _OwnHosts:
    """The publisher's hosts: the article's, a publisher named by a domain ("Lingkar.co"), and those of
    the organisation's other articles, looked up per result host (an organisation may have a million
    articles; a run has a few dozen result hosts)."""

    def __init__(self, session: Session, article: Article) -> None:
        self.session, self.org_id = session, article.org_id
        self.known = {h for h in (host_of(article.url), _domain(article.publisher)) if h}
        self.answers: dict[str, str | None] = {}

    def covering(self, host: str | None) -> str | None:
        """The publisher's host that ``host`` is (or lies within), or None."""
        if not host:
            return None
        for known in self.known:
            if host_within(host, known):
                return known
        if host not in self.answers:
            self.answers[host] = self._lookup(host)
        return self.answers[host]

    def _lookup(self, host: str) -> str | None:
        labels = host.split(".")
        # The host and its parent domains of two labels or more ("news.pub.example", "pub.example").
        suffixes = [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))] or [host]
        for suffix in suffixes:
            like = [
                Article.url.icontains(f"://{prefix}{suffix}{end}", autoescape=True)
                for prefix in ("", "www.")
                for end in ("/", ":", "?")
            ]
            like.append(Article.url.iendswith(f"://{suffix}", autoescape=True))
            candidates = self.session.scalars(
                select(Article.url).where(same_org(Article.org_id, self.org_id), or_(*like)).limit(20)
            )
            for url in candidates:
                other = host_of(url)
                if other and host_within(host, other):
                    return other
        return None


def _domain(name: str | None) -> str | None:
    """``name`` as a host when it is written as a domain ("Lingkar.co"), else None."""
    name = (name or "").strip()
    if not name or " " in name or "." not in name.strip("."):
        return None
    return host_of(name)


def _recently_scanned(
    session: Session, org_id: int | None, urls: list[str], since: datetime
) -> dict[str, datetime]:
    """url -> when this organisation last scanned it (as submitted, or where it landed) since ``since``."""
    out: dict[str, datetime] = {}
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        rows = session.execute(
            select(Scan.url, Scan.final_url, Scan.created_at).where(
                same_org(Scan.org_id, org_id),
                Scan.created_at >= since,
                or_(Scan.url.in_(chunk), Scan.final_url.in_(chunk)),
            )
        )
        for url, final_url, created in rows:
            for u in (url, final_url):
                if u and (u not in out or out[u] < created):
                    out[u] = created
    return out


def _start_scans(registry: Registry, urls: list[str], org_id: int | None) -> list[int]:
    """Store the scans (source "discovery") in one transaction, then send them the fair way."""
    from worker import dispatch

    ids = scans.create_scans(
        registry.Session,
        [(None, u) for u in urls],
        org_id=org_id,
        source="discovery",
        label="URL",
        max_chars=registry.settings.max_text_chars,
    )
    dispatch.send_scans(ids)
    return ids


def due_articles(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    limit: int = 20,
    *,
    org_id: int | None = None,
) -> list[int]:
    """Ids of up to ``limit`` articles to search now: never searched (newest first), then searched more
    than ``rediscover_days`` ago (longest ago first; never again when it is 0). Every organisation's,
    or only ``org_id``'s."""
    now = now or datetime.now(UTC)
    mine = [Article.org_id == org_id] if org_id is not None else []
    ids = list(
        session.scalars(
            select(Article.id)
            .where(Article.discovered_at.is_(None), *mine)
            .order_by(Article.created_at.desc(), Article.id.desc())
            .limit(limit)
        )
    )
    if len(ids) < limit and settings.rediscover_days > 0:
        ids += session.scalars(
            select(Article.id)
            .where(Article.discovered_at < now - timedelta(days=settings.rediscover_days), *mine)
            .order_by(Article.discovered_at, Article.id)
            .limit(limit - len(ids))
        )
    return ids
