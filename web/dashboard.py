"""The dashboard: overview, articles, submissions, scans, matches and their review, domains."""

from __future__ import annotations

from datetime import time

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from checker import validate
from checker.errors import InputError, NotFound
from checker.models import Scan
from checker.records import ARTICLE_FIELDS, VERDICTS, ArticleIn
from checker.verdict import STANDARD_LICENSES
from web import confirm, imports, queries
from web.auth import role_required
from web.coverage import Coverage, share
from web.db import get_registry, get_session, write_lock
from web.highlight import Span, highlight, marked_texts
from web.i18n import as_utc, zone_of
from web.passages import passage_runs
from web.serialize import scan_dict

bp = Blueprint("dashboard", __name__)

# Recent unattributed matches shown on the overview.
RECENT = 10


@bp.before_request
@login_required
def require_login():
    """Every dashboard page needs a logged-in account."""


@bp.app_template_filter("http_href")
def http_href(url) -> str | None:
    """``url`` if it may be a link target (an http(s) URL, :func:`checker.validate.http_url`), else
    None: templates link only these and show anything else as plain text. New input is validated on the
    way in; this also covers rows stored before that (a ``javascript:`` URL must never become a link)."""
    try:
        return validate.http_url(url)
    except InputError:
        return None


# One definition of coverage on every page (web.coverage): ``{{ x|share }}`` and ``coverage_of(match)``.
bp.add_app_template_filter(share, "share")
bp.add_app_template_global(Coverage.of, "coverage_of")
bp.add_app_template_filter(format_number, "num")


def _filters() -> queries.Filters:
    try:
        return queries.Filters.parse(request.args, current_app.config["PAGE_SIZE"])
    except InputError as exc:
        flash(f"Filter ignored: {exc}", "error")
        return queries.Filters(per_page=current_app.config["PAGE_SIZE"])


def _or_404(fn, *args, **kwargs):
    try:
        return fn(get_session(), current_user.org_id, *args, **kwargs)
    except NotFound:
        abort(404)


@bp.route("/")
def overview():
    """Counts by verdict, recent unattributed reuse and reuse found per week."""
    session = get_session()
    org = current_user.org_id
    recent = session.scalars(
        queries.matches_query(org, queries.Filters(verdict="unattributed_reuse")).limit(RECENT)
    ).all()
    weeks = queries.weekly_reuse(session, org)
    return render_template(
        "dashboard/overview.html",
        counts=queries.verdict_counts(session, org),
        recent=recent,
        weeks=weeks,
        chart=_week_chart(weeks),
        open_count=queries.count(session, queries.matches_query(org, queries.Filters(review_status="open"))),
    )


def _week_chart(weeks: list[dict]) -> dict:
    """Geometry of the server-side SVG bar chart: one stacked bar per week."""
    width, height, pad = 640, 180, 24
    top = max((sum(w["counts"].values()) for w in weeks), default=0) or 1
    bar_w = (width - 2 * pad) / max(1, len(weeks))
    bars = []
    for n, w in enumerate(weeks):
        y = height - pad
        stack = []
        for verdict in ("licensed", "attributed_reuse", "unattributed_reuse"):
            count = w["counts"].get(verdict, 0)
            h = (height - 2 * pad) * count / top
            if count:
                stack.append({"verdict": verdict, "y": y - h, "h": h, "count": count})
            y -= h
        bars.append(
            {
                "x": pad + n * bar_w + 2,
                "w": bar_w - 4,
                "stack": stack,
                "week": w["week"],
                "total": sum(w["counts"].values()),
            }
        )
    return {"width": width, "height": height, "pad": pad, "top": top, "bars": bars}


# -- articles ----------------------------------------------------------------------------------------------
@bp.route("/articles", methods=("GET", "POST"))
def articles():
    """Search and list the organisation's articles; register one (editors)."""
    form, error, status = {}, None, 200
    if request.method == "POST":
        if not current_user.can("editor"):
            abort(403)
        form = request.form
        try:
            outcome = _register_from_form(form)
        except InputError as exc:
            error, status = str(exc), 422
        else:
            flash(f"Article {outcome.message}." if outcome.existing else "Article registered.")
            return redirect(url_for("dashboard.article", article_id=outcome.id))
    f = _filters()
    page = queries.paginate(get_session(), queries.articles_query(current_user.org_id, f), f)
    return render_template(
        "dashboard/articles.html", page=page, filters=f, form=form, error=error, licenses=STANDARD_LICENSES
    ), status


