"""``checker discover``: search the web for copies of articles (worker.discovery), from the shell."""

from __future__ import annotations

import click

from checker.cli import Context, err, out, pass_ctx
from checker.errors import CheckerError
from checker.models import Article
from worker import context, discovery, search


@click.command()
@click.argument("article_ids", nargs=-1, type=int)
@click.option(
    "--due",
    is_flag=True,
    help="The articles that are due (never searched, or not for "
    "CHECKER_REDISCOVER_DAYS days), as the scheduler would take them.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="With --due: at most this many articles.",
)
@pass_ctx
def discover(c: Context, article_ids: tuple[int, ...], due: bool, limit: int) -> None:
    """Search the web for copies of ARTICLE_IDS (or of the due articles) and scan the pages found.

    Each article costs at most CHECKER_DISCOVERY_PHRASES queries per configured provider, once per
    CHECKER_SEARCH_REPEAT_DAYS (repeated phrases are answered from the cache)."""
    settings = c.settings
    if not search.providers(settings):
        raise CheckerError(discovery.NO_PROVIDER)
    if not article_ids and not due:
        raise CheckerError("name the articles to search (their ids), or give --due")
    context.use(c.registry)  # in-process scans share the command's registry
    ids = list(article_ids)
    with c.registry.Session() as session:
        for article_id in ids:  # only the organisation's own articles (--org)
            row = session.get(Article, article_id)
            if row is None or row.org_id != c.org_id:
                raise CheckerError(f"no article with id {article_id}")
        if due:
            ids += [
                i
                for i in discovery.due_articles(session, settings, limit=limit, org_id=c.org_id)
                if i not in ids
            ]
    if not ids:
        err.print("no article is due for discovery")
    totals = [0, 0, 0, 0]
    for article_id in ids:
        run = discovery.discover(c.registry, article_id, settings)
        out.print(run.summary(), markup=False)
        for phrase in run.phrases:  # text and URLs from outside: never read as markup
            out.print(f'  "{phrase}"', style="dim", markup=False)
        for url, why in run.skipped:
            out.print(f"  skipped {url}: {why}", style="dim", markup=False)
        for error in run.errors:
            err.print(f"  {error}", style="yellow", markup=False)
        totals = [
            totals[0] + run.queries_sent,
            totals[1] + run.queries_cached,
            totals[2] + run.queries_over_budget,
            totals[3] + run.scans_started,
        ]
    with c.registry.Session() as session:
        usage = search.usage_today(session, settings)
    err.print(
        f"{len(ids)} article(s): {totals[0]} query(ies) sent, {totals[1]} cached, {totals[2]} not sent "
        f"(daily budget used up), {totals[3]} scan(s) started"
    )
    for u in usage:
        if u.configured:
            err.print(f"{u.provider}: {u.used_today} of {u.budget} queries used today (UTC)")
