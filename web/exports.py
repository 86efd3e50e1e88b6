"""Evidence out of the dashboard, a blueprint of its own: matches as CSV and JSON, a printable report
per match and its PDF (made by web.evidence), each text as stored, and a takedown-notice draft filled
from that report, in English or Indonesian. Every page needs a login; the data is the account's
organisation's."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from babel.dates import format_datetime
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from checker import validate
from checker.attribution import host_of
from checker.errors import InputError
from web import queries
from web.db import get_session
from web.evidence import evidence, pdf_response, unavailable_page
from web.i18n import as_utc, zone_label, zone_of
from web.serialize import match_dict

bp = Blueprint("exports", __name__)


@bp.before_request
@login_required
def _login() -> None:
    """Every export needs a logged-in account."""


# Rows in one export; a larger export is narrowed with the list's filters.
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = (
    "match_id",
    "scan_id",
    "found_at",
    "suspect_url",
    "suspect_domain",
    "article_id",
    "article_title",
    "article_url",
    "kind",
    "verdict",
    "score",
    "suspect_coverage",
    "source_coverage",
    "attributed",
    "licensed",
    "review_status",
    "passages",
    # The counts behind the two shares (web.coverage), appended so older readers keep their columns.
    "words_matched",
    "suspect_words",
    "source_words",
)


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
def index():
    """Export links (they take the same filters as the matches list)."""
    return render_template("dashboard/exports.html", query=request.query_string.decode("ascii", "replace"))


@bp.route("/exports/matches.csv")
def export_csv():
    """Matches as CSV."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for m in _rows(_export_filters()):
        writer.writerow(
            [
                _cell(v)
                for v in (
                    m.id,
                    m.scan_id,
                    m.created_at.isoformat(),
                    m.suspect_url,
                    host_of(m.suspect_url),
                    m.article_id,
                    m.article.title if m.article else "",
                    m.article.url if m.article else "",
                    m.kind,
                    m.verdict,
                    f"{m.score:.4f}",
                    f"{m.suspect_coverage:.4f}",
                    f"{m.source_coverage:.4f}",
                    m.attributed,
                    m.licensed,
                    m.review_status,
                    len(m.passages),
                    m.words_matched,
                    m.suspect_words,
                    m.source_words,
                )
            ]
        )
    return Response(
        buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="matches-{_stamp()}.csv"'},
    )


@bp.route("/exports/matches.json")
def export_json():
    """Matches as JSON, with passages and review trails."""
    body = {
        "exported_at": datetime.now(UTC).isoformat(),
        "organisation": current_user.org_name,
        "matches": [match_dict(m) for m in _rows(_export_filters())],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="matches-{_stamp()}.json"'},
    )


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M")


@bp.route("/matches/<int:match_id>/report")
def report(match_id: int):
    """Printable evidence report: both texts marked, verdict, numbers, dates, hashes and review trail."""
    return render_template("dashboard/report.html", **evidence(match_id, current_user))


# -- takedown draft ---------------------------------------------------------------------------------------
# The letter's languages (each has its own template, takedown_<code>.txt: a letter is content written
# whole in its language, not assembled from translated fragments).
TAKEDOWN_LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
# Longest notice accepted back from the box: a letter is a page or two; this leaves room for long quotes.
TAKEDOWN_MAX_CHARS = 50_000


def takedown_language(value: str | None) -> str:
    """``value`` if it is a language the letter is written in, else the reader's interface language."""
    if value in TAKEDOWN_LANGUAGES:
        return value
    current = str(get_locale() or "en")
    return current if current in TAKEDOWN_LANGUAGES else "en"


def notice_text(value) -> str:
    """The notice as typed in the box (browsers send CRLF line ends; the file gets LF), refused with an
    InputError when it is missing, blank, longer than :data:`TAKEDOWN_MAX_CHARS` or holds a NUL or a lone
    surrogate (checker.validate.text_field's rules)."""
    text = (value if isinstance(value, str) else "").replace("\r\n", "\n")
    validate.text_field(text, _("the notice text"), TAKEDOWN_MAX_CHARS, required=True)
    return text