def _register_from_form(form):
    """Register the form's article, or update the one registered with the same canonical url or text
    with every field the form filled in (the licence always: the form always has one). Returns the
    checker.registry.Registered outcome."""
    article = _article_from_form(
        form,
        given=frozenset(
            {"license"}
            | {f for f in ARTICLE_FIELDS if f not in ("text", "license") and (form.get(f) or "").strip()}
        ),
    )
    with write_lock():
        return get_registry().register_many([article], skip_existing=True, org_id=current_user.org_id)[0]


def _article_from_form(form, given: frozenset[str] | None = None) -> ArticleIn:
    """The article the register or edit form describes (checked later by checker.validate.article, as
    every registration is); ``given``: the fields a re-registration copies (see ArticleIn.given)."""
    license_ = (form.get("license") or "all-rights-reserved").strip()
    if license_ == "custom":
        terms = (form.get("custom_terms") or "").strip()
        if not terms:
            raise InputError("describe the custom licence terms")
        license_ = "custom:" + terms
    partners = tuple(p for p in (form.get("partners") or "").replace(",", " ").split() if p)
    return ArticleIn(
        title=(form.get("title") or "").strip(),
        text=(form.get("text") or "").replace("\r\n", "\n"),
        url=(form.get("url") or "").strip() or None,
        publisher=(form.get("publisher") or "").strip() or None,
        license=license_,
        partners=partners,
        published_at=validate.parse_datetime(form.get("published_at"), "publication date"),
        required_credit=(form.get("required_credit") or "").strip() or None,
        aliases=tuple(a.strip() for a in (form.get("aliases") or "").split(",") if a.strip()),
        given=given,
    )


@bp.route("/articles/<int:article_id>")
def article(article_id: int):
    """An article and every place it was reused, newest first."""
    art = _or_404(queries.get_article, article_id)
    f = queries.Filters(article_id=article_id, per_page=200)
    matches = get_session().scalars(queries.matches_query(current_user.org_id, f).limit(200)).all()
    return render_template("dashboard/article.html", article=art, matches=matches)


# The edit form's fields as its flash message names them.
EDITED_FIELDS = {
    "title": _l("title"),
    "url": _l("URL"),
    "publisher": _l("publisher"),
    "license": _l("licence"),
    "partners": _l("partner domains"),
    "published_at": _l("publication date"),
    "required_credit": _l("required credit"),
    "aliases": _l("publisher aliases"),
    "text": _l("text"),
}


@bp.route("/articles/<int:article_id>/edit", methods=("GET", "POST"))
@role_required("editor")
def article_edit(article_id: int):
    """Edit an article (editors): every field and the text; a changed text is indexed again, so scans
    of the old text stop finding the article and scans of the new one find it. A URL or text another
    article already has is refused, naming that article."""
    art = _or_404(queries.get_article, article_id)
    form, error, status = _article_form_values(art), None, 200
    if request.method == "POST":
        form = request.form
        try:
            edited = _article_from_form(form)
            with write_lock():
                outcome = get_registry().update_article(article_id, edited, org_id=current_user.org_id)
        except NotFound:
            abort(404)
        except InputError as exc:
            error, status = str(exc), 422
        else:
            flash(
                _(
                    "Article updated: %(fields)s.",
                    fields=", ".join(str(EDITED_FIELDS[f]) for f in outcome.changed),
                )
                if outcome.changed
                else _("Nothing changed.")
            )
            return redirect(url_for("dashboard.article", article_id=article_id), 303)
    return render_template(
        "dashboard/article_edit.html", article=art, form=form, error=error, licenses=STANDARD_LICENSES
    ), status


def _article_form_values(art) -> dict[str, str]:
    """The edit form filled with ``art`` as stored: the same fields and spelling the form sends back
    (a custom licence as "custom" and its terms; lists comma-separated; a publication date alone when
    it is midnight UTC, as a date-only registration stores it, else the moment in the organisation's
    time zone with its offset, so saving the form unchanged changes nothing)."""
    license_, terms = art.license, ""
    if license_.startswith("custom:"):
        license_, terms = "custom", license_.removeprefix("custom:")
    published = ""
    if art.published_at is not None:
        utc = as_utc(art.published_at)
        published = (
            utc.date().isoformat()
            if utc.time() == time(0)
            else utc.astimezone(zone_of(current_user.time_zone)).isoformat(timespec="seconds")
        )
    return {
        "title": art.title,
        "url": art.url or "",
        "publisher": art.publisher or "",
        "license": license_,
        "custom_terms": terms,
        "partners": ", ".join(art.partners or ()),
        "published_at": published,
        "required_credit": art.required_credit or "",
        "aliases": ", ".join(art.aliases or ()),
        "text": art.text,
    }


