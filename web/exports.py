"""Evidence out of the dashboard: matches as CSV and JSON, a printable report per match, and a
takedown-notice draft filled from that report."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from flask import Response, abort, render_template, request
from flask_login import current_user

from checker.errors import InputError, NotFound
from web import queries
from web.dashboard import bp
from web.db import get_session
from web.highlight import excerpt
from web.serialize import match_dict

# Rows in one export; a larger export is narrowed with the list's filters.
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = ("match_id", "scan_id", "found_at", "suspect_url", "suspect_domain", "article_id", "article_title",
               "article_url", "kind", "verdict", "score", "suspect_coverage", "source_coverage", "attributed",
               "licensed", "review_status", "passages")


def _export_filters() -> queries.Filters:
    try:
        return queries.Filters.parse(request.args)
    except InputError as exc:
        abort(Response(f"error: {exc}\n", status=422, mimetype="text/plain"))


def _rows(f: queries.Filters):
    return get_session().scalars(queries.matches_query(current_user.org_id, f).limit(MAX_EXPORT_ROWS))


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/exports")
def exports():
    """Export links (they take the same filters as the matches list)."""
    return render_template("dashboard/exports.html", query=request.query_string.decode("ascii", "replace"))


@bp.route("/exports/matches.csv")
def export_csv():
    """Matches as CSV."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for m in _rows(_export_filters()):
        writer.writerow([_cell(v) for v in (
            m.id, m.scan_id, m.created_at.isoformat(), m.suspect_url, queries.domain_of(m.suspect_url),
            m.article_id, m.article.title if m.article else "", m.article.url if m.article else "", m.kind, m.verdict,
            f"{m.score:.4f}", f"{m.suspect_coverage:.4f}", f"{m.source_coverage:.4f}", m.attributed, m.licensed,
            m.review_status, len(m.passages))])
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="matches-{_stamp()}.csv"'})


@bp.route("/exports/matches.json")
def export_json():
    """Matches as JSON, with passages and review trails."""
    body = {"exported_at": datetime.now(timezone.utc).isoformat(), "organisation": current_user.org_name,
            "matches": [match_dict(m) for m in _rows(_export_filters())]}
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="matches-{_stamp()}.json"'})


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")


def _evidence(match_id: int) -> dict:
    try:
        m = queries.get_match(get_session(), current_user.org_id, match_id)
    except NotFound:
        abort(404)
    scan, article = m.scan, m.article
    passages = [{"n": n, "suspect": excerpt(scan.text, p.suspect_start, p.suspect_end),
                 "source": excerpt(article.text if article else "", p.source_start, p.source_end), "p": p}
                for n, p in enumerate(m.passages, start=1)]
    return {"m": m, "scan": scan, "article": article, "passages": passages,
            "suspect_url": scan.final_url or scan.url or m.suspect_url, "generated_at": datetime.now(timezone.utc),
            "org_name": current_user.org_name, "domain": queries.domain_of(scan.final_url or scan.url)}


@bp.route("/matches/<int:match_id>/report")
def report(match_id: int):
    """Printable evidence report: both URLs, fetch time, body hash, passages side by side."""
    return render_template("dashboard/report.html", **_evidence(match_id))


@bp.route("/matches/<int:match_id>/takedown")
def takedown(match_id: int):
    """A takedown-notice draft filled from the evidence report (``?format=txt`` downloads it)."""
    evidence = _evidence(match_id)
    text = render_template("dashboard/takedown.txt", **evidence)
    if request.args.get("format") == "txt":
        return Response(text, mimetype="text/plain",
                        headers={"Content-Disposition": f'attachment; filename="takedown-match-{match_id}.txt"'})
    return render_template("dashboard/takedown.html", text=text, **evidence)


