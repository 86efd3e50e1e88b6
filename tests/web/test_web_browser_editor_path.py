"""The editor's path of issue 10, end to end, in both languages: Debian's chromium driven by Playwright
against the app served on 127.0.0.1 (the fixtures of test_web_browser.py).

An Indonesian publisher's editor registers an original from the CLI and finds it in the dashboard,
submits a suspect that copies two paragraphs of it (far apart) and one short sentence of another
article, opens the match and jumps to the second passage (in view in both panes), sets a minimum match
size that hides the short copy and reads the note saying so, exports the PDF evidence report (its text
read back with pypdf), downloads an edited takedown draft, and checks at 390 px that no table is wider
than the screen. The same path runs in English and in Indonesian (the browser asks for Indonesian; the
pages must then be in Indonesian).

The CLI registers before the server starts: a running server does not yet see articles another process
adds to its memory index (issue 12, point 3).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checker.orgs import DEFAULT_ORG
from tests.web import test_web_browser as browser
from tests.web.conftest import PASSWORD, SEEDS, make_app
from tests.web.test_web_browser import NARROW_CHECK, PHONE, serving
from tests.web.test_web_browser_match import in_view
from web import accounts

page = (
    browser.page
)  # the browser fixture (chromium, CSP violations collected, loopback only), found here by name

DOCS = Path(__file__).resolve().parents[2] / "docs"
EMAIL = "redaksi@lingkar.example"
QUOTES = re.compile(r"[\"“”„«»]")
# Words on the pages that say which language they are in (the nav and the match page's headings).
IN_LANGUAGE = {"en": ("Articles", "Copied passages"), "id": ("Artikel", "Petikan yang disalin")}
MIN_WORDS = 30  # above the short copy (a sentence of 20-29 words), below both long ones


def seed_articles() -> list[dict]:
    return [json.loads(line) for line in (SEEDS / "articles.jsonl").read_text("utf-8").splitlines()]


def unquoted(paragraphs: list[str], lo: int, hi: int) -> list[str]:
    """Paragraphs of ``lo``..``hi`` words without quotation marks (quotations are excluded by default)."""
    return [p for p in paragraphs if lo <= len(p.split()) <= hi and not QUOTES.search(p)]


def the_texts() -> dict:
    """The original (long), another article, and a suspect with two far-apart paragraphs of the original and
    one short sentence of the other, between unrelated paragraphs."""
    articles = seed_articles()
    original, other = articles[1], articles[2]
    long_ones = unquoted(original["text"].split("\n\n"), 35, 80)
    first, second = long_ones[0], long_ones[-1]
    short = unquoted(other["text"].split("\n\n"), 20, MIN_WORDS - 1)[0]
    filler = next(
        json.loads(line)["text"]
        for line in (SEEDS / "suspects.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["id"] == "unrelated"
    ).split("\n\n")
    suspect = "\n\n".join([*filler[:3], first, *filler[3:8], second, *filler[8:], short])
    return {
        "original": original,
        "other": other,
        "suspect": suspect,
        "first": first,
        "second": second,
        "short": short,
    }


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``checker ARGS`` in a process of its own, on the app's data folder, in the default organisation."""
    env = {**os.environ, "CHECKER_DATA_DIR": str(data_dir)}
    env.pop("CHECKER_ORG", None)
    return subprocess.run(
        [sys.executable, "-m", "checker.cli", *args],
        input=stdin,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        check=True,
    )


@pytest.fixture
def editor_server(tmp_path):
    """Both articles registered by the CLI, then the app served, with an administrator of the CLI's
    organisation (the default one): (base URL, texts)."""
    texts = the_texts()
    data_dir = tmp_path / "data"
    for art in (texts["original"], texts["other"]):
        cli(
            data_dir,
            "register",
            "-",
            "--title",
            art["title"],
            "--url",
            art["url"],
            "--publisher",
            art["publisher"],
            stdin=art["text"],
        )
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, BACKGROUND_TASKS=True)
    with app.extensions["checker.registry"].Session.begin() as session:
        org = accounts.get_or_create_org(session, DEFAULT_ORG)
        accounts.create_user(session, email=EMAIL, password=PASSWORD, role="admin", org_id=org.id)
    with serving(app) as url:
        yield url, texts