@bp.route("/articles/<int:article_id>/delete", methods=("GET", "POST"))
@role_required("editor")
def article_delete(article_id: int):
    """Delete an article (editors), after a confirmation page: it leaves the index, so scans no longer
    find it; the matches found of it stay, shown as of a deleted article."""
    art = _or_404(queries.get_article, article_id)
    if request.method == "POST" and confirm.confirmed():
        with write_lock():
            try:
                get_registry().delete_article(article_id, current_user.org_id)
            except NotFound:
                abort(404)
        flash(_("Article “%(title)s” deleted.", title=art.title))
        return redirect(url_for("dashboard.articles"), 303)
    found = queries.count(
        get_session(), queries.matches_query(current_user.org_id, queries.Filters(article_id=article_id))
    )
    return confirm.ask(
        _("Delete the article “%(title)s”?", title=art.title),
        detail=" ".join(
            [_("Scans will no longer find it.")]
            + (
                [
                    ngettext(
                        "The match found of it stays readable, shown as the match of a deleted article.",
                        "The %(num)s matches found of it stay readable, shown as matches of a deleted article.",
                        found,
                    )
                ]
                if found
                else []
            )
        ),
        action=url_for("dashboard.article_delete", article_id=article_id),
        cancel=url_for("dashboard.article", article_id=article_id),
        button=_("Delete the article"),
    )


@bp.route("/articles/upload", methods=("GET", "POST"))
@role_required("editor")
def upload():
    """Bulk registration from a JSONL or CSV file."""
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            return _upload_page("Choose a .jsonl or .csv file."), 422
        if not file.filename.lower().endswith((".jsonl", ".json", ".csv", ".txt")):
            return _upload_page("The file must be .jsonl or .csv."), 422
        try:
            job = imports.start(
                file.read(), file.filename, org_id=current_user.org_id, registry=get_registry()
            )
        except InputError as exc:
            return _upload_page(imports.message(exc)), 422
        return redirect(url_for("dashboard.upload_status", job_id=job.id))
    return _upload_page(None)


def _upload_page(error: str | None) -> str:
    """The upload form, and the organisation's recent imports (uploads and `checker import` runs)."""
    return render_template(
        "dashboard/upload.html", error=error, jobs=imports.recent(get_session(), current_user.org_id)
    )


def _job(job_id: str) -> imports.ImportJob:
    """The organisation's import job (stored: any web process answers); another's is 404."""
    job = imports.load(get_session(), job_id)
    if job is None or job.org_id != current_user.org_id:
        abort(404)
    return job


@bp.route("/articles/upload/<job_id>")
def upload_status(job_id: str):
    """Progress of a bulk upload (refreshes itself until done)."""
    return render_template("dashboard/upload_status.html", job=_job(job_id))


@bp.route("/articles/upload/<job_id>.json")
def upload_status_json(job_id: str):
    """Progress of a bulk upload, for the page's polling script."""
    return jsonify(_job(job_id).to_dict())


# -- submit -------------------------------------------------------------------------------------------------
@bp.route("/submit", methods=("GET", "POST"))
@role_required("editor")
def submit():
    """Submit suspect text, a URL, a list of URLs, or a site to crawl once or watch."""
    from worker import dispatch

    if request.method == "GET":
        return render_template("dashboard/submit.html", form={}, error=None)
    form, registry, org, user = request.form, get_registry(), current_user.org_id, current_user.id
    kind = form.get("kind", "text")
    try:
        if kind == "text":
            text = (form.get("text") or "").replace("\r\n", "\n")
            if not text.strip():
                raise InputError("paste the suspect text")
            scan_id = dispatch.submit_scan(
                registry,
                org_id=org,
                text=text,
                url=(form.get("url") or "").strip() or None,
                source="text",
                submitted_by=user,
            )
            return redirect(url_for("dashboard.scan", scan_id=scan_id))
        if kind == "url":
            scan_id = dispatch.submit_scan(
                registry, org_id=org, url=(form.get("url") or "").strip(), source="url", submitted_by=user
            )
            return redirect(url_for("dashboard.scan", scan_id=scan_id))
        if kind == "urls":
            ids = dispatch.submit_urls(
                registry, (form.get("urls") or "").split(), org_id=org, submitted_by=user
            )
            flash(f"{len(ids)} URL(s) queued.")
            return redirect(url_for("dashboard.scans"))
        if kind in ("crawl", "watch"):
            max_pages = queries._int(
                form.get("max_pages"), "max pages", 1, dispatch.MAX_CRAWL_PAGES, dispatch.DEFAULT_CRAWL_PAGES
            )
            if kind == "crawl":
                crawl_id = dispatch.submit_crawl(
                    registry, form.get("site", ""), org_id=org, max_pages=max_pages
                )
                flash(f"Crawl {crawl_id} started: its pages appear here as they are found.")
                return redirect(url_for("activity.crawl", crawl_id=crawl_id))
            else:
                interval = queries._int(form.get("interval_hours"), "interval (hours)", 1, 24 * 90, 24)
                watch_id = dispatch.add_watch(
                    registry,
                    form.get("site", ""),
                    org_id=org,
                    interval_minutes=interval * 60,
                    max_pages=max_pages,
                    kind=form.get("watch_kind", "site"),
                )
                flash(
                    _(
                        "Watch %(id)s added: the Monitoring page shows when it runs and what it finds.",
                        id=watch_id,
                    )
                )
                return redirect(url_for("monitoring.watches"))
        raise InputError(f"unknown kind of submission {kind!r}")
    except InputError as exc:
        return render_template("dashboard/submit.html", form=form, error=str(exc), kind=kind), 422


