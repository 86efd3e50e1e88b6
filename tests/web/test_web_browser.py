"""End to end in a real browser: Debian's chromium driven by Playwright, against the app served by a
real server thread on 127.0.0.1 (in-process background tasks, CSRF on, as `checker serve` runs it).

Log in, register an article, submit a copy of it, watch the scan finish, open the match, see the
highlighted passages, confirm it, export the report. Screenshots go to the test's tmp folder; the final
match page is also copied to docs/screenshot-match.png for the README.
"""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import PASSWORD, SEEDS, close_app, make_app
from web import accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-match.png"
TIMEOUT_MS = 30_000

# No skip: a missing browser is a failure (scripts/test installs Debian's chromium).
if not CHROMIUM.exists():
    pytest.fail("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)", pytrace=False)


def editor_app(tmp_path, **config):
    """The app (CSRF on) with the editor of "Lingkar Media"; returns (app, the organisation's id)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, **config)
    with app.extensions["checker.registry"].Session.begin() as session:
        org = accounts.get_or_create_org(session, "Lingkar Media")
        accounts.create_user(
            session, email="editor@lingkar.example", password=PASSWORD, role="editor", org_id=org.id
        )
        return app, org.id


@contextmanager
def serving(app):
    """``app`` served on a free loopback port by a thread; its base URL. Closed (app too) afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        close_app(app)


@pytest.fixture
def live_server(tmp_path):
    app, _org = editor_app(tmp_path, BACKGROUND_TASKS=True)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1360, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        # Content-Security-Policy violations, from the page's own event and from the console.
        page.csp_violations = []
        page.expose_function("reportCspViolation", lambda text: page.csp_violations.append(text))
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI); });"
        )
        page.on(
            "console",
            lambda msg: (
                page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        # Network rule: the page may only reach the app on 127.0.0.1.
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith("http://127.0.0.1:") else route.abort()
            ),
        )
        yield page
        context.close()
        browser.close()


