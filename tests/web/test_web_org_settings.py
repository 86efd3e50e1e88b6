"""The organisation's settings page (web/org_settings.py) and the scan page's "why was this excluded"
note, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from checker.models import Organisation, Scan
from tests.conftest import SEEDS, read_jsonl
from tests.web.conftest import PASSWORD, close_app, csrf_token_of, make_app_with_world

SUSPECTS = {s["id"]: s for s in read_jsonl(SEEDS / "suspects.jsonl")}
GOOD = {
    "min_match_words": "60",
    "exclude_quotes": "no",
    "excluded_sources": "Partner.Example\r\n\r\nhttps://mirror.example/synd/",
    "time_zone": "Asia/Jakarta",
}


@pytest.fixture
def site(storage_app):
    """An app with the fixtures' world, on SQLite, then on a fresh PostgreSQL schema (conftest's storage_app)."""
    return storage_app


def login(app, who: str):
    client = app.test_client()
    assert client.post("/login", data={"email": who, "password": PASSWORD}).status_code == 302
    return client


def stored(app, org_id: int) -> tuple:
    with app.extensions["checker.registry"].Session() as session:
        org = session.get(Organisation, org_id)
        return org.min_match_words, org.exclude_quotes, org.excluded_sources, org.time_zone


def scan_page(app, client, text: str, url: str = "") -> str:
    response = client.post("/submit", data={"kind": "text", "text": text, "url": url})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


# -- who sees and who changes --------------------------------------------------------------------------------
def test_an_admin_changes_the_settings_and_sees_them(site):
    world, admin = site.config["WORLD"], login(site, "admin@alpha.example")
    page = admin.get("/settings").get_data(as_text=True)
    assert 'name="min_match_words"' in page and "Save settings" in page and "<fieldset disabled" not in page
    assert re.search(r'<a href="/settings" aria-current="page">', page)  # the nav link, marked current
    assert "<option selected>UTC</option>" in page
    response = admin.post("/settings", data=GOOD)
    assert response.status_code == 303
    assert "Settings saved." in admin.get("/settings").get_data(as_text=True)
    assert stored(site, world.alpha) == (
        60,
        False,
        ["partner.example", "https://mirror.example/synd"],
        "Asia/Jakarta",
    )
    page = admin.get("/settings").get_data(as_text=True)
    assert (
        'value="60"' in page
        and '<option value="no" selected>' in page
        and "<option selected>Asia/Jakarta</option>" in page
    )
    assert "partner.example\nhttps://mirror.example/synd</textarea>" in page
    assert stored(site, world.beta)[:3] == (None, True, None)  # another organisation keeps its own


@pytest.mark.parametrize("who", ["viewer@alpha.example", "editor@alpha.example"])
def test_viewers_and_editors_read_the_settings_but_cannot_change_them(site, who):
    world, client = site.config["WORLD"], login(site, who)
    page = client.get("/settings").get_data(as_text=True)
    assert "Only an administrator" in page and "<fieldset disabled>" in page and "Save settings" not in page
    assert 'href="/settings"' not in page.split("</nav>")[0]  # no nav link for them
    before = stored(site, world.alpha)
    assert client.post("/settings", data=GOOD).status_code == 403
    assert stored(site, world.alpha) == before


def test_the_page_needs_a_login(site):
    response = site.test_client().get("/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- every field checked, nothing stored on bad input ---------------------------------------------------------
@pytest.mark.parametrize(
    "change, message",
    [
        ({"min_match_words": "10"}, "below the engine&#39;s own minimum of 15 words"),
        ({"min_match_words": "lots"}, "whole number"),
        ({"min_match_words": "1" * 30}, "whole number"),
        ({"exclude_quotes": "maybe"}, "Quotations excluded must be yes or no"),
        ({"excluded_sources": "ok.example\njavascript:alert(1)"}, "excluded sources entry 2"),
        ({"excluded_sources": "a\x00b.example"}, "NUL"),
        ({"excluded_sources": "\n".join(f"s{n}.example" for n in range(101))}, "at most 100"),
        ({"time_zone": "Mars/Base"}, "not a known time zone"),
        ({"time_zone": ""}, "time zone is empty"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_input_is_a_422_with_the_reason_and_changes_nothing(site, change, message):
    world, admin = site.config["WORLD"], login(site, "admin@alpha.example")
    assert admin.post("/settings", data={**GOOD, "min_match_words": "30"}).status_code == 303
    before = stored(site, world.alpha)
    response = admin.post("/settings", data={**GOOD, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in page and message in page, page[:3000]
    assert stored(site, world.alpha) == before
    if "min_match_words" in change and "\x00" not in change["min_match_words"]:
        assert f'value="{change["min_match_words"]}"' in page  # what was typed is kept


def test_the_form_needs_its_csrf_token(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, WTF_CSRF_ENABLED=True)
    try:
        world = app.config["WORLD"]
        client = app.test_client()
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        client.post(
            "/login", data={"email": "admin@alpha.example", "password": PASSWORD, "csrf_token": token}
        )
        assert client.post("/settings", data=GOOD).status_code == 400
        assert stored(app, world.alpha)[0] is None
        token = csrf_token_of(client.get("/settings").get_data(as_text=True))
        assert client.post("/settings", data={**GOOD, "csrf_token": token}).status_code == 303
        assert stored(app, world.alpha)[0] == 60
    finally:
        close_app(app)


# -- the note on a scan ------------------------------------------------------------------------------------------
def test_a_scan_says_which_match_the_minimum_hid(site):
    """partial-copy copies one 58-word passage: at a minimum of 60 it is hidden, and the scan page says so."""
    admin, editor = login(site, "admin@alpha.example"), login(site, "editor@alpha.example")
    text = SUSPECTS["partial-copy"]["text"]
    before = scan_page(site, editor, text)
    assert "Hidden by the organisation" not in before and "Open match" in before
    assert admin.post("/settings", data={**GOOD, "excluded_sources": ""}).status_code == 303
    page = scan_page(site, editor, text)
    assert "Hidden by the organisation’s match settings" in page
    assert re.search(
        r"1 match with “[^”]*Vaksin Spuntnik V” \(58 words\) was hidden because it is smaller than "
        r"the organisation’s minimum of 60 words\.",
        page,
    ), page
    assert "Open match" not in page and 'href="/settings"' in page
    with site.extensions["checker.registry"].Session() as session:
        scan = session.query(Scan).order_by(Scan.id.desc()).first()
        assert scan.result["excluded"][0]["minimum"] == 60 and not scan.matches
    api = site.test_client().get(
        f"/api/scans/{scan.id}", headers={"Authorization": f"Bearer {site.config['WORLD'].tokens['viewer']}"}
    )
    assert api.get_json()["result"]["excluded"][0]["reason"] == "min_match_words"


def test_a_scan_of_an_excluded_source_says_so(site):
    admin, editor = login(site, "admin@alpha.example"), login(site, "editor@alpha.example")
    assert admin.post("/settings", data={**GOOD, "min_match_words": ""}).status_code == 303
    text = SUSPECTS["full-copy"]["text"]
    page = scan_page(site, editor, text, "https://news.partner.example/copy")
    assert (
        "Not reported: this suspect is on an excluded source (partner.example). 1 match was hidden." in page
    )
    assert "Open match" not in page
    page = scan_page(site, editor, text, "https://elsewhere.example/copy")  # elsewhere: reported as before
    assert "Hidden by the organisation" not in page and "Open match" in page


# -- alerts (issue 11) -----------------------------------------------------------------------------------------
def test_alert_frequency_and_addresses(site):
    world, admin = site.config["WORLD"], login(site, "admin@alpha.example")
    page = admin.get("/settings").get_data(as_text=True)
    assert '<option value="immediate" selected>' in page and 'name="alert_emails"' in page
    bad = admin.post(
        "/settings", data={**GOOD, "alert_frequency": "daily", "alert_emails": "desk@alpha.example\nnot mail"}
    )
    assert bad.status_code == 422 and "is not an e-mail address" in bad.get_data(as_text=True)
    assert "not mail</textarea>" in bad.get_data(as_text=True)  # the form keeps what was typed
    with site.extensions["checker.registry"].Session() as session:
        org = session.get(Organisation, world.alpha)
        assert (org.alert_frequency, org.alert_emails, org.min_match_words) == (
            "immediate",
            None,
            None,
        )  # nothing stored
    ok = admin.post(
        "/settings",
        data={**GOOD, "alert_frequency": "daily", "alert_emails": "Desk@Alpha.example, ed@alpha.example\n"},
    )
    assert ok.status_code == 303
    with site.extensions["checker.registry"].Session() as session:
        org = session.get(Organisation, world.alpha)
        assert (org.alert_frequency, org.alert_emails) == (
            "daily",
            ["desk@alpha.example", "ed@alpha.example"],
        )
    assert admin.post("/settings", data={**GOOD, "alert_frequency": "hourly"}).status_code == 422
    editor = login(site, "editor@alpha.example")
    assert editor.post("/settings", data={**GOOD, "alert_frequency": "immediate"}).status_code == 403
