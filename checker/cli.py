"""The ``checker`` command line (PRODUCT.md lists the contract).

Errors the user can fix (missing file, empty or binary input, a malformed line) print one line
starting with ``error:`` and exit with status 1; they never print a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from checker import logcontext, validate
from checker.errors import CheckerError, InputError
from checker.forking import default_workers
from checker.jsonl import Line, article_from_json, first_line, open_input, parse_datetime, read_lines
from checker.match_options import describe
from checker.models import article_dict
from checker.numbers import share, words_of
from checker.orgs import DEFAULT_ORG, org_id_for, org_name
from checker.parallel import ScanPool
from checker.records import ArticleIn, ScanResult
from checker.registry import Registry
from checker.settings import Settings, SettingsError, flag
from checker.textio import check_text, decode_bytes, read_text_file
from checker.verdict import LICENSE_CHOICES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from checker.imports import ImportJob

LOGGER = logging.getLogger(__name__)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

# Scans stored per database transaction in scan-batch.
RECORD_BATCH = 200
# Inputs up to this size are scanned in the command's own process: forking workers would cost more
# than it saves on a few hundred lines.
SMALL_BATCH_BYTES = 256 * 1024
# Characters of a passage shown in the terminal before its middle is elided.
MAX_PASSAGE_PREVIEW = 600
VERDICT_STYLE = {
    "unattributed_reuse": "bold red",
    "attributed_reuse": "bold yellow",
    "licensed": "bold green",
    "no_reuse": "bold green",
}


class Context:
    def __init__(self, settings: Settings, org: str | None = None) -> None:
        self.settings = settings
        self.org_name = org_name(org)  # checked now: a bad --org fails before any work
        self._org_id: int | None = None
        self._registry: Registry | None = None

    @property
    def org_id(self) -> int:
        """The organisation the command works in (--org, $CHECKER_ORG or DEFAULT_ORG), created on first use."""
        if self._org_id is None:
            self._org_id = org_id_for(self.registry.Session, self.org_name)
        return self._org_id

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(self.settings)
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()


pass_ctx = click.make_pass_decorator(Context)


class PluginGroup(click.Group):
    """The command group, plus commands that other packages declare under the ``checker.commands``
    entry point (the worker's ``scan-url``/``crawl``/``watch``, the dashboard's ``serve``/``users``/
    ``tokens``). They load only when used, so ``checker`` itself imports neither Celery nor Flask."""

    def _plugins(self) -> dict[str, EntryPoint]:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group="checker.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and (ep := self._plugins().get(name)) is not None:
            command = ep.load()
        return command


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data folder (default $CHECKER_DATA_DIR or ./instance).",
)
@click.option(
    "--database-url", help="SQLAlchemy URL (default $CHECKER_DATABASE_URL or SQLite in the data folder)."
)
@click.option(
    "--org",
    envvar="CHECKER_ORG",
    show_envvar=True,
    help=f"The organisation whose articles and scans the command works on (created if missing; "
    f"default {DEFAULT_ORG!r}, the one the dashboard shows its accounts).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
@click.pass_context
def cli(
    ctx: click.Context, data_dir: str | None, database_url: str | None, org: str | None, verbose: bool
) -> None:
    """Register original articles and find where they were reused."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        logcontext.configure()  # CHECKER_LOG_FORMAT=json: stderr's log lines as JSON objects
        settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    except SettingsError as exc:  # a CHECKER_* variable with a value it cannot take
        raise click.UsageError(str(exc)) from None
    ctx.obj = Context(settings, org)
    ctx.call_on_close(ctx.obj.close)


