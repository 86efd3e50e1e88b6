"""Evidence of one match, as a lawyer reads it: both texts with the copied passages marked, the verdict
and why, the numbers, the dates in the organisation's time zone, the review trail and a SHA-256 of each
text; shown as a page (``exports.report``) and as a PDF (``exports.report_pdf``, WeasyPrint).

Why the PDF renderer never fetches: the report holds text written by strangers (the suspect page), and a
renderer that follows URLs is an SSRF and a tracking pixel. :class:`StylesheetOnlyFetcher` serves the
report's own stylesheet and refuses every other URL (http, file, data, ...).

WeasyPrint needs the Pango library at import time; it is imported when a PDF is asked for, so a server
without it starts and answers that one route with a 503 saying what to install.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, abort, render_template

from checker.attribution import host_of
from checker.errors import CheckerError, NotFound
from web import queries
from web.db import get_session
from web.errors import json_error
from web.highlight import excerpt, marked_texts
from web.i18n import zone_of

# The PDF's stylesheet: the one URL the PDF renderer may open (a made-up scheme, so that no real
# address, file path or base URL can ever resolve to it).
STYLESHEET_FILE = Path(__file__).with_name("static") / "report_pdf.css"
STYLESHEET_URL = "checker-evidence:report_pdf.css"
INSTALL_HINT = (
    "pip install weasyprint (in the checker's environment) and the Pango library: "
    "apt install libpango-1.0-0 libpangoft2-1.0-0 on Debian or Ubuntu"
)


def text_sha256(text: str | None) -> str | None:
    """Hex SHA-256 of ``text`` exactly as stored, encoded as UTF-8 (what ``sha256sum`` of the text saved
    as a UTF-8 file without a final newline prints); None when there is no text."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence(match_id: int, account) -> dict:
    """Everything the report, the PDF and the takedown draft show about ``account``'s match ``match_id``
    (404 for an unknown id or another organisation's)."""
    try:
        m = queries.get_match(get_session(), account.org_id, match_id)
    except NotFound:
        abort(404)
    scan, article = m.scan, m.article
    suspect_text, original_text = scan.text or "", article.text if article else ""
    passages = [
        {
            "n": n,
            "suspect": excerpt(suspect_text, p.suspect_start, p.suspect_end),
            "source": excerpt(original_text, p.source_start, p.source_end),
            "p": p,
        }
        for n, p in enumerate(m.passages, start=1)
    ]
    suspect_marked, original_marked = marked_texts(suspect_text, original_text, m.passages)
    suspect_url = scan.final_url or scan.url or m.suspect_url
    return {
        "m": m,
        "scan": scan,
        "article": article,
        "passages": passages,
        "suspect_url": suspect_url,
        "suspect_marked": suspect_marked,
        "original_marked": original_marked,
        "hashes": {
            "suspect": text_sha256(scan.text),
            "original": text_sha256(article.text) if article else None,
            "body": scan.body_sha256,
        },
        # To the minute, as the report shows it: the same report asked for again within the minute is
        # the same HTML, whose PDF is rendered once (_pdf_of).
        "generated_at": datetime.now(UTC).replace(second=0, microsecond=0),
        "zone": zone_of(account.time_zone).key,
        "org_name": account.org_name,
        "domain": host_of(suspect_url),
    }


def report_filename(match_id: int, generated_at: datetime) -> str:
    """``evidence-match-12-20261130.pdf``: which match, and the day (UTC) the report was made."""
    return f"evidence-match-{match_id}-{generated_at:%Y%m%d}.pdf"


class RefusedFetch(ValueError):
    """The PDF renderer asked for a URL other than the report's stylesheet."""


class StylesheetOnlyFetcher:
    """A WeasyPrint ``url_fetcher`` that answers :data:`STYLESHEET_URL` with the report's stylesheet and
    refuses every other URL. WeasyPrint calls it and reads ``_fail_on_errors``; a refused resource is
    left out of the PDF (logged by WeasyPrint), the rest of the report is still made."""

    _fail_on_errors = False

    def __call__(self, url: str):
        return self.fetch(url)

    def fetch(self, url: str, headers=None):
        if url != STYLESHEET_URL:
            raise RefusedFetch(f"the evidence report fetches nothing: refused {url[:200]!r}")
        from weasyprint.urls import URLFetcherResponse

        return URLFetcherResponse(
            url, STYLESHEET_FILE.read_bytes(), {"Content-Type": "text/css; charset=utf-8"}
        )


class PdfUnavailable(CheckerError):
    """WeasyPrint or the Pango library it needs is not installed."""


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (which links only :data:`STYLESHEET_URL`), made without any network access."""
    try:
        from weasyprint import HTML  # noqa: F401  (here, to say what is missing; _pdf_of uses it)
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint is there but cannot load Pango
        raise PdfUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return _pdf_of(html)


# The same HTML makes the same PDF, and a render costs about 0.7 s of CPU. The report's time stamp is to
# the minute, so a report asked for again within it (a second click, a retry, the page's and the API's
# download) is the same HTML: those are answered from here. Keyed by the whole HTML, so any change in
# the match, its review, the language or the zone renders again.
PDF_CACHE_SIZE = 16


@functools.lru_cache(maxsize=PDF_CACHE_SIZE)
def _pdf_of(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, url_fetcher=StylesheetOnlyFetcher()).write_pdf()
    return pdf


def pdf_response(match_id: int, account, unavailable) -> Response:
    """The report of ``account``'s match as a PDF download; ``unavailable(context, reason)`` answers
    (a 503 naming what to install) when the PDF renderer is missing."""
    context = evidence(match_id, account)
    html = render_template("dashboard/report_pdf.html", stylesheet_url=STYLESHEET_URL, pdf=True, **context)
    try:
        pdf = render_pdf(html)
    except PdfUnavailable as exc:
        return unavailable(context, str(exc))
    filename = report_filename(match_id, context["generated_at"])
    return Response(
        pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def unavailable_page(context: dict, reason: str) -> Response:
    page = render_template(
        "dashboard/report_pdf_unavailable.html", m=context["m"], hint=INSTALL_HINT, reason=reason
    )
    return Response(page, status=503, mimetype="text/html")


def unavailable_json(context: dict, reason: str) -> Response:
    return json_error(503, f"PDF reports are not available on this server ({reason}): {INSTALL_HINT}")
