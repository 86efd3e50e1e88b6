"""The monitoring page in a real browser (Debian's chromium driven by Playwright, CSRF on, served by a real
server thread on 127.0.0.1): open it from the navigation, add a watch, pause and resume it, remove it
through its confirmation page, and on a 390 px phone (in English and Indonesian) each watch is a card
and nothing is wider than the screen. No script may break the strict CSP.

Nothing is fetched: no scheduler runs in this app (BACKGROUND_TASKS and SCHEDULER off), so the watch is
only stored; tests/worker/test_scheduler.py runs watches.
"""

from __future__ import annotations

from sqlalchemy import select

from checker.models import Watch
from tests.web import test_web_browser as browser
from tests.web.conftest import PASSWORD
from tests.web.test_web_browser import NARROW_CHECK, PHONE, editor_app, serving

page = browser.page  # the browser fixture (Debian's chromium, CSP violations recorded), shared

EDITOR = "editor@lingkar.example"
FEED = "https://copier.example/feed.xml"


def stored(registry) -> list[tuple]:
    with registry.Session() as session:
        return [
            (w.url, w.kind, w.interval_minutes, w.max_pages, w.active)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]


def test_watch_pause_resume_and_remove_in_a_browser(tmp_path, page):
    app, _ = editor_app(tmp_path, BACKGROUND_TASKS=False, SCHEDULER=False)
    registry = app.extensions["checker.registry"]
    with serving(app) as base:
        page.goto(f"{base}/login")
        page.fill("input[name=email]", EDITOR)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.card button[type=submit]")
        page.wait_for_url(f"{base}/")

        # From the navigation; the link is marked as the current page there.
        page.click("header nav >> text=Monitoring")
        page.wait_for_url(f"{base}/watches")
        assert page.locator("header nav a[aria-current=page]").inner_text() == "Monitoring"
        assert "Nothing is watched yet." in page.locator("#watches").inner_text()

        # Add a feed, every 30 minutes.
        form = page.locator("#add-watch")
        form.locator("input[name=url]").fill(FEED)
        form.locator("select[name=kind]").select_option("feed")
        form.locator("input[name=interval]").fill("30")
        form.locator("select[name=interval_unit]").select_option("minutes")
        form.locator("input[name=max_pages]").fill("10")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/watches")
        assert "Watch 1 added" in page.locator(".flash").first.inner_text()
        row = page.locator("#watches tr[data-watch-id='1']")
        assert FEED in row.inner_text() and "feed or sitemap" in row.inner_text()
        assert "every 30 minutes" in row.inner_text() and row.locator(".badge").inner_text() == "active"
        assert stored(registry) == [(FEED, "feed", 30, 10, True)]
        page.screenshot(path=tmp_path / "1-added.png", full_page=True)

        # A bad interval: said in words, the form keeps what was typed, nothing stored.
        form.locator("input[name=url]").fill("https://copier.example/")
        form.locator("input[name=interval]").fill("2")
        form.locator("select[name=interval_unit]").select_option("minutes")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state("load")
        assert "between 5 minutes and 90 days" in page.locator("main .flash.error").inner_text()
        assert page.locator("#add-watch input[name=url]").input_value() == "https://copier.example/"
        assert len(stored(registry)) == 1

        # Pause, then resume.
        page.locator("#watches tr[data-watch-id='1'] button", has_text="Pause").click()
        page.wait_for_load_state("load")
        assert "Watch 1 paused" in page.locator(".flash").first.inner_text()
        assert row.locator(".badge").inner_text() == "paused" and f"paused by {EDITOR}" in row.inner_text()
        assert stored(registry)[0][4] is False
        row.locator("button", has_text="Resume").click()
        page.wait_for_load_state("load")
        assert "Watch 1 resumed" in page.locator(".flash").first.inner_text()
        assert row.locator(".badge").inner_text() == "active" and stored(registry)[0][4] is True

        # Remove: the confirmation page first; Cancel keeps it, its button removes it.
        row.locator("a", has_text="Remove").click()
        page.wait_for_url(f"{base}/watches/1/remove")
        assert f"Stop watching {FEED}?" in page.locator("h1").inner_text()
        page.screenshot(path=tmp_path / "2-confirm.png", full_page=True)
        page.click("form.confirm >> text=Cancel")
        page.wait_for_url(f"{base}/watches")
        assert len(stored(registry)) == 1
        row.locator("a", has_text="Remove").click()
        page.click("form.confirm button.danger")
        page.wait_for_url(f"{base}/watches")
        assert "Watch 1 removed" in page.locator(".flash").first.inner_text()
        assert stored(registry) == []
        assert "Nothing is watched yet." in page.locator("#watches").inner_text()

        # A 390 px phone, with two watches (one paused with a long reason): cards, nothing too wide.
        for url in (
            "https://a-rather-long-subdomain.copier-with-a-long-name.example/section/feed.xml",
            "https://copier.example/",
        ):
            form.locator("input[name=url]").fill(url)
            form.locator("input[name=interval]").fill("24")
            form.locator("select[name=interval_unit]").select_option("hours")
            form.locator("button[type=submit]").click()
            page.wait_for_load_state("load")
        page.locator("#watches tbody tr").first.locator("button", has_text="Pause").click()
        page.wait_for_load_state("load")
        page.set_viewport_size(PHONE)
        for language in ("English", "Bahasa Indonesia"):
            if language != "English":
                page.click(f"form.lang button >> text={language}")
                page.wait_for_load_state("load")
            assert page.goto(f"{base}/watches").status == 200
            found = page.evaluate(NARROW_CHECK)
            assert found["wide"] == [], f"{language}: wider than {PHONE['width']} px: {found['wide']}"
            # This page's own labels (the header's are the same on every page: test_web_browser checks them;
            # in Indonesian its "Kata sandi" link wraps beside the account's long line on every page).
            header = set(page.locator("header a, header button").all_inner_texts())
            wrapped = [text for text in found["wrapped"] if text not in header]
            assert wrapped == [], f"{language}: labels broken over lines: {wrapped}"
            # Cards: the header row is hidden, each cell above the next with its label.
            assert page.locator("#watches thead").evaluate("el => el.getBoundingClientRect().height") <= 1
            cells = page.locator("#watches tbody tr").first.locator("td")
            lefts = {
                round(cells.nth(i).evaluate("el => el.getBoundingClientRect().left"))
                for i in range(cells.count())
            }
            assert len(lefts) == 1, lefts
            page.screenshot(path=tmp_path / f"3-phone-{language[:2]}.png", full_page=True)
    assert page.csp_violations == []
