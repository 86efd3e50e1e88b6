"""Evidence a lawyer accepts (issue 10): the PDF evidence report (WeasyPrint, read back with pypdf), its
renderer that fetches nothing, and the takedown draft in English and Indonesian whose download is what
is in the box, edits included. The report and the draft run on SQLite and on PostgreSQL.

Network rule: the only server here is a loopback one that counts the requests the renderer must not make."""

from __future__ import annotations

import hashlib
import html
import io
import re
import subprocess
import sys
import threading
import types
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from checker.demo import demo_suspects
from checker.errors import InputError
from checker.models import Article, MatchRow, Organisation, Review, Scan
from tests.web.conftest import PASSWORD, SEEDS, close_app, csrf_token_of, make_app_with_world
from web.evidence import STYLESHEET_URL, RefusedFetch, StylesheetOnlyFetcher, _pdf_of, render_pdf
from web.exports import TAKEDOWN_MAX_CHARS, notice_text

ROOT = Path(__file__).resolve().parents[2]
ZONE = "Asia/Jakarta"
NOTE = "Disalin utuh tanpa izin — Ñ"
BODY = b"<html><body>the page as fetched</body></html>"
FETCHED_AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 WIB
# Fixed phrases of each letter, and which must not be in the other one.
LETTER_PHRASES = {
    "en": ("Dear Sir or Madam,", "Yours faithfully,", "Subject: Request to remove copied content"),
    "id": ("Dengan hormat,", "Hormat kami,", "Perihal  : Permohonan penghapusan"),
}


@pytest.fixture
def any_app(request, tmp_path, storage_settings):
    """The fixtures' world on SQLite, then on a fresh PostgreSQL schema (tests/conftest.py)."""
    app = make_app_with_world(request, tmp_path, storage_settings, populated=True)
    yield app
    close_app(app)


def login(client, who: str = "editor@alpha.example") -> None:
    assert client.post("/login", data={"email": who, "password": PASSWORD}).status_code == 302


def partial_copy_match(app) -> int:
    """Alpha scans the seed's partial copy (its own text around copied paragraphs), fetched at 10:00
    WIB with a body hash; Alpha's clock is Asia/Jakarta. Returns the match's id."""
    registry = app.extensions["checker.registry"]
    world = app.config["WORLD"]
    suspect = next(s for s in demo_suspects(SEEDS) if s["id"] == "partial-copy")
    scan_id = registry.record_scan(
        suspect["text"],
        suspect["url"],
        registry.scan(suspect["text"], suspect["url"], org_id=world.alpha),
        org_id=world.alpha,
    )
    with registry.Session.begin() as session:
        session.get(Organisation, world.alpha).time_zone = ZONE
        scan = session.get(Scan, scan_id)
        scan.fetched_at, scan.body_sha256, scan.final_url = (
            FETCHED_AT,
            hashlib.sha256(BODY).hexdigest(),
            suspect["url"],
        )
        return session.scalar(select(MatchRow.id).where(MatchRow.scan_id == scan_id))


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of whitespace as one space (the PDF breaks lines anywhere)."""
    return " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def stored(app) -> tuple:
    """What a download must never change: row counts and every match's review status."""
    with app.extensions["checker.registry"].Session() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Article, Scan, MatchRow, Review)
        )
        return counts, tuple(session.scalars(select(MatchRow.review_status).order_by(MatchRow.id)))


