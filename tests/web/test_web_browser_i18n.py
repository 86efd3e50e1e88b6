"""The language switcher in a real browser (Debian's chromium, Playwright): an editor whose browser asks
for English switches the dashboard to Bahasa Indonesia from the header, sees the navigation in
Indonesian on this and the next page, and the page breaks no Content-Security-Policy rule (the switcher
is a plain form: no script, no inline style)."""

from __future__ import annotations

from tests.web.conftest import PASSWORD
from tests.web.test_web_browser import live_server, page  # noqa: F401 - the fixtures, shared


def test_switching_to_indonesian_in_the_header(live_server, page):  # noqa: F811 - fixtures
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "en"
    page.fill("input[name=email]", "editor@lingkar.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
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
