"""Housekeeping in a real browser (Debian's chromium driven by Playwright, CSRF on, served by a real
server thread on 127.0.0.1): edit an article's title, delete it through its confirmation page, change
the password and log in with the new one. No script may break the strict CSP on these pages.
"""

from __future__ import annotations

import json

import pytest

from tests.web import test_web_browser as browser
from tests.web.conftest import PASSWORD, SEEDS
from tests.web.test_web_browser import editor_app, serving

page = browser.page  # the browser fixture (Debian's chromium, CSP violations recorded), shared

NEW_PASSWORD = "a brand new passphrase"
EDITOR = "editor@lingkar.example"


@pytest.fixture
def article_server(tmp_path):
    """The editor's organisation holding the seed article; (base URL, article id, the app's registry)."""
    from checker.jsonl import article_from_json

    app, org_id = editor_app(tmp_path, BACKGROUND_TASKS=False)
    registry = app.extensions["checker.registry"]
    original = json.loads((SEEDS / "articles.jsonl").read_text("utf-8").splitlines()[0])
    article_id = registry.register(
        article_from_json(original, 1, registry.settings.max_text_chars), org_id=org_id
    )
    with serving(app) as url:
        yield url, article_id, registry, org_id


def log_in(page, base: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", EDITOR)
    page.fill("input[name=password]", password)
    page.click("form.card button[type=submit]")


def test_edit_delete_and_change_the_password_in_a_browser(article_server, page, tmp_path):
    base, article_id, registry, org_id = article_server
    text = registry.get_article(article_id).text
    log_in(page, base, PASSWORD)
    page.wait_for_url(f"{base}/")

    # Edit the title.
    page.goto(f"{base}/articles/{article_id}")
    page.click(".article-actions >> text=Edit")
    page.wait_for_url(f"**/articles/{article_id}/edit")
    assert page.locator("textarea[name=text]").input_value() == text  # the stored text, as it is
    page.fill("input[name=title]", "Kerja sama vaksin (edited)")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/articles/{article_id}")
    assert page.locator("h1").inner_text() == "Kerja sama vaksin (edited)"
    assert "Article updated: title." in page.locator(".flash").first.inner_text()
    assert registry.get_article(article_id).title == "Kerja sama vaksin (edited)"
    page.screenshot(path=tmp_path / "1-edited.png", full_page=True)

    # Delete it: the confirmation page first; Cancel keeps it, the button deletes it.
    page.click(".article-actions >> text=Delete")
    page.wait_for_url(f"**/articles/{article_id}/delete")
    assert "Delete the article" in page.locator("h1").inner_text()
    assert "cannot be undone" in page.locator("form.confirm").inner_text()
    page.screenshot(path=tmp_path / "2-confirm.png", full_page=True)
    page.click("form.confirm >> text=Cancel")
    page.wait_for_url(f"{base}/articles/{article_id}")
    assert registry.count_articles(org_id) == 1
    page.click(".article-actions >> text=Delete")
    page.click("form.confirm button.danger")
    page.wait_for_url(f"{base}/articles")
    assert "deleted" in page.locator(".flash").first.inner_text()
    assert "Kerja sama vaksin (edited)" not in page.locator("main table").inner_text()
    assert registry.count_articles(org_id) == 0
    assert not registry.scan(text, org_id=org_id).matches  # out of the index

    # Change the password from the header's link, log out, log in with the new one.
    page.click("header >> text=Password")
    page.wait_for_url(f"{base}/account/password")
    page.fill("input[name=current_password]", "not my password")
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("form.card button[type=submit]")
    assert "the current password is wrong" in page.locator("form.card .flash.error").inner_text()
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_selector("text=Password changed")
    page.goto(f"{base}/")  # still logged in in this browser
    assert EDITOR in page.locator("header .who").inner_text()
    page.click("header .who button[type=submit]")  # log out
    page.wait_for_url("**/login")
    log_in(page, base, PASSWORD)
    assert page.locator(".flash.error").count() == 1  # the old password no longer works
    log_in(page, base, NEW_PASSWORD)
    page.wait_for_url(f"{base}/")
    assert page.csp_violations == []