def test_register_submit_review_export_in_a_browser(live_server, page, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    original = json.loads((SEEDS / "articles.jsonl").read_text("utf-8").splitlines()[0])
    copy = next(
        json.loads(line)
        for line in (SEEDS / "suspects.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["id"] == "full-copy"
    )

    # Log in.
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "editor@lingkar.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.screenshot(path=shots / "1-overview.png", full_page=True)

    # Register the original.
    page.goto(f"{live_server}/articles")
    form = page.locator("form.card")
    form.locator("input[name=title]").fill(original["title"])
    form.locator("input[name=url]").fill(original["url"])
    form.locator("input[name=publisher]").fill(original["publisher"])
    form.locator("input[name=published_at]").fill("2021-07-06")
    form.locator("textarea[name=text]").fill(original["text"])
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/articles/*")
    assert page.locator("h1").inner_text() == original["title"]
    page.screenshot(path=shots / "2-article.png", full_page=True)

    # Submit a copy of it, and watch the scan finish (the page polls, then reloads).
    page.goto(f"{live_server}/submit")
    text_form = page.locator("form:has(input[name=kind][value=text])")
    text_form.locator("textarea[name=text]").fill(copy["text"])
    text_form.locator("input[name=url]").fill(copy["url"])
    text_form.locator("button[type=submit]").click()
    page.wait_for_url("**/scans/*")
    page.locator("text=Open match").wait_for()
    assert page.locator(".status").first.inner_text() == "done"
    assert page.locator("#suspect-text mark, .text mark").count() >= 1
    page.screenshot(path=shots / "3-scan.png", full_page=True)

    # Open the match: passages highlighted on both sides and linked to each other.
    page.click("text=Open match")
    page.wait_for_url("**/matches/*")
    suspect_mark, original_mark = (
        page.locator("#suspect-text mark#s1"),
        page.locator("#original-text mark#o1"),
    )
    assert suspect_mark.is_visible() and original_mark.is_visible()
    assert "Pemerintah Indonesia" in suspect_mark.inner_text()
    page.locator("#suspect-text a.pair[href='#o1']").click()
    assert page.url.endswith("#o1")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('mark#o1')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )

    # Confirm it, with a note.
    page.fill("textarea[name=note]", "Whole article copied without credit.")
    page.click("button[value=confirmed]")
    page.wait_for_url("**/matches/*")
    assert page.locator("#review-status").inner_text() == "confirmed"
    assert "Whole article copied without credit." in page.locator("ol.trail").inner_text()
    match_shot = shots / "4-match.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=match_shot, full_page=False)

    # Export the evidence report (printable page, saved as PDF) and the matches CSV.
    page.click("#report-link")
    page.wait_for_url("**/report")
    report = page.locator("article.report").inner_text()
    assert copy["url"] in report and original["url"] in report and "confirmed" in report
    page.screenshot(path=shots / "5-report.png", full_page=True)
    page.emulate_media(media="print")
    page.pdf(path=str(tmp_path / "evidence-report.pdf"))
    assert (tmp_path / "evidence-report.pdf").stat().st_size > 1000
    with page.expect_download() as download:
        page.evaluate(f"window.location.href = '{live_server}/exports/matches.csv'")
    csv_path = tmp_path / "matches.csv"
    download.value.save_as(csv_path)
    assert copy["url"] in csv_path.read_text("utf-8") and "confirmed" in csv_path.read_text("utf-8")

    for name in ("1-overview", "2-article", "3-scan", "4-match", "5-report"):
        assert (shots / f"{name}.png").stat().st_size > 5000
    assert_no_csp_violations(live_server, page)
    DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(match_shot, DOCS_SCREENSHOT)


MAIN_PAGES = [
    "/",
    "/articles",
    "/articles/upload",
    "/submit",
    "/scans",
    "/matches",
    "/domains",
    "/exports",
    "/api/docs",
]


def assert_no_csp_violations(live_server: str, page) -> None:
    """The dashboard runs under its strict policy without a single violation (no inline script, style or
    handler), and what used to be inline still works from app.js."""
    page.goto(f"{live_server}/matches")
    match_pages = [page.locator("a[href^='/matches/']").first.get_attribute("href")]
    match_pages.append(f"{match_pages[0]}/report")
    for path in MAIN_PAGES + match_pages:
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("load")
    # The report's Print button: hidden in the HTML, shown and bound by app.js.
    assert page.evaluate("document.querySelector('button[data-print]').hidden") is False
    page.goto(f"{live_server}/domains")
    assert page.evaluate("document.querySelector('.mix [data-flex]').style.flexGrow") != ""
    assert page.csp_violations == []
    # The listener hears violations: an inline script is refused and reported.
    page.evaluate(
        "var s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s);"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran") is None and page.csp_violations


# -- a 390 px phone ------------------------------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def seeded_server(tmp_path):
    """The app with one article of the editor's organisation and a scanned copy of it (so every list has a
    row and there is a match page), served like live_server."""
    from checker.jsonl import article_from_json
    from worker import dispatch

    app, org_id = editor_app(tmp_path, BACKGROUND_TASKS=False)
    registry = app.extensions["checker.registry"]
    original = json.loads((SEEDS / "articles.jsonl").read_text("utf-8").splitlines()[0])
    copy = next(
        json.loads(line)
        for line in (SEEDS / "suspects.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["id"] == "full-copy"
    )
    registry.register_many([article_from_json(original, 1, registry.settings.max_text_chars)], org_id=org_id)
    dispatch.submit_scan(registry, org_id=org_id, text=copy["text"], url=copy["url"], source="text")
    with serving(app) as url:
        yield url


# Per page: what is wider than a 390 px screen (the page itself, a table, or its scrolling box), and the
# buttons whose label wraps onto a second line (a word broken in two, or two words split).
NARROW_CHECK = """() => {
  const width = window.innerWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) wide.push("page " + document.documentElement.scrollWidth);
  for (const table of document.querySelectorAll("main table")) {
    const box = table.closest(".table-scroll") || table;
    const right = box.getBoundingClientRect().right;
    if (right > width + 0.5) wide.push("table " + Math.round(right));
  }
  const wrapped = [];
  for (const el of document.querySelectorAll("main a.button, main button, header a")) {
    if (!el.offsetParent) continue;
    const lines = el.getClientRects().length;
    const style = getComputedStyle(el);
    const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
    const inner = el.getBoundingClientRect().height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    if (lines > 1 || inner > lineHeight * 1.5) wrapped.push(el.textContent.trim());
  }
  // Words of titles, links in tables and buttons that are split over two lines.
  const broken = [];
  for (const el of document.querySelectorAll("main h1, main h2, main td a, main a.button, main button")) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
        if (tops.size > 1 && !/[/.]/.test(m[0])) broken.push(m[0]);  // URLs may wrap
      }
    }
  }
  return {wide: wide, wrapped: wrapped.concat(broken), tables: document.querySelectorAll("main table").length};
}"""


def test_the_dashboard_fits_a_phone(seeded_server, page, tmp_path):
    page.set_viewport_size(PHONE)
    page.goto(f"{seeded_server}/login")
    page.fill("input[name=email]", "editor@lingkar.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{seeded_server}/")

    # The skip link is the first thing the keyboard reaches, and it leads past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("[document.activeElement.className, document.activeElement.textContent]") == [
        "skip-link",
        "Skip to content",
    ]
    assert page.locator(".skip-link").is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    page.goto(f"{seeded_server}/matches")
    match_path = page.locator("main a[href^='/matches/']").first.get_attribute("href")
    pages = [
        ("/", "Overview", "page", True),
        ("/scans", "Scans", "page", True),
        ("/matches", "Matches", "page", True),
        (match_path, "Matches", "true", False),
    ]  # the match page has no table: the page itself must fit
    for path, current, how, has_table in pages:
        response = page.goto(f"{seeded_server}{path}")
        assert response.status == 200, path
        found = page.evaluate(NARROW_CHECK)
        page.screenshot(path=tmp_path / f"phone{path.replace('/', '-')}.png", full_page=True)
        assert found["tables"] >= has_table, path
        assert found["wide"] == [], f"{path}: wider than {PHONE['width']} px: {found['wide']}"
        assert found["wrapped"] == [], f"{path}: labels broken over lines: {found['wrapped']}"
        marked = page.locator("header nav a[aria-current]")
        assert marked.count() == 1 and marked.inner_text() == current, path
        assert marked.get_attribute("aria-current") == how, path
        # The current link looks different from the others.
        other = page.locator("header nav a:not([aria-current])").first
        style = "el => [getComputedStyle(el).fontWeight, getComputedStyle(el).textDecorationLine]"
        assert marked.evaluate(style) != other.evaluate(style), path

    # The icon: linked from every page and answered at /favicon.ico too (no 404s in the log).
    icon = page.locator("link[rel=icon]").get_attribute("href")
    for path in (icon, "/favicon.ico"):
        response = page.request.get(f"{seeded_server}{path}")
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml"), path
    assert_no_csp_violations(seeded_server, page)