# -- the PDF report ----------------------------------------------------------------------------------
def test_pdf_report_holds_texts_verdict_hashes_review_and_zoned_dates(any_app):
    match_id = partial_copy_match(any_app)
    client = any_app.test_client()
    login(client)
    assert (
        client.post(f"/matches/{match_id}/review", data={"action": "confirmed", "note": NOTE}).status_code
        == 303
    )

    response = client.get(f"/matches/{match_id}/report.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert re.fullmatch(
        rf'attachment; filename="evidence-match-{match_id}-\d{{8}}\.pdf"',
        response.headers["Content-Disposition"],
    )
    text = pdf_text(response.data)
    with any_app.extensions["checker.registry"].Session() as session:
        m = session.get(MatchRow, match_id)
        suspect, original, passage = m.scan.text, m.article.text, m.passages[0]
        verdict, created_at = m.verdict.replace("_", " "), m.scan.created_at
    # Both texts' copied passage, and both texts whole (words of each that the other does not have).
    assert flat(suspect[passage.suspect_start : passage.suspect_end])[:120] in text
    assert flat(original[passage.source_start : passage.source_end])[:120] in text
    assert flat(suspect[: passage.suspect_start])[:80] in text and flat(original)[-80:] in text
    assert verdict in text and NOTE in text and "editor@alpha.example" in text
    # SHA-256 of each text exactly as stored (UTF-8), and of the fetched body.
    no_space = re.sub(r"\s", "", text)
    for digest in (
        hashlib.sha256(suspect.encode("utf-8")).hexdigest(),
        hashlib.sha256(original.encode("utf-8")).hexdigest(),
        hashlib.sha256(BODY).hexdigest(),
    ):
        assert digest in no_space, digest
    # Dates in the organisation's zone, named: fetched at 03:00 UTC is 10:00 WIB; the scan's creation too.
    assert "2026-11-30 10:00 WIB (Asia/Jakarta)" in text
    local_created = (created_at.astimezone(UTC) + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")
    assert f"{local_created} WIB (Asia/Jakarta)" in text
    assert "https://blog-sehat.example/vaksinasi" in text


def test_html_report_shares_the_evidence_and_links_the_pdf(app, client, world):
    login(client)
    response = client.get(f"/matches/{world.alpha_match}/report")
    page = response.get_data(as_text=True)
    with app.extensions["checker.registry"].Session() as session:
        m = session.get(MatchRow, world.alpha_match)
        digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in (m.scan.text, m.article.text)]
    assert f'href="/matches/{world.alpha_match}/report.pdf"' in page
    assert all(d in page for d in digests)
    assert 'id="suspect-text"' in page and 'id="original-text"' in page and "<mark" in page
    assert "style-src 'self'" in response.headers["Content-Security-Policy"] and "<style" not in page
    match_page = client.get(f"/matches/{world.alpha_match}").get_data(as_text=True)
    assert f'href="/matches/{world.alpha_match}/report.pdf"' in match_page


def test_another_organisations_match_has_no_pdf(client, world):
    login(client)
    assert client.get(f"/matches/{world.beta_match}/report.pdf").status_code == 404
    assert client.get("/matches/999999/report.pdf").status_code == 404


