"""The match page leads to the copy, in a real browser (issue 10, point 3): Debian's chromium driven by
Playwright against the app served on 127.0.0.1 (the fixtures of test_web_browser.py).

A long suspect holds two paragraphs of a long original, far apart in both (tests/web/test_web_match_page.py
makes the texts). On load the first passage is in view in both panes; clicking passage 2 in the list, the
Next/Previous buttons and the keys n/j and p/k bring that passage into view in both panes, judged by the
passage's box against its pane's box; keys typed into the note are text, not navigation; no
Content-Security-Policy violation; at 390 px the list and the panes fit the screen.
"""

from __future__ import annotations

import pytest

from tests.web import test_web_browser as browser
from tests.web.conftest import PASSWORD
from tests.web.test_web_browser import NARROW_CHECK, PHONE, editor_app, serving
from tests.web.test_web_match_page import add_copies

page = (
    browser.page
)  # the browser fixture (chromium, CSP violations collected, loopback only), found here by name

# Where a passage's mark lies in its pane: its top against the pane's visible box (px, viewport coordinates).
PLACE = """([paneId, markId]) => {
  const pane = document.getElementById(paneId).getBoundingClientRect();
  const mark = document.getElementById(markId).getBoundingClientRect();
  return {paneTop: pane.top, paneBottom: pane.bottom, top: mark.top, height: mark.height,
          scrolled: document.getElementById(paneId).scrollTop};
}"""


@pytest.fixture
def copies_server(tmp_path):
    """The app with the made-up original and its copies, served; (base URL, match ids)."""
    app, _org = editor_app(tmp_path, BACKGROUND_TASKS=False)
    copies = add_copies(app)
    with serving(app) as url:
        yield url, copies


def in_view(page, n: int) -> dict[str, dict]:
    """For each pane, where passage ``n`` is; asserts its first line is inside the pane's box."""
    places = {}
    for pane, mark in (("suspect-text", f"s{n}"), ("original-text", f"o{n}")):
        place = page.evaluate(PLACE, [pane, mark])
        assert place["paneTop"] - 1 <= place["top"] <= place["paneBottom"] - 20, (n, pane, place)
        places[pane] = place
    return places


def out_of_view(page, n: int, pane: str, prefix: str) -> bool:
    place = page.evaluate(PLACE, [pane, f"{prefix}{n}"])
    return place["top"] >= place["paneBottom"] or place["top"] + place["height"] <= place["paneTop"]


def current(page) -> list[str]:
    """The passage the list marks current, and the marks outlined in the panes."""
    return page.evaluate("""() => [
      Array.from(document.querySelectorAll('.passage-link[aria-current=true]')).map(a => a.dataset.passage).join(','),
      Array.from(document.querySelectorAll('.match-panes mark.current')).map(m => m.id).join(',')]""")


def login(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "editor@copies.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_the_match_page_takes_both_panes_to_each_passage(copies_server, page, tmp_path):
    base, copies = copies_server
    login(page, base)
    page.goto(f"{base}/matches/{copies.far}")

    # On load: passage 1 in view in both panes (the suspect's pane had to scroll to it), passage 2 not.
    places = in_view(page, 1)
    assert places["suspect-text"]["scrolled"] > 0
    assert out_of_view(page, 2, "suspect-text", "s") and out_of_view(page, 2, "original-text", "o")
    assert current(page) == ["1", "s1,o1"]
    assert page.locator("[data-passage-status]").inner_text() == "Passage 1 of 2"
    page.screenshot(path=tmp_path / "match-desktop.png", full_page=True)

    # Passage 2 from the list: in view in both panes, marked current there and in the list.
    page.click(".passage-link[data-passage='2']")
    in_view(page, 2)
    assert out_of_view(page, 1, "suspect-text", "s") and out_of_view(page, 1, "original-text", "o")
    assert current(page) == ["2", "s2,o2"]
    outline = page.evaluate("getComputedStyle(document.getElementById('s2')).outlineStyle")
    assert outline == "solid"

    # Keys: p and k go back, n and j forward; never past either end.
    for key, n in (("p", 1), ("n", 2), ("n", 2), ("k", 1), ("k", 1), ("j", 2)):
        page.keyboard.press(key)
        in_view(page, n)
        assert current(page)[0] == str(n), key
    # Typed into the note, n and p are text.
    page.click("textarea[name=note]")
    page.keyboard.type("pnpk")
    assert current(page)[0] == "2" and page.input_value("textarea[name=note]") == "pnpk"

    # The buttons (shown by the script).
    page.click("button[data-passage-step='-1']")
    in_view(page, 1)
    page.click("button[data-passage-step='1']")
    in_view(page, 2)
    assert current(page) == ["2", "s2,o2"]

    # A badge in the text: the same passage on both sides, the address naming the other side.
    page.click("#original-text a.passage-n[data-passage='1']")
    in_view(page, 1)
    assert page.url.endswith("#s1")
    assert page.csp_violations == []


def test_a_passage_named_in_the_address_opens_in_view(copies_server, page):
    base, copies = copies_server
    login(page, base)
    page.goto(f"{base}/matches/{copies.far}#o2")
    in_view(page, 2)
    assert current(page) == ["2", "s2,o2"]


def test_the_match_page_fits_a_phone(copies_server, page, tmp_path):
    base, copies = copies_server
    page.set_viewport_size(PHONE)
    login(page, base)
    for match_id in (copies.far, copies.stitched):
        page.goto(f"{base}/matches/{match_id}")
        in_view(page, 1)
        found = page.evaluate(NARROW_CHECK)
        assert found["wide"] == [] and found["wrapped"] == [], found
        boxes = page.evaluate("""() => ['section.passages', '#suspect-text', '#original-text', '.passage-nav']
          .map(sel => [sel, document.querySelector(sel).getBoundingClientRect().right,
                       document.querySelector(sel).scrollWidth <= document.querySelector(sel).clientWidth + 1])""")
        for selector, right, no_sideways in boxes:
            assert right <= PHONE["width"], (selector, right)
            assert no_sideways or selector.endswith("-text"), selector  # the list never scrolls sideways
        page.click(".passage-link[data-passage='2']")
        in_view(page, 2)
        page.screenshot(path=tmp_path / f"match-phone-{match_id}.png", full_page=True)
    assert page.csp_violations == []
