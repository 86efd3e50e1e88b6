"""``checker scan-url``, ``checker crawl`` and ``checker watch`` (loaded by the ``checker`` command).

On the embedded default (no ``CHECKER_BROKER_URL``) the work runs in this process and the command
prints the result. With a broker, the command queues the work and waits for the scan to finish.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import select

from checker import monitoring, validate
from checker.cli import Context, _print_result, err, out, pass_ctx
from checker.errors import CheckerError
from checker.models import Scan, Watch
from checker.monitoring import (
    MAX_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    WATCH_KINDS,
    WatchSummary,
    summaries,
)
from checker.records import ScanResult
from worker import context, dispatch

KIND_WORDS = {"site": "site crawl", "feed": "feed or sitemap"}
# A pause reason typed on the command line, at most (shown on the Monitoring page).
MAX_REASON_CHARS = 500
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
        raise CheckerError(
            f"scan {scan_id} is still {scan.status} after {WAIT_TIMEOUT_S} s; is a worker running?"
        )
    if as_json:
        click.echo(json.dumps(scan.result, ensure_ascii=False))
        return
    # A done URL scan has its result and the digest of the page it fetched (scans.complete).
    assert scan.result is not None and scan.body_sha256 is not None
    out.print(
        f"{scan.final_url or scan.url}  (fetched {scan.fetched_at:%Y-%m-%d %H:%M} UTC, sha256 {scan.body_sha256[:16]}…)",
        style="dim",
    )
    _print_result(scan.text or "", _as_result(scan.result), scan.id, notes=scan.result.get("excluded", []))


def _as_result(data: dict) -> ScanResult:
    """A printable ScanResult from its stored JSON."""
    from checker.records import ArticleRef, Credit, Match, Passage

    matches = tuple(
        Match(
            article=ArticleRef(**m["article"]),
            kind=m["kind"],
            score=m["score"],
            suspect_coverage=m["suspect_coverage"],
            source_coverage=m["source_coverage"],
            attributed=m["attributed"],
            licensed=m["licensed"],
            passages=tuple(Passage(**p) for p in m["passages"]),
            verdict=m.get("verdict", data["verdict"]),
            explanation=m.get("explanation", ""),
            credits=tuple(Credit(**cr) for cr in m.get("credits", [])),
            words_matched=m.get("words_matched", 0),
            suspect_words=m.get("suspect_words", 0),
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
    crawl_id = dispatch.submit_crawl(
        c.registry, url, org_id=c.org_id, max_pages=max_pages, max_depth=max_depth
    )
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    from checker.models import Crawl

    while True:
        with c.registry.Session() as session:
            row = session.get(Crawl, crawl_id)
            ids = session.scalars(select(Scan.id).where(Scan.crawl_id == crawl_id)).all()
        assert row is not None  # submitted above; crawls are not deleted
        if row.status in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if row.status == "failed" and not ids:  # one line on stderr (not wrapped), exit status 1
        click.echo(f"error: crawl {crawl_id} of {url} failed: {row.error or 'no reason recorded'}", err=True)
        sys.exit(1)
    scans = _wait(c, list(ids)) if ids else []
    counts = Counter(s.verdict or s.status for s in scans)
    err.print(
        f"crawl {crawl_id}: {row.status}, {len(scans)} page(s) scanned"
        + (f"; {row.error}" if row.error else "")
    )
    for verdict, n in counts.most_common():
        out.print(f"{n:>5}  {verdict}")
    for s in scans:
        if s.verdict and s.verdict != "no_reuse":
            assert s.result is not None  # stored with the verdict (scans.complete)
            titles = ", ".join(f"#{m['article']['id']}" for m in s.result["matches"])
            out.print(f"{s.verdict:<20} {s.final_url or s.url}  reuses {titles}")


@click.group()
def watch() -> None:
    """Sites re-crawled, and feeds or sitemaps re-read, on a schedule (by the embedded scheduler, or Celery
    beat with a broker); only new matches are recorded and alerted. The dashboard's Monitoring page and
    /api/watches show the same."""


def _every(minutes: int) -> str:
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            n = minutes // size
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    return f"every {minutes} minutes"  # not reached: every whole number of minutes is a multiple of 1


def _zone(c: Context) -> ZoneInfo:
    """The organisation's time zone (``checker org settings --time-zone``), as its dashboard pages use."""
    from checker.models import Organisation

    with c.registry.Session() as session:
        org = session.get(Organisation, c.org_id)
        name = (org.time_zone if org else None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(t, zone: ZoneInfo, never: str = "never") -> str:
    return f"{t.astimezone(zone):%Y-%m-%d %H:%M %Z}" if t else never


def _next(s: WatchSummary, zone: ZoneInfo) -> str:
    return _when(s.next_run_at, zone, "at the scheduler's next round") if s.active else "paused"


def _state(s: WatchSummary) -> str:
    """active / paused (with its reason) / failing (with its last error), as the Monitoring page says it."""
    if not s.active:
        return f"paused: {s.paused_reason or 'no reason recorded'}"
    if s.failures:
        return f"failing ({s.failures} failed run(s) in a row): {s.last_error or 'no reason recorded'}"
    return "active"


def _summary(c: Context, watch_id: int) -> WatchSummary:
    """The organisation's watch; another organisation's id is not found, as any other."""
    with c.registry.Session() as session:
        found = summaries(session, c.org_id, watch_id) if 1 <= watch_id < 2**63 else []
    if not found:
        raise CheckerError(f"no watch with id {watch_id}")
    return found[0]


def _change(c: Context, watch_id: int, action) -> WatchSummary:
    _summary(c, watch_id)  # the organisation's, or "no watch with id N"
    with c.registry.Session.begin() as session:
        action(session, session.get(Watch, watch_id))
    return _summary(c, watch_id)


@watch.command("add")
@click.argument("url")
@click.option(
    "--kind",
    type=click.Choice(WATCH_KINDS),
    default="site",
    show_default=True,
    help="site: crawl the site; feed: read one RSS/Atom feed or sitemap and scan its new items.",
)
@click.option(
    "--every",
    "interval",
    default=24 * 60,
    show_default=True,
    type=int,
    help=f"Minutes between runs ({MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}).",
)
@click.option("--max-pages", default=dispatch.DEFAULT_CRAWL_PAGES, show_default=True, type=int)
@pass_ctx
def watch_add(c: Context, url: str, kind: str, interval: int, max_pages: int) -> None:
    """Watch URL (a site, or a feed or sitemap); prints the watch id."""
    watch_id = dispatch.add_watch(
        c.registry, url, org_id=c.org_id, interval_minutes=interval, max_pages=max_pages, kind=kind
    )
    click.echo(watch_id)
    err.print(
        f"watching {url} ({kind}) {_every(interval)}; the first run starts at the scheduler's next round"
    )


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
def watch_list(c: Context, as_json: bool) -> None:
    """List the watches: kind, schedule, state, last and next run, pages seen, new matches."""
    with c.registry.Session() as session:
        rows = summaries(session, c.org_id)
    if as_json:
        for s in rows:
            click.echo(json.dumps(s.as_dict(), ensure_ascii=False))
        return
    if not rows:
        err.print("nothing is watched yet: add a site with `checker watch add URL`")
        return
    zone = _zone(c)
    for s in rows:
        click.echo(
            f"{s.id:>4}  {s.url}  ({KIND_WORDS.get(s.kind, s.kind)}) {_every(s.interval_minutes)}, "
            f"at most {s.max_pages} page(s)"
        )
        click.echo(f"      {_state(s)}")
        click.echo(
            f"      last run {_when(s.last_run_at, zone)}"
            + (f" ({s.last_status})" if s.last_status else "")
            + f", next run {_next(s, zone)}; {s.pages_seen} page(s) seen, {s.new_matches} new match(es)"
        )


@watch.command("show")
@click.argument("watch_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def watch_show(c: Context, watch_id: int, as_json: bool) -> None:
    """One watch, every field."""
    s = _summary(c, watch_id)
    if as_json:
        click.echo(json.dumps(s.as_dict(), ensure_ascii=False))
        return
    zone = _zone(c)
    fields = {
        **s.as_dict(),
        "kind": KIND_WORDS.get(s.kind, s.kind),
        "state": _state(s),
        "schedule": _every(s.interval_minutes),
        "last_run_at": _when(s.last_run_at, zone),
        "next_run_at": _next(s, zone),
        "created_at": _when(s.created_at, zone),
    }
    for key in (
        "id",
        "url",
        "kind",
        "schedule",
        "max_pages",
        "state",
        "last_run_at",
        "last_status",
        "next_run_at",
        "pages_seen",
        "new_matches",
        "failures",
        "last_error",
        "paused_reason",
        "created_at",
    ):
        value = fields[key]
        click.echo(f"{key.replace('_', ' ').removesuffix(' at'):>13}: {'-' if value is None else value}")


@watch.command("pause")
@click.argument("watch_id", type=int)
@click.option(
    "--reason", default="paused from the command line", show_default=True, help="Shown with the watch."
)
@pass_ctx
def watch_pause(c: Context, watch_id: int, reason: str) -> None:
    """Pause a watch: it stays, with its history, and does not run until resumed."""
    reason = validate.text_field(reason, "reason", MAX_REASON_CHARS) or "paused from the command line"
    s = _change(
        c, watch_id, lambda session, w: monitoring.pause(session, w, reason=reason) if w.active else None
    )
    err.print(f"watch {watch_id} paused: {s.paused_reason}")


@watch.command("resume")
@click.argument("watch_id", type=int)
@pass_ctx
def watch_resume(c: Context, watch_id: int) -> None:
    """Resume a watch: due at once, its failures forgotten."""
    _change(c, watch_id, monitoring.resume)
    err.print(f"watch {watch_id} resumed: it runs at the scheduler's next round")


@watch.command("remove")
@click.argument("watch_id", type=int)
@pass_ctx
def watch_remove(c: Context, watch_id: int) -> None:
    """Stop watching; the crawls it ran and their matches stay."""
    _summary(c, watch_id)
    with c.registry.Session.begin() as session:
        session.delete(session.get(Watch, watch_id))
    err.print(f"removed watch {watch_id}")