def log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def submit_suspect(page, base: str, text: str) -> str:
    """Submit ``text`` and wait for its scan to finish; the scan page's path."""
    page.goto(f"{base}/submit")
    form = page.locator("form:has(input[name=kind][value=text])")
    form.locator("textarea[name=text]").fill(text)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/scans/*")
    page.locator(".status.done").first.wait_for()
    return page.url.removeprefix(base)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_editors_path(editor_server, page, tmp_path, lang):
    base, texts = editor_server
    page.set_extra_http_headers({"Accept-Language": "id-ID,id;q=0.9" if lang == "id" else "en-GB,en;q=0.9"})
    nav_word, passages_heading = IN_LANGUAGE[lang]
    log_in(page, base)
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("header nav a[href='/articles']").inner_text() == nav_word

    # What the CLI registered is what the dashboard lists.
    page.goto(f"{base}/articles")
    listed = page.locator("main").inner_text()
    assert texts["original"]["title"] in listed and texts["other"]["title"] in listed

    # A suspect with two copied paragraphs of the original, far apart, and a short copy of the other.
    scan_path = submit_suspect(page, base, texts["suspect"])
    rows = page.locator("main table a[href^='/matches/']")
    assert page.locator("main").inner_text().count(texts["other"]["title"]) >= 1  # the short copy is found
    match_link = page.locator("main table tr", has_text=texts["original"]["title"]).locator(
        "a[href^='/matches/']"
    )
    assert rows.count() >= 2
    match_link.first.click()
    page.wait_for_url("**/matches/*")
    match_path = page.url.removeprefix(base).split("#")[0]
    assert page.locator("#passages-title").inner_text() == passages_heading
    assert int(page.locator("[data-passages]").get_attribute("data-passages")) >= 2
    in_view(page, 1)  # the first passage is in view in both panes when the page opens

    # Jump to the second copied paragraph: in view in both panes.
    second = page.locator(".passage-link").filter(has_text=texts["second"].split()[0])
    n = int(
        (second.first if second.count() else page.locator(".passage-link").last).get_attribute("data-passage")
    )
    assert n >= 2
    page.locator(f".passage-link[data-passage='{n}']").click()
    in_view(page, n)
    assert (
        texts["second"][:40] in page.locator(f"#s{n}").inner_text().replace("\n", " ")
        or page.locator(f"#s{n}").inner_text().split()[0] in texts["second"]
    )
    page.evaluate("document.getElementById('passages-title').scrollIntoView()")  # the list above the panes
    in_view(page, n)  # scrolling the page leaves each pane where it was
    page.screenshot(path=tmp_path / f"match-{lang}.png", full_page=False)
    if lang == "id":
        page.screenshot(path=DOCS / "screenshot-match-id.png", full_page=False)

    # The PDF evidence report: both copied paragraphs, the hashes of both texts, the verdict.
    with page.expect_download() as download:
        page.locator("#report-pdf-link").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    report = pdf_text(pdf)
    for text in (texts["suspect"], texts["original"]["text"]):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() in report.replace(" ", "")
    assert " ".join(texts["first"].split()[:8]) in report
    assert texts["original"]["title"].split()[0] in report

    # An edited takedown draft: what is downloaded is what is in the box.
    page.goto(f"{base}{match_path}/takedown")
    box = page.locator("textarea[name=text]")
    edited = box.input_value().replace("[", "«", 1) + "\nCatatan redaksi: dikirim 30 November 2026 — Ñ\n"
    box.fill(edited)
    with page.expect_download() as download:
        page.locator("form:has(textarea[name=text]) button[type=submit]").click()
    assert (
        Path(download.value.path()).read_text("utf-8").replace("\r\n", "\n").strip()
        == edited.replace("\r\n", "\n").strip()
    )

    # A minimum match size that hides the short copy; the next scan says so.
    page.goto(f"{base}/settings")
    page.fill("input[name=min_match_words]", str(MIN_WORDS))
    page.locator("form.settings button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("input[name=min_match_words]").input_value() == str(MIN_WORDS)
    submit_suspect(page, base, texts["suspect"])
    note = page.locator(".excluded-note")
    assert (
        note.is_visible()
        and texts["other"]["title"] in note.inner_text()
        and str(MIN_WORDS) in note.inner_text()
    )
    assert (
        page.locator("main table tr", has_text=texts["original"]["title"]).count() == 1
    )  # the long copy stays
    assert page.locator("main table tr", has_text=texts["other"]["title"]).count() == 0

    # A 390 px phone: nothing wider than the screen, on the lists and on the match and scan pages.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}{match_path}")
    article_path = page.locator("main a[href^='/articles/']").first.get_attribute("href")
    for path in (
        "/",
        "/articles",
        article_path,
        f"{article_path}/edit",
        "/scans",
        "/matches",
        scan_path,
        match_path,
        f"{match_path}/report",
        f"{match_path}/takedown",
        "/settings",
        "/crawls",
        "/alerts",
        "/account/password",
        "/submit",
    ):
        assert page.goto(f"{base}{path}").status == 200, path
        found = page.evaluate(NARROW_CHECK)
        assert found["wide"] == [], f"{lang} {path}: wider than {PHONE['width']} px: {found['wide']}"
    page.goto(f"{base}{match_path}")
    in_view(page, 1)
    page.screenshot(path=tmp_path / f"match-phone-{lang}.png", full_page=False)
    if lang == "en":
        page.screenshot(path=DOCS / "screenshot-match-phone.png", full_page=False)
    assert page.csp_violations == []