# How each letter writes a date and a moment (CLDR patterns; the zone's abbreviation follows).
LETTER_DATES = {"en": ("d MMMM y", "d MMMM y 'at' HH:mm"), "id": ("d MMMM y", "d MMMM y 'pukul' HH.mm")}


def letter_dates(lang: str, zone: str):
    """``(day, moment)``: functions writing a stored UTC datetime the way the letter's language does, in
    the organisation's time zone: "30 November 2026", "30 November 2026 pukul 10.00 WIB"."""
    day_pattern, moment_pattern = LETTER_DATES[lang]
    tz = zone_of(zone)

    def day(value) -> str:
        return format_datetime(as_utc(value), day_pattern, tzinfo=tz, locale=lang)

    def moment(value) -> str:
        local = as_utc(value).astimezone(tz)
        return f"{format_datetime(local, moment_pattern, tzinfo=tz, locale=lang)} {zone_label(local)}"

    return day, moment


def draft_letter(context: dict, lang: str) -> str:
    """The takedown letter of the evidence ``context``, written whole in ``lang`` (takedown_<lang>.txt)."""
    day, moment = letter_dates(lang, context["zone"])
    return render_template(f"dashboard/takedown_{lang}.txt", day=day, moment=moment, **context)


def _takedown_page(
    match_id: int, lang: str, text: str | None = None, error: str | None = None, status: int = 200
):
    context = evidence(match_id, current_user)
    if text is None:
        text = draft_letter(context, lang)
    return render_template(
        "dashboard/takedown.html",
        text=text,
        lang=lang,
        letter_languages=TAKEDOWN_LANGUAGES,
        error=error,
        **context,
    ), status


@bp.route("/matches/<int:match_id>/report.pdf")
def report_pdf(match_id: int):
    """The evidence report as a PDF (WeasyPrint), for filing or sending to a lawyer."""
    return pdf_response(match_id, current_user, unavailable_page)


@bp.route("/matches/<int:match_id>/<any(suspect, original):which>.txt")
def text_file(match_id: int, which: str):
    """The copy's or the original's text exactly as stored, UTF-8: ``sha256sum`` of this file is the
    report's SHA-256 of that text (docs/evidence.md)."""
    context = evidence(match_id, current_user)
    if which == "suspect":
        text = context["scan"].text
    else:
        text = context["article"].text if context["article"] else None
    if text is None:
        abort(404)
    return Response(
        text.encode("utf-8"),
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="match-{match_id}-{which}.txt"'},
    )


@bp.route("/matches/<int:match_id>/takedown")
def takedown(match_id: int):
    """A takedown-notice draft filled from the evidence report, in English or Indonesian (``?lang=``),
    editable in a box; ``?format=txt`` downloads the draft as written, before any edit."""
    lang = takedown_language(request.args.get("lang"))
    if request.args.get("format") == "txt":
        text = draft_letter(evidence(match_id, current_user), lang)
        return _text_download(text, match_id, lang)
    return _takedown_page(match_id, lang)


@bp.route("/matches/<int:match_id>/takedown.txt", methods=("POST",))
def takedown_download(match_id: int):
    """ "Download as text": the notice exactly as it is in the box, edits included (a form post, so
    nothing typed is lost); a 400 page with the text kept in the box when it cannot be a notice."""
    evidence(match_id, current_user)  # another organisation's match is a 404, as on the page
    lang = takedown_language(request.form.get("lang"))
    raw = request.form.get("text")
    try:
        text = notice_text(raw)
    except InputError as exc:
        return _takedown_page(match_id, lang, text=raw or "", error=str(exc), status=400)
    return _text_download(text, match_id, lang)


def _text_download(text: str, match_id: int, lang: str) -> Response:
    return Response(
        text,
        mimetype="text/plain",  # Flask adds charset=utf-8
        headers={"Content-Disposition": f'attachment; filename="takedown-match-{match_id}-{lang}.txt"'},
    )