@contextmanager
def progress_bar(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (only drawn on a terminal)."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total is None or total < 10**6 else TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def _read_text_arg(path: str, settings: Settings) -> str:
    if path == "-":
        return check_text(
            decode_bytes(sys.stdin.buffer.read(), "standard input"), settings.max_text_chars, "standard input"
        )
    return read_text_file(path, settings.max_text_chars)


# -- register / import -------------------------------------------------------------------------------
@cli.command()
@click.argument("file")
@click.option("--title", help="Title (default: the first line of the text).")
@click.option("--url", help="Where the original is published.")
@click.option("--publisher", help="Publisher name, as copies would credit it.")
@click.option("--license", "license_", default=None, help=f"(default all-rights-reserved) {LICENSE_CHOICES}.")
@click.option("--partner", "partners", multiple=True, help="A licensed partner domain (repeatable).")
@click.option("--published-at", help="Publication date, ISO 8601.")
@click.option("--required-credit", help="Credit text the licence requires, e.g. 'Sumber: Lingkar.co'.")
@click.option(
    "--alias", "aliases", multiple=True, help="Another name copies may credit the publisher by (repeatable)."
)
@pass_ctx
def register(
    c: Context,
    file: str,
    title: str | None,
    url: str | None,
    publisher: str | None,
    license_: str | None,
    partners: tuple[str, ...],
    published_at: str | None,
    required_credit: str | None,
    aliases: tuple[str, ...],
) -> None:
    """Register FILE (or - for stdin) as an original article; prints its id.

    Registering the same article again (same url, or same text) keeps its id and updates the options
    given (stderr says which changed)."""
    text = _read_text_arg(file, c.settings)
    options = {
        "title": title,
        "url": url,
        "publisher": publisher,
        "license": license_,
        "partners": partners,
        "published_at": published_at,
        "required_credit": required_credit,
        "aliases": aliases,
    }
    article = ArticleIn(
        title=title or first_line(text),
        text=text,
        url=url,
        publisher=publisher,
        license=license_ or "all-rights-reserved",
        partners=tuple(partners),
        published_at=parse_datetime(published_at, "--published-at"),
        required_credit=required_credit,
        aliases=tuple(aliases),
        given=frozenset(k for k, v in options.items() if v not in (None, ())),
    )
    outcome = c.registry.register_many([article], skip_existing=True, org_id=c.org_id)[0]
    if outcome.existing:
        err.print(outcome.message)
    click.echo(outcome.id)


@cli.command("import")
@click.argument("file")
@pass_ctx
def import_(c: Context, file: str) -> None:
    """Register one article per JSONL line: {"title","url","publisher","license","partners","published_at","text"}.

    Resumable: articles already registered (same canonical url, or same text) are not registered
    again; the fields a line gives update them. The run is recorded as an import job, so the dashboard's
    upload list and `checker imports` show it (its progress too, while it runs).
    """
    from checker import imports

    stream = open_input(file)
    size = os.fstat(stream.fileno()).st_size if file != "-" else None
    updated = 0
    registry = c.registry
    job = imports.new_job(c.org_id, "standard input" if file == "-" else os.path.basename(file))
    job.total = _count_lines(file) if file != "-" else 0  # articles at most; exact once the run ends
    imports.save(registry.Session, job)
    registry.prepare_in_parallel()  # before the progress bar's thread: fingerprinting on every CPU

    def articles(advance: Callable[[int], None]) -> Iterator[ArticleIn]:
        for line in read_lines(stream, on_bytes=advance):
            try:
                if line.error:
                    raise InputError(line.error)
                assert line.value is not None  # a line without an error holds a JSON object
                yield article_from_json(line.value, line.number, c.settings.max_text_chars)
            except InputError as exc:
                job.error(str(exc))
                err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)

    try:
        with stream, progress_bar(size, "importing") as advance:
            # Parsed lines, registered 500 at a time; each chunk is read before the one before it is
            # registered, so that it is fingerprinted while that one is stored.
            pending: list[ArticleIn] = []
            following: list[ArticleIn] = []
            for article in articles(advance):
                following.append(article)
                if len(following) >= 500:
                    updated += _register_chunk(registry, pending, job, ahead=following)
                    pending, following = following, []
            updated += _register_chunk(registry, pending, job, ahead=following)
            updated += _register_chunk(registry, following, job)
    except BaseException as exc:  # the job ends with the command (an error, Ctrl-C): failed, saying where
        job.fail(
            "internal" if isinstance(exc, Exception) else "stopped",
            done=job.processed,
            total=max(job.total, job.processed),
        )
        try:
            imports.save(registry.Session, job)
        except Exception:  # the database is gone: the job reads as stopped after STALE_AFTER
            LOGGER.exception("could not store the end of import %s", job.id)
        raise
    job.total = job.processed
    if job.total:
        job.status = "done"
    elif job.error_count:
        job.fail("unreadable", n=job.error_count)
    else:
        job.fail("empty")
    imports.save(registry.Session, job)
    err.print(
        f"imported {job.registered}, skipped {job.skipped} already registered ({updated} of them updated), "
        f"{job.error_count} line(s) with errors"
    )
    if job.error_count:
        sys.exit(1)


