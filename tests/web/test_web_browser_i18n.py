"""The language switcher in a real browser (Debian's chromium, Playwright): an editor whose browser asks
for English switches the dashboard to Bahasa Indonesia from the header, sees the navigation in
Indonesian on this and the next page, and the page breaks no Content-Security-Policy rule (the switcher
is a plain form: no script, no inline style). The scans list's live updates (app.js) speak the page's
language too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from checker import scans
from checker.models import Scan
from tests.web.conftest import PASSWORD
from tests.web.test_web_browser import editor_app, live_server, page, serving  # noqa: F401 - shared fixtures


def log_in(page, base: str) -> None:  # noqa: F811 - the page fixture
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "editor@lingkar.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_switching_to_indonesian_in_the_header(live_server, page):  # noqa: F811 - fixtures
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "en"
    log_in(page, live_server)
    nav = page.locator("header nav")
    assert "Scans" in nav.inner_text()

    page.goto(f"{live_server}/scans")
    page.locator("header form.lang button[value=id]").click()
    page.wait_for_url(f"{live_server}/scans")  # back on the page it was on
    assert page.locator("html").get_attribute("lang") == "id"
    text = nav.inner_text()
    for word in ("Ringkasan", "Artikel", "Kirim", "Pemindaian", "Kecocokan", "Ekspor"):
        assert word in text, f"{word!r} not in the navigation: {text!r}"
    assert "Scans" not in text
    assert page.locator("h1").inner_text() == "Pemindaian"
    assert page.locator("header form.who button").inner_text() == "Keluar"

    page.goto(f"{live_server}/")  # the choice stays
    assert page.locator("html").get_attribute("lang") == "id" and "Ringkasan" in nav.inner_text()
    assert page.csp_violations == []


@pytest.fixture
def quiet_server(tmp_path):
    """The app with no background worker (a queued scan stays queued until the test moves it on)."""
    app, org_id = editor_app(tmp_path, BACKGROUND_TASKS=False)
    with serving(app) as url:
        yield url, app.extensions["checker.registry"].Session, org_id


def test_live_status_updates_are_in_the_page_language(quiet_server, page):  # noqa: F811 - fixtures
    base, Session, org_id = quiet_server
    scan_id = scans.create_scan(Session, org_id=org_id, text="Teks yang dicurigai untuk uji bahasa. " * 5)
    log_in(page, base)
    page.goto(f"{base}/scans")
    page.locator("header form.lang button[value=id]").click()
    page.wait_for_url(f"{base}/scans")
    status = page.locator(f"tr[data-scan-id='{scan_id}'] [data-field=status]")
    assert status.inner_text() == "dalam antrean"  # rendered by the server

    with Session.begin() as session:
        session.execute(update(Scan).where(Scan.id == scan_id).values(status="running"))
    expect(status).to_have_text("berjalan")  # written by app.js, from the page's data-terms
    scans.fail(Session, scan_id, "")
    expect(status).to_have_text("gagal")
    assert page.locator(f"tr[data-scan-id='{scan_id}'] .reason.failed").inner_text() in (
        "tidak ada alasan yang tercatat",
        scans.readable_error(""),
    )
    assert page.csp_violations == []
