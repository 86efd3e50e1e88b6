"""``checker scan-url``, ``checker crawl`` and ``checker watch`` (loaded by the ``checker`` command).

On the embedded default (no ``CHECKER_BROKER_URL``) the work runs in this process and the command
prints the result. With a broker, the command queues the work and waits for the scan to finish.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

import click
from sqlalchemy import select

from checker.cli import Context, _print_result, err, out, pass_ctx
from checker.errors import CheckerError
from checker.models import Scan, Watch
from checker.records import ScanResult
from worker import context, dispatch

# How long `scan-url` waits for a worker to finish the scan when a broker is configured.
WAIT_TIMEOUT_S = 300


def _attach(c: Context) -> None:
    context.use(c.registry)  # in-process tasks share the command's registry


def _wait(c: Context, scan_ids: list[int]) -> list[Scan]:
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while True:
        with c.registry.Session() as session:
            rows = session.scalars(select(Scan).where(Scan.id.in_(scan_ids)).order_by(Scan.id)).all()
        if all(r.status in ("done", "failed") for r in rows) or time.monotonic() > deadline:
            return list(rows)
        time.sleep(0.5)


@click.command("scan-url")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result.")
@pass_ctx
def scan_url(c: Context, url: str, as_json: bool) -> None:
    """Fetch URL, extract its main text and scan it."""
    _attach(c)
    scan_id = dispatch.submit_scan(c.registry, url=url, source="url", org_id=c.org_id)
    scan = _wait(c, [scan_id])[0]
    if scan.status == "failed":
        raise CheckerError(scan.error or "the scan failed")
    if scan.status != "done":
        raise CheckerError(f"scan {scan_id} is still {scan.status} after {WAIT_TIMEOUT_S} s; is a worker running?")
    if as_json:
        click.echo(json.dumps(scan.result, ensure_ascii=False))
        return
    out.print(f"{scan.final_url or scan.url}  (fetched {scan.fetched_at:%Y-%m-%d %H:%M} UTC, sha256 {scan.body_sha256[:16]}…)",
              style="dim")
    _print_result(scan.text or "", _as_result(scan.result), scan.id, notes=scan.result.get("excluded", []))


def _as_result(data: dict) -> ScanResult:
    """A printable ScanResult from its stored JSON."""
    from checker.records import ArticleRef, Credit, Match, Passage

    matches = tuple(
        Match(
            article=ArticleRef(**m["article"]),
            kind=m["kind"], score=m["score"], suspect_coverage=m["suspect_coverage"],
            source_coverage=m["source_coverage"], attributed=m["attributed"], licensed=m["licensed"],
            passages=tuple(Passage(**p) for p in m["passages"]), verdict=m.get("verdict", data["verdict"]),
            explanation=m.get("explanation", ""), credits=tuple(Credit(**cr) for cr in m.get("credits", [])),
            words_matched=m.get("words_matched", 0), suspect_words=m.get("suspect_words", 0),
            source_words=m.get("source_words", 0),
        )
        for m in data["matches"]
    )
    return ScanResult(verdict=data["verdict"], matches=matches, explanation=data.get("explanation", ""))


@click.command()
@click.argument("url")
@click.option("--max-pages", default=dispatch.DEFAULT_CRAWL_PAGES, show_default=True, type=int)
@click.option("--max-depth", default=2, show_default=True, type=click.IntRange(0, 10))
@pass_ctx
def crawl(c: Context, url: str, max_pages: int, max_depth: int) -> None:
    """Crawl a site (robots.txt, sitemaps, feeds, links) and scan every page found."""
    _attach(c)
    crawl_id = dispatch.submit_crawl(c.registry, url, org_id=c.org_id, max_pages=max_pages, max_depth=max_depth)
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    from checker.models import Crawl

    while True:
        with c.registry.Session() as session:
            row = session.get(Crawl, crawl_id)
            ids = session.scalars(select(Scan.id).where(Scan.crawl_id == crawl_id)).all()
        if row.status in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if row.status == "failed" and not ids:  # one line on stderr (not wrapped), exit status 1
        click.echo(f"error: crawl {crawl_id} of {url} failed: {row.error or 'no reason recorded'}", err=True)
        sys.exit(1)
    scans = _wait(c, list(ids)) if ids else []
    counts = Counter(s.verdict or s.status for s in scans)
    err.print(f"crawl {crawl_id}: {row.status}, {len(scans)} page(s) scanned"
              + (f"; {row.error}" if row.error else ""))
    for verdict, n in counts.most_common():
        out.print(f"{n:>5}  {verdict}")
    for s in scans:
        if s.verdict and s.verdict != "no_reuse":
            titles = ", ".join(f"#{m['article']['id']}" for m in s.result["matches"])
            out.print(f"{s.verdict:<20} {s.final_url or s.url}  reuses {titles}")


@click.group()
def watch() -> None:
    """Sites re-crawled on a schedule by Celery beat; only new matches are recorded and alerted."""


@watch.command("add")
@click.argument("url")
@click.option("--every", "interval", default=24 * 60, show_default=True, type=int, help="Minutes between crawls.")
@click.option("--max-pages", default=dispatch.DEFAULT_CRAWL_PAGES, show_default=True, type=int)
@pass_ctx
def watch_add(c: Context, url: str, interval: int, max_pages: int) -> None:
    """Watch URL's site; prints the watch id."""
    click.echo(dispatch.add_watch(c.registry, url, org_id=c.org_id, interval_minutes=interval, max_pages=max_pages))


@watch.command("list")
@pass_ctx
def watch_list(c: Context) -> None:
    """List watched sites."""
    with c.registry.Session() as session:
        for w in session.scalars(select(Watch).where(Watch.org_id == c.org_id).order_by(Watch.id)):
            last = f"{w.last_crawled_at:%Y-%m-%d %H:%M}" if w.last_crawled_at else "never"
            out.print(f"{w.id:>4}  {w.url:<50} every {w.interval_minutes} min, last crawled {last}"
                      + ("" if w.active else " (paused)"))


@watch.command("remove")
@click.argument("watch_id", type=int)
@pass_ctx
def watch_remove(c: Context, watch_id: int) -> None:
    """Stop watching."""
    with c.registry.Session.begin() as session:
        w = session.get(Watch, watch_id)
        if w is None or w.org_id != c.org_id:
            raise CheckerError(f"no watch with id {watch_id}")
        session.delete(w)
    err.print(f"removed watch {watch_id}")