def _count_lines(path: str) -> int:
    """Non-blank lines of the file: the job's total while it runs (lines with errors count, until the end)."""
    n = 0
    with open(path, "rb") as f:
        for raw in f:
            n += bool(raw.strip())
    return n


def _register_chunk(
    registry: Registry, articles: list[ArticleIn], job: ImportJob, ahead: list[ArticleIn] | None = None
) -> int:
    """Register ``articles`` (``ahead``: the chunk to register next) and store the job's progress; how
    many already registered were updated."""
    from checker import imports

    if not articles:
        return 0
    results = registry.register_many(articles, skip_existing=True, org_id=job.org_id, ahead=ahead or ())
    new = sum(1 for r in results if not r.existing)
    job.registered += new
    job.skipped += len(results) - new
    job.processed += len(results)
    job.total = max(job.total, job.processed)
    imports.save(registry.Session, job)
    return sum(1 for r in results if r.changed)


# -- import jobs -----------------------------------------------------------------------------------
@cli.group("imports")
def imports_group() -> None:
    """The organisation's import jobs: dashboard uploads and `checker import` runs, with their progress."""


def _job_dict(job: ImportJob, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = job.to_dict() | {
        "started_at": job.started_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }
    if full:
        out["line_errors"] = list(job.errors)
    return out


@imports_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_ctx
def imports_list(c: Context, limit: int, as_json: bool) -> None:
    """List import jobs, newest first (a job whose process stopped shows as failed)."""
    from checker import imports

    with c.registry.Session() as session:
        jobs = imports.list_jobs(session, c.org_id, limit)
    if as_json:
        for job in jobs:
            click.echo(json.dumps(_job_dict(job), ensure_ascii=False))
        return
    for job in jobs:
        out.print(
            f"{job.id}  {job.status:<7} {job.processed:>7,}/{job.total:<7,} {job.registered:>7,} new "
            f"{job.skipped:>7,} skipped {job.error_count:>5,} errors  {job.started_at:%Y-%m-%d %H:%M}  "
            f"{job.filename[:60]}"
        )
    err.print(f"{len(jobs)} import job(s) in {c.org_name}")


@imports_group.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def imports_show(c: Context, job_id: str, as_json: bool) -> None:
    """Show one import job: its progress, why it failed, the lines not imported."""
    from checker import imports
    from checker.errors import NotFound

    with c.registry.Session() as session:
        job = imports.load(session, job_id.strip().lower())
    if job is None or job.org_id != c.org_id:
        raise NotFound(f"no import job {job_id!r} in {c.org_name} (`checker imports list` shows them)")
    shown = _job_dict(job, full=True)
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    for key in ("id", "filename", "status", "reason", "started_at", "updated_at"):
        if shown[key] is not None:
            out.print(f"{key.replace('_', ' '):>10}: {shown[key]}")
    out.print(
        f"  progress: {job.processed:,} of {job.total:,} articles ({shown['percent']}%), {job.registered:,} "
        f"registered, {job.skipped:,} already there, {job.error_count:,} line(s) with errors"
    )
    for line in job.errors:
        out.print(f"  {line}", style="red")
    if job.error_count > len(job.errors):
        out.print(f"  ... and {job.error_count - len(job.errors):,} more", style="dim")


# -- scanning --------------------------------------------------------------------------------------
def _print_result(
    text: str, result: ScanResult, scan_id: int | None, notes: list[dict[str, Any]] | None = None
) -> None:
    """The result, readable; ``notes``: what the match settings hid (default: the result's own)."""
    out.print(Text(result.verdict.replace("_", " ").upper(), style=VERDICT_STYLE[result.verdict]), end="  ")
    out.print(result.explanation)
    for m in result.matches:
        out.print()
        out.print(Text(f"#{m.article.id} {m.article.title}", style="bold"), end=" ")
        out.print(Text(f"({m.article.publisher or '-'}, {m.article.url or 'no url'})", style="dim"))
        out.print(
            f"  {m.kind.replace('_', ' ')} · score {m.score:.2f} · {share(m.suspect_coverage)} of the suspect"
            f"{words_of(m.words_matched, m.suspect_words)} · {share(m.source_coverage)} of the article"
            f"{f'’s {m.source_words:,} words' if m.source_words else ''} · {m.verdict.replace('_', ' ')}"
        )
        out.print(f"  {m.explanation}", style="dim")
        for c in m.credits:
            out.print(f"  credit ({c.reason}): {c.text.strip()!r}", style="cyan")
        for p in m.passages:
            out.print(
                f"  [suspect {p.suspect_start}-{p.suspect_end} ↔ article {p.source_start}-{p.source_end}, "
                f"similarity {p.similarity:.2f}]",
                style="dim",
            )
            snippet = text[p.suspect_start : p.suspect_end]
            if len(snippet) > MAX_PASSAGE_PREVIEW:
                half = MAX_PASSAGE_PREVIEW // 2
                snippet = snippet[:half] + " … " + snippet[-half:]
            out.print(Text("  " + " ".join(snippet.split()), style="black on yellow"))
    for note in [n.to_dict() for n in result.excluded] if notes is None else notes:
        out.print(f"\n{describe(note)}", style="yellow")
    if scan_id is not None:
        out.print(f"\nrecorded as scan {scan_id}", style="dim")


@cli.command()
@click.argument("file")
@click.option("--url", help="Where the suspect text was found (for licence and attribution checks).")
@click.option("--published-at", help="When the suspect was published, ISO 8601.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result.")
@pass_ctx
def scan(c: Context, file: str, url: str | None, published_at: str | None, as_json: bool) -> None:
    """Scan FILE (or - for stdin) for reuse of registered articles."""
    text = _read_text_arg(file, c.settings)
    url = validate.optional_http_url(url, "--url")
    published = parse_datetime(published_at, "--published-at")
    started = time.perf_counter()
    result = c.registry.scan(text, url, published_at=published, org_id=c.org_id)
    engine_s = time.perf_counter() - started
    scan_id = c.registry.record_scan(text, url, result, org_id=c.org_id)
    _count_scan(result.verdict, engine_s)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _print_result(text, result, scan_id)


def _debug() -> bool:
    """``CHECKER_DEBUG``: show tracebacks of internal errors (a value that is not a flag counts as on)."""
    try:
        return flag(os.environ, "CHECKER_DEBUG")
    except SettingsError:
        return True


def _count_scan(verdict: str, engine_s: float) -> None:
    """With ``PROMETHEUS_MULTIPROC_DIR`` (e.g. ``checker scan`` run inside the web's container), the
    scan joins the service's metrics (checker.metrics); otherwise this process's count would die with
    it, and the Prometheus client is not even loaded."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from checker import metrics

        metrics.record_scan("done", verdict, "cli", engine_s)


@cli.command("scan-batch")
@click.argument("file")
@click.option("--no-record", is_flag=True, help="Do not store the scans in the database.")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    help="Processes scanning at once (default: one per CPU for files over 256 KB, else 1).",
)
@pass_ctx
def scan_batch(c: Context, file: str, no_record: bool, workers: int) -> None:
    """Scan one {"id","text","url"?} per JSONL line; print one JSON result per line with "id" echoed."""
    stream = open_input(file)
    size = os.fstat(stream.fileno()).st_size if file != "-" else None
    if workers == 0:
        workers = default_workers() if size is not None and size > SMALL_BATCH_BYTES else 1
    registry = c.registry
    org_id = c.org_id
    errors = 0
    pending: list[tuple[str, str | None, ScanResult]] = []
    # (task, id, error, line number) of the lines not yet answered, in order
    lines: deque[tuple[tuple[str, str | None] | None, Any, str | None, int]] = deque()

    def flush() -> None:
        if pending and not no_record:
            registry.record_scans(pending, org_id=org_id)
        pending.clear()

    def report(item_id: Any, error: str) -> None:
        nonlocal errors
        errors += 1
        err.print(f"[red]error:[/] {error}", markup=True, highlight=False)
        click.echo(json.dumps({"id": item_id, "error": error}, ensure_ascii=False))

    def report_unreadable_lines() -> None:
        """Answer the lines that were not scanned, up to the next one that was."""
        while lines and lines[0][2] is not None:
            _, item_id, error, _ = lines.popleft()
            assert error is not None  # the loop's condition
            report(item_id, error)

    # The pool forks before the progress bar starts its thread (see checker.parallel).
    options = registry.match_options(org_id)  # read once: the whole batch follows the same settings
    with (
        stream,
        ScanPool(registry, workers, org_id=org_id, options=options) as pool,
        progress_bar(size, "scanning") as advance,
    ):

        def tasks() -> Iterator[tuple[str, str | None]]:
            for line in read_lines(stream, on_bytes=advance):
                item_id = line.value.get("id") if line.value else None
                task, error = _scan_task(line)
                lines.append((task, item_id, error, line.number))
                if task is not None:
                    yield task

        for result, error in pool.map(tasks()):
            report_unreadable_lines()
            task, item_id, _, number = lines.popleft()
            assert task is not None  # the lines without one were answered just above
            text, url = task
            if error is not None:
                report(item_id, f"line {number}: {error}")
                continue
            assert result is not None  # a line scanned without an error has a result
            click.echo(json.dumps({"id": item_id, **result.to_dict()}, ensure_ascii=False))
            pending.append((text, url, result))
            if len(pending) >= RECORD_BATCH:
                flush()
        report_unreadable_lines()
        flush()
    if errors:
        err.print(f"{errors} line(s) with errors")
        sys.exit(1)


def _scan_task(line: Line) -> tuple[tuple[str, str | None] | None, str | None]:
    """``((text, url), None)`` for a line to scan, or ``(None, error)``."""
    if line.error:
        return None, line.error
    assert line.value is not None  # a line without an error holds a JSON object
    text = line.value.get("text")
    if not isinstance(text, str):
        return None, f"line {line.number}: missing field 'text'"
    try:
        url = validate.optional_http_url(line.value.get("url"), "field 'url'")
    except InputError as exc:
        return None, f"line {line.number}: {exc}"
    return (text, url), None


# -- articles --------------------------------------------------------------------------------------
@cli.group()
def articles() -> None:
    """List, show and delete the organisation's registered articles."""


@articles.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("--offset", default=0, type=click.IntRange(0))
@click.option("--query", "-q", help="Filter by title, url or publisher.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def articles_list(c: Context, limit: int, offset: int, query: str | None, as_json: bool) -> None:
    """List registered articles, newest first."""
    rows = c.registry.list_articles(limit=limit, offset=offset, query=query, org_id=c.org_id)
    if as_json:
        for a in rows:
            click.echo(json.dumps(article_dict(a), ensure_ascii=False))
        return
    for a in rows:
        out.print(f"{a.id:>6}  {a.title[:70]:<70}  {a.publisher or '-':<20} {a.license}")
    err.print(f"{len(rows)} of {c.registry.count_articles(c.org_id)} article(s) in {c.org_name}")


@articles.command("show")
@click.argument("article_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def articles_show(c: Context, article_id: int, as_json: bool) -> None:
    """Show one article with its text."""
    a = c.registry.get_article(article_id, c.org_id)
    if as_json:
        click.echo(json.dumps(article_dict(a, with_text=True), ensure_ascii=False))
        return
    for key, value in article_dict(a).items():
        out.print(f"{key:>13}: {value}")
    out.print()
    out.print(a.text)


@articles.command("delete")
@click.argument("article_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def articles_delete(c: Context, article_id: int, yes: bool) -> None:
    """Delete an article from the registry and the index."""
    a = c.registry.get_article(article_id, c.org_id)
    if not yes and sys.stdin.isatty() and not click.confirm(f"Delete article {a.id} {a.title!r}?"):
        raise click.Abort()
    c.registry.delete_article(article_id, c.org_id)
    err.print(f"deleted article {article_id}")


# -- the organisation's settings --------------------------------------------------------------------
@cli.group("org")
def org_group() -> None:
    """The organisation's settings (--org): what its scans report, and its time zone."""


@org_group.command("settings")
@click.option(
    "--min-match-words",
    metavar="N",
    help="Smallest match worth reporting, in words (at least the engine's own 15); 'default' resets it.",
)
@click.option(
    "--exclude-quotes/--include-quotes",
    "exclude_quotes",
    default=None,
    help="Leave quotations out of matches (the default), or count quoted words like any others.",
)
@click.option(
    "--exclude-source",
    "add_sources",
    multiple=True,
    metavar="S",
    help="Do not report copies found on S: a domain (covers its subdomains) or a URL prefix (repeatable).",
)
@click.option("--clear-excluded", is_flag=True, help="Forget the excluded sources (before adding any given).")
@click.option(
    "--time-zone", metavar="ZONE", help="IANA time zone of the organisation's dates, e.g. Asia/Jakarta."
)
@click.option(
    "--alerts",
    "alert_frequency",
    type=click.Choice(["immediate", "daily"]),
    help="Send new unattributed copies as they are found, or once a day in one digest.",
)
@click.option(
    "--alert-email",
    "alert_emails",
    multiple=True,
    metavar="ADDRESS",
    help="Send alert e-mails to ADDRESS (repeatable; replaces the list; '' clears it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_ctx
def org_settings(
    c: Context,
    min_match_words: str | None,
    exclude_quotes: bool | None,
    add_sources: tuple[str, ...],
    clear_excluded: bool,
    time_zone: str | None,
    alert_frequency: str | None,
    alert_emails: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show the organisation's match settings; change those given (all checked, or none changed)."""
    from checker.models import Organisation
    from checker.orgs import KEEP, settings_of, update_settings

    with c.registry.Session.begin() as session:
        org = session.get(Organisation, c.org_id)
        assert org is not None  # c.org_id created it if it was missing
        sources = KEEP
        if clear_excluded or add_sources:
            sources = ([] if clear_excluded else list(org.excluded_sources or [])) + list(add_sources)
        words = (
            KEEP
            if min_match_words is None
            else (None if min_match_words.strip().lower() in ("default", "") else min_match_words)
        )
        changed = update_settings(
            org,
            min_match_words=words,
            exclude_quotes=KEEP if exclude_quotes is None else exclude_quotes,
            excluded_sources=sources,
            time_zone=KEEP if time_zone is None else time_zone,
            alert_frequency=alert_frequency or KEEP,
            alert_emails=[e for e in alert_emails if e.strip()] if alert_emails else KEEP,
        )
        shown = settings_of(org)
    if changed:
        err.print("updated: " + ", ".join(name.replace("_", " ") for name in changed))
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    out.print(f"organisation:      {shown['organisation']}")
    out.print(
        f"min match words:   {shown['min_match_words'] or 'default (' + str(c.settings.match.min_passage_words) + ')'}"
    )
    out.print(f"quotations:        {'excluded' if shown['exclude_quotes'] else 'counted as reuse'}")
    out.print(f"excluded sources:  {', '.join(shown['excluded_sources']) or 'none'}")
    out.print(f"time zone:         {shown['time_zone']}")
    out.print(
        f"alerts:            {'once a day, in one digest' if shown['alert_frequency'] == 'daily' else 'as found'}"
        f" to {', '.join(shown['alert_emails']) or 'the operator’s CHECKER_ALERT_TO'}"
    )


# -- index -----------------------------------------------------------------------------------------
@cli.group()
def index() -> None:
    """Inspect or rebuild the passage index."""


@index.command("rebuild")
@pass_ctx
def index_rebuild(c: Context) -> None:
    """Fingerprint every registered article again (after a fingerprint scheme change)."""
    c._registry = registry = Registry(c.settings, sync=False, drop_shared_index=True)
    with progress_bar(registry.count_articles(), "indexing") as advance:
        n = registry.rebuild_index(progress=advance)
    err.print(f"indexed {n} article(s)")


@index.command("status")
@pass_ctx
def index_status(c: Context) -> None:
    """Show the index's scheme and size."""
    registry = c.registry
    click.echo(
        json.dumps(
            {
                "articles_in_database": registry.count_articles(),
                "articles_indexed": len(registry.index.article_ids()),
                "scheme": registry.index.scheme.to_dict(),
            },
            indent=2,
        )
    )


# -- database schema -------------------------------------------------------------------------------
@cli.group("db")
def db_group() -> None:
    """Database schema: show its revision, or upgrade it (checker/migrate.py)."""


def _schema_engine(c: Context) -> Engine:
    from checker.store import make_engine, private_dir

    if c.settings.database_url.startswith("sqlite:///"):
        private_dir(c.settings.data_dir)
    return make_engine(c.settings.database_url)


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Bring the database's schema to this release's revision (creating it if new); safe to run again."""
    from checker import migrate

    engine = _schema_engine(c)
    try:
        before = migrate.state(engine)
        ran = migrate.upgrade(engine)
    finally:
        engine.dispose()
    err.print(
        f"database upgraded ({before}) to revision {migrate.head()}"
        if ran
        else f"database already at revision {migrate.head()}"
    )


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def db_current(c: Context, as_json: bool) -> None:
    """Show the database's schema revision and whether it needs `checker db upgrade`."""
    from checker import migrate

    engine = _schema_engine(c)
    try:
        with engine.connect() as conn:
            found = {
                "revision": migrate.current(conn),
                "head": migrate.head(),
                "state": migrate.state_of(conn),
            }
    finally:
        engine.dispose()
    click.echo(
        json.dumps(found, indent=2)
        if as_json
        else f"{found['revision'] or '-'} ({found['state']}; this release's newest: {found['head']})"
    )


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes, and why.")
@pass_ctx
def db_revision(c: Context, message: str) -> None:
    """For developers: write a revision with the difference between checker/models.py and the schema."""
    from checker import migrate

    engine = _schema_engine(c)
    try:
        err.print(f"wrote {migrate.new_revision(engine, message)}: check it before committing")
    finally:
        engine.dispose()


# -- demo ------------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--seeds",
    "seeds_dir",
    default=None,
    help="Folder with articles.jsonl and suspects.jsonl (default: ./seeds).",
)
@pass_ctx
def demo(c: Context, seeds_dir: str | None) -> None:
    """Register the demo articles from seeds/ and print the scan of every demo suspect."""
    from checker.demo import load_demo

    results = load_demo(c.registry, seeds_dir, org_id=c.org_id)
    for suspect, result in results:
        out.rule(f"{suspect['id']}: {suspect.get('note', '')}")
        _print_result(suspect["text"], result, None)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit status 1. What the
    commands create (database, index files, reports) is readable by the user only."""
    from checker.store import private_umask

    private_umask()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CheckerError as exc:
        err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _debug():
            raise
        err.print(
            f"[red]internal error:[/] {type(exc).__name__}: {exc} (set CHECKER_DEBUG=1 for a traceback)",
            markup=True,
            highlight=False,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
