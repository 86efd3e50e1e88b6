"""Celery tasks of discovery (worker.discovery): one article, or the articles that are due.

``discover_due`` is what the scheduler calls every tick (Celery beat with a broker, the embedded
scheduler without one); ``discover_article`` runs one article, e.g. right after it is registered.
Both take ids and load everything through :func:`worker.context.registry`.
"""

from __future__ import annotations

import logging

from celery import shared_task

from checker.errors import NotFound
from worker import context, discovery, search

LOGGER = logging.getLogger(__name__)

# Articles searched per tick: with 3 phrases and 2 providers that is at most 120 queries a minute,
# and the daily budget stops it long before the provider's own limits would.
DUE_PER_TICK = 20


@shared_task(name="worker.discovery_tasks.discover_article")
def discover_article(article_id: int) -> dict:
    """Search the web for copies of one article and queue scans of what is found; a summary."""
    registry = context.registry()
    if not search.providers(registry.settings):
        return {"article_id": article_id, "skipped": discovery.NO_PROVIDER}
    try:
        run = discovery.discover(registry, article_id, registry.settings)
    except NotFound as exc:  # deleted since it was queued
        return {"article_id": article_id, "skipped": str(exc)}
    return {
        "article_id": article_id,
        "phrases": len(run.phrases),
        "sent": run.queries_sent,
        "cached": run.queries_cached,
        "over_budget": run.queries_over_budget,
        "failed": run.queries_failed,
        "urls_found": run.urls_found,
        "scans_started": run.scans_started,
        "errors": run.errors,
    }


@shared_task(name="worker.discovery_tasks.discover_due")
def discover_due() -> int:
    """Search the due articles (at most DUE_PER_TICK); the number searched. Nothing, and 0, when no
    provider is configured. The tick stops at the first article no provider answered (the budget is
    used up, or the providers are down): the next articles would fare no better."""
    registry = context.registry()
    settings = registry.settings
    if not search.providers(settings):
        return 0
    with registry.Session() as session:
        ids = discovery.due_articles(session, settings, limit=DUE_PER_TICK)
    searched = 0
    for article_id in ids:
        try:
            run = discovery.discover(registry, article_id, settings)
        except NotFound:
            continue
        if run.searched:
            searched += 1
        else:
            LOGGER.info("discovery paused until the next tick: %s", "; ".join(run.errors) or run.summary())
            break
    return searched