# -- scans --------------------------------------------------------------------------------------------------
@bp.route("/scans")
def scans():
    """Scans with live status; filters by verdict, status, domain and date."""
    f = _filters()
    page = queries.paginate(get_session(), queries.scans_query(current_user.org_id, f), f)
    pending = any(s.status in ("queued", "running") for s in page.items)
    return render_template("dashboard/scans.html", page=page, filters=f, verdicts=VERDICTS, pending=pending)


@bp.route("/scans/status.json")
def scans_status():
    """Status of the given scans (``?ids=1,2,3``), for the live-status polling script."""
    try:
        ids = [int(i) for i in request.args.get("ids", "").split(",") if i.strip()][:200]
        if not all(1 <= i < 2**63 for i in ids):
            raise ValueError
    except ValueError:
        return jsonify({"error": "ids must be a comma-separated list of scan ids"}), 422
    rows = (
        get_session().scalars(select(Scan).where(Scan.org_id == current_user.org_id, Scan.id.in_(ids))).all()
    )
    return jsonify({"scans": [{**scan_dict(s, with_result=False), "matches": len(s.matches)} for s in rows]})


@bp.route("/scans/<int:scan_id>")
def scan(scan_id: int):
    """A scan: its status, the suspect text with every copied passage in <mark>, and its matches."""
    s = _or_404(queries.get_scan, scan_id, with_matches=True)
    spans = [
        Span(p.suspect_start, p.suspect_end, f"m{m.id}-p{n}", None)
        for m in s.matches
        for n, p in enumerate(m.passages, start=1)
    ]
    return render_template("dashboard/scan.html", scan=s, marked=highlight(s.text or "", spans))


# -- matches ------------------------------------------------------------------------------------------------
@bp.route("/matches")
def matches():
    """Matches to review, with filters."""
    f = _filters()
    page = queries.paginate(get_session(), queries.matches_query(current_user.org_id, f), f)
    return render_template(
        "dashboard/matches.html",
        page=page,
        filters=f,
        verdicts=VERDICTS,
        review_statuses=queries.REVIEW_STATUSES,
    )


@bp.route("/matches/<int:match_id>")
def match(match_id: int):
    """Suspect and original side by side, passages highlighted and linked, evidence and review trail."""
    m = _or_404(queries.get_match, match_id)
    suspect_text, original_text = m.scan.text or "", m.article.text if m.article else ""
    runs = passage_runs(list(m.passages), suspect_text, original_text)
    passages = [item for run in runs for item in run.items]
    suspect, original = marked_texts(suspect_text, original_text, [item.row for item in passages])
    return render_template(
        "dashboard/match.html",
        m=m,
        scan=m.scan,
        article=m.article,
        suspect=suspect,
        original=original,
        passages=passages,
        runs=runs,
        actions=queries.REVIEW_ACTIONS,
    )


@bp.route("/matches/<int:match_id>/review", methods=("POST",))
@role_required("editor")
def review(match_id: int):
    """Confirm, dismiss, mark licensed or reopen a match, with a note (kept in the audit trail)."""
    m = _or_404(queries.get_match, match_id)
    try:
        queries.review_match(
            get_session(),
            m,
            user_id=current_user.id,
            action=request.form.get("action", ""),
            note=request.form.get("note", ""),
        )
    except InputError as exc:
        get_session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("dashboard.match", match_id=match_id)), 303
    get_session().commit()
    flash(f"Match {match_id}: {m.review_status}.")
    return redirect(url_for("dashboard.match", match_id=match_id), 303)


# -- domains ------------------------------------------------------------------------------------------------
@bp.route("/domains")
def domains():
    """Which sites reuse the organisation's articles most, with their verdict mix."""
    return render_template(
        "dashboard/domains.html",
        rows=queries.domain_table(get_session(), current_user.org_id),
        verdicts=VERDICTS,
    )