def test_the_pdf_needs_a_login(client, world):
    response = client.get(f"/matches/{world.alpha_match}/report.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


class WithoutPango(types.ModuleType):
    """WeasyPrint installed without the Pango library: its import fails with OSError (cffi's dlopen)."""

    def __getattr__(self, name):
        raise OSError("cannot load library 'libpango-1.0-0': No such file or directory")


@pytest.mark.parametrize("missing", [None, WithoutPango("weasyprint")], ids=["no-weasyprint", "no-pango"])
def test_without_weasyprint_the_pdf_is_a_503_saying_what_to_install(client, world, monkeypatch, missing):
    login(client)
    monkeypatch.setitem(sys.modules, "weasyprint", missing)  # None: import weasyprint -> ImportError
    response = client.get(f"/matches/{world.alpha_match}/report.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "pip install weasyprint" in page and "Pango" in page


def test_the_app_starts_without_importing_weasyprint():
    code = (
        "import sys; import web, web.exports, web.evidence; "
        "assert 'weasyprint' not in sys.modules, 'imported at start'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


# -- the renderer fetches nothing ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/pixel.png",
        "https://example.com/style.css",
        "file:///etc/passwd",
        "data:text/css,body{color:red}",
        "ftp://example.com/x",
        STYLESHEET_URL + "?x",
        "checker-evidence:other.css",
    ],
)
def test_fetcher_refuses_every_url_but_the_stylesheet(url):
    with pytest.raises(RefusedFetch):
        StylesheetOnlyFetcher().fetch(url)


def test_fetcher_serves_the_stylesheet():
    response = StylesheetOnlyFetcher()(STYLESHEET_URL)
    assert b"@page" in response.read()


@pytest.fixture
def counting_server():
    """A loopback HTTP server that counts the requests it gets (the renderer must make none)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_renderer_reaches_no_url(counting_server):
    base, hits = counting_server
    page = (
        f'<link rel="stylesheet" href="{base}/a.css"><style>@import url("{base}/b.css");</style>'
        f'<p>text<img src="{base}/pixel.png"><span style="background: url({base}/bg.png)">x</span></p>'
    )
    assert render_pdf(page).startswith(b"%PDF")
    assert hits == []


def test_the_same_report_within_the_minute_is_rendered_once(client, world, monkeypatch):
    import weasyprint

    _pdf_of.cache_clear()
    renders: list[str] = []
    real = weasyprint.HTML
    monkeypatch.setattr(
        weasyprint, "HTML", lambda string, **kw: renders.append(string) or real(string=string, **kw)
    )
    login(client)
    url = f"/matches/{world.alpha_match}/report.pdf"
    first, again = client.get(url), client.get(url + "?x=1")
    assert first.status_code == again.status_code == 200
    if len(renders) == 2:  # the minute turned between the two: its stamp changed, so it was rendered again
        assert renders[0] != renders[1]
    else:
        assert len(renders) == 1 and first.data == again.data
    # Anything in the report that changes is another HTML: rendered again.
    with client.application.extensions["checker.registry"].Session.begin() as session:
        session.add(Review(match_id=world.alpha_match, action="confirmed", note="checked again"))
    before = len(renders)
    assert client.get(url).status_code == 200 and len(renders) == before + 1


def test_the_report_asks_the_renderer_for_its_stylesheet_only(client, world, monkeypatch):
    _pdf_of.cache_clear()  # an earlier test's PDF of this same report would be answered unrendered
    asked: list[str] = []
    original = StylesheetOnlyFetcher.fetch
    monkeypatch.setattr(
        StylesheetOnlyFetcher,
        "fetch",
        lambda self, url, headers=None: asked.append(url) or original(self, url),
    )
    login(client)
    assert client.get(f"/matches/{world.alpha_match}/report.pdf").status_code == 200
    assert asked == [STYLESHEET_URL]


# -- the takedown draft ----------------------------------------------------------------------------
def textarea_of(page: str) -> str:
    found = re.search(r'<textarea[^>]*name="text"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert found, "no notice box"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("lang", ["en", "id"])
def test_takedown_download_is_the_edited_box_in_either_language(any_app, lang):
    world = any_app.config["WORLD"]
    client = any_app.test_client()
    login(client)
    page = client.get(f"/matches/{world.alpha_match}/takedown?lang={lang}").get_data(as_text=True)
    draft = textarea_of(page)
    other = "id" if lang == "en" else "en"
    assert all(p in draft for p in LETTER_PHRASES[lang]) and not any(
        p in draft for p in LETTER_PHRASES[other]
    )
    assert 'name="csrf_token"' in page and f'name="lang" value="{lang}"' in page
    before = stored(any_app)
    edited = draft.replace("[", "«").rstrip() + "\n\nHormat kami — Ñ\n[edited by hand]"

    response = client.post(
        f"/matches/{world.alpha_match}/takedown.txt",
        data={"text": edited.replace("\n", "\r\n"), "lang": lang},
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert re.fullmatch(
        rf'attachment; filename="takedown-match-{world.alpha_match}-{lang}\.txt"',
        response.headers["Content-Disposition"],
    )
    assert response.data == edited.encode("utf-8")
    assert stored(any_app) == before


def test_the_draft_defaults_to_the_interface_language(client, world):
    login(client)
    indonesian = textarea_of(
        client.get(
            f"/matches/{world.alpha_match}/takedown", headers={"Accept-Language": "id-ID,id;q=0.9"}
        ).get_data(as_text=True)
    )
    english = textarea_of(
        client.get(f"/matches/{world.alpha_match}/takedown", headers={"Accept-Language": "en-GB"}).get_data(
            as_text=True
        )
    )
    assert "Dengan hormat," in indonesian and "Dear Sir or Madam," in english


def test_the_indonesian_letter_writes_dates_the_indonesian_way(app, client, world):
    with app.extensions["checker.registry"].Session.begin() as session:
        session.get(Organisation, world.alpha).time_zone = ZONE
        session.get(Scan, world.alpha_scan).fetched_at = FETCHED_AT
    login(client)
    draft = client.get(f"/matches/{world.alpha_match}/takedown?lang=id&format=txt").get_data(as_text=True)
    assert "30 November 2026 pukul 10.00 WIB" in draft and "pada tanggal 6 Juli 2021" in draft


BAD_NOTICES = {
    "empty": "",
    "blank": " \r\n\t ",
    "huge": "a" * (TAKEDOWN_MAX_CHARS + 1),
    "nul": "Dengan hormat,\x00",
}


@pytest.mark.parametrize("name", BAD_NOTICES)
def test_a_bad_notice_is_a_clear_400_that_keeps_the_box(any_app, name):
    world = any_app.config["WORLD"]
    client = any_app.test_client()
    login(client)
    before = stored(any_app)
    response = client.post(
        f"/matches/{world.alpha_match}/takedown.txt", data={"text": BAD_NOTICES[name], "lang": "id"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert re.search(
        r'role="alert">Not downloaded: the notice text (is empty|is longer than|contains a NUL)', page
    )
    if name == "huge":
        assert textarea_of(page) == BAD_NOTICES[name]  # the edits are still in the box
    assert stored(any_app) == before


def test_no_text_field_is_a_400(client, world):
    login(client)
    assert client.post(f"/matches/{world.alpha_match}/takedown.txt", data={"lang": "en"}).status_code == 400


def test_a_lone_surrogate_is_refused():
    with pytest.raises(InputError, match="surrogate"):
        notice_text("Hormat kami \ud800")


def test_undecodable_bytes_never_make_a_500_nor_a_broken_file(client, world):
    """A browser cannot send a lone surrogate (it sends U+FFFD); a hand-made body with the UTF-8 form of
    one is answered without a 500, and whatever is downloaded is valid UTF-8."""
    login(client)
    response = client.post(
        f"/matches/{world.alpha_match}/takedown.txt",
        data=b"lang=en&text=Hormat%20kami%20%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 400)
    response.data.decode("utf-8")


def test_another_organisations_takedown_download_is_404(client, world):
    login(client)
    assert (
        client.post(f"/matches/{world.beta_match}/takedown.txt", data={"text": "x", "lang": "en"}).status_code
        == 404
    )


def test_the_download_needs_the_forms_csrf_token(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, WTF_CSRF_ENABLED=True)
    try:
        world = app.config["WORLD"]
        client = app.test_client()
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        client.post(
            "/login", data={"email": "editor@alpha.example", "password": PASSWORD, "csrf_token": token}
        )
        page = client.get(f"/matches/{world.alpha_match}/takedown").get_data(as_text=True)
        url = f"/matches/{world.alpha_match}/takedown.txt"
        assert client.post(url, data={"text": "Dear Sir or Madam,", "lang": "en"}).status_code == 400
        ok = client.post(
            url, data={"text": "Dear Sir or Madam,", "lang": "en", "csrf_token": csrf_token_of(page)}
        )
        assert ok.status_code == 200 and ok.data == b"Dear Sir or Madam,"
    finally:
        close_app(app)


@pytest.mark.parametrize("which", ["suspect", "original"])
def test_each_text_downloads_byte_for_byte_with_the_reports_hash(client, world, which):
    login(client)
    report = client.get(f"/matches/{world.alpha_match}/report").get_data(as_text=True)
    assert f'href="/matches/{world.alpha_match}/{which}.txt"' in report
    response = client.get(f"/matches/{world.alpha_match}/{which}.txt")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert hashlib.sha256(response.data).hexdigest() in report
    assert client.get(f"/matches/{world.beta_match}/{which}.txt").status_code == 404


def test_the_api_serves_the_pdf_to_its_organisations_token_only(client, world):
    token = {"Authorization": f"Bearer {world.tokens['viewer']}"}
    response = client.get(f"/api/matches/{world.alpha_match}/report.pdf", headers=token)
    assert (
        response.status_code == 200
        and response.mimetype == "application/pdf"
        and response.data.startswith(b"%PDF")
    )
    assert "Alpha News" in pdf_text(response.data)
    other = client.get(f"/api/matches/{world.beta_match}/report.pdf", headers=token)
    assert other.status_code == 404 and other.is_json
    assert client.get(f"/api/matches/{world.alpha_match}/report.pdf").status_code == 401


def test_without_weasyprint_the_api_answers_a_json_503(client, world, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = client.get(
        f"/api/matches/{world.alpha_match}/report.pdf",
        headers={"Authorization": f"Bearer {world.tokens['viewer']}"},
    )
    assert response.status_code == 503 and "pip install weasyprint" in response.get_json()["error"]


def test_an_unknown_zone_is_shown_as_utc_not_as_its_name(app, client, world):
    with app.extensions["checker.registry"].Session.begin() as session:
        session.get(Organisation, world.alpha).time_zone = "Mars/Olympus_Mons"
    login(client)
    text = pdf_text(client.get(f"/matches/{world.alpha_match}/report.pdf").data)
    assert "Olympus" not in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", text)


def test_a_deleted_original_still_has_its_report_and_draft(app, client, world):
    with app.extensions["checker.registry"].Session.begin() as session:
        session.get(MatchRow, world.alpha_match).article_id = None
    login(client)
    pdf = client.get(f"/matches/{world.alpha_match}/report.pdf")
    assert pdf.status_code == 200 and "a deleted article" in pdf_text(pdf.data)
    for lang in ("en", "id"):
        assert client.get(f"/matches/{world.alpha_match}/takedown?lang={lang}").status_code == 200
    assert client.get(f"/matches/{world.alpha_match}/original.txt").status_code == 404
    assert client.get(f"/matches/{world.alpha_match}/suspect.txt").status_code == 200


def test_the_image_installs_what_the_pdf_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        "libpango-1.0-0" in dockerfile and "libpangoft2-1.0-0" in dockerfile and "fonts-dejavu" in dockerfile
    )
