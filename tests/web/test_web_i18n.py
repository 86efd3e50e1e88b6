"""The dashboard in Indonesian and English, and dates in the organisation's time zone (issue 10).

The language: the account's choice (users.locale) over this browser's earlier choice (a cookie) over
Accept-Language over English; the header's switcher stores it. Dates: ``<time datetime="UTC">local
time ZONE</time>`` in the organisation's zone. The catalogue: every message the templates and web/
ask for has an Indonesian translation whose placeholders match, and the committed .mo is the .po compiled.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from checker.models import Organisation, User
from tests.web.conftest import SEEDS
from web import accounts, i18n

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "web" / "translations" / "id" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sd]|%%|\{[a-z_]+\}")  # gettext's, and app.js's {name}
TAG = re.compile(r"</?[a-z]+")
INSTANT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found, "no <html lang> in the page"
    return found.group(1)


def nav_of(html: str) -> str:
    found = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S)
    assert found, "no main navigation in the page"
    return found.group(1)


def user_row(app, email: str) -> User:
    with app.extensions["checker.registry"].Session() as session:
        return session.query(User).filter_by(email=email).one()


def set_org_zone(app, org_id: int, zone: str) -> None:
    with app.extensions["checker.registry"].Session.begin() as session:
        session.get(Organisation, org_id).time_zone = zone


# -- the language -------------------------------------------------------------------------------------------
def test_the_browser_language_chooses_the_login_page_language(client):
    indonesian = client.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert lang_of(indonesian) == "id"
    assert "<h1>Masuk</h1>" in indonesian and "Kata sandi" in indonesian
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert lang_of(english) == "en" and "<h1>Log in</h1>" in english
    other = client.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.5"}).get_data(as_text=True)
    assert lang_of(other) == "en" and "<h1>Log in</h1>" in other  # no match: English


def test_a_logged_in_page_follows_the_browser_when_the_account_has_no_choice(world, client, auth):
    auth.login()
    html = client.get("/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert lang_of(html) == "id"
    nav = nav_of(html)
    for word in ("Ringkasan", "Artikel", "Pemindaian", "Kecocokan", "Ekspor"):
        assert word in nav
    assert "Keluar" in html and "Overview" not in nav


def test_the_account_choice_overrides_the_browser(app, world, client, auth):
    with app.extensions["checker.registry"].Session.begin() as session:
        session.query(User).filter_by(email="editor@alpha.example").one().locale = "en"
    auth.login()
    html = client.get("/scans", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert lang_of(html) == "en" and "Scans" in nav_of(html)


def test_the_switcher_stores_the_choice_on_the_account_and_it_survives_logout_and_login(
    app, world, client, auth
):
    auth.login()
    assert 'action="/language"' in client.get("/").get_data(as_text=True)  # the switcher is in the header
    response = client.post("/language", data={"locale": "id", "next": "/scans?status=done"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/scans?status=done")
    assert user_row(app, "editor@alpha.example").locale == "id"
    assert lang_of(client.get("/scans").get_data(as_text=True)) == "id"

    logged_out = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert (
        lang_of(logged_out) == "id" and "Anda telah keluar." in logged_out
    )  # the cookie keeps the login page

    client.delete_cookie(i18n.LOCALE_COOKIE)  # another browser, which asks for English
    auth.login()
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert lang_of(html) == "id" and "Pemindaian" in nav_of(html)

    client.post("/language", data={"locale": "en", "next": "/"})
    assert user_row(app, "editor@alpha.example").locale == "en"
    assert lang_of(client.get("/", headers={"Accept-Language": "id"}).get_data(as_text=True)) == "en"


def test_the_switcher_before_login_uses_a_cookie_and_refuses_unknown_languages(app, world, client):
    assert 'name="locale" value="id"' in client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"locale": "id", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{i18n.LOCALE_COOKIE}=id") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert lang_of(html) == "id" and "<h1>Masuk</h1>" in html
    assert client.post("/language", data={"locale": "xx"}).status_code == 400
    assert user_row(app, "editor@alpha.example").locale is None  # nobody was logged in


def test_the_switcher_goes_back_only_to_this_site(client):
    response = client.post("/language", data={"locale": "en", "next": "//evil.example/x"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_messages_from_python_are_translated(world, client):
    refused = client.post(
        "/login",
        data={"email": "editor@alpha.example", "password": "wrong password"},
        headers={"Accept-Language": "id"},
    )
    assert refused.status_code == 401 and "Email atau kata sandi salah" in refused.get_data(as_text=True)
    missing = client.get("/no-such-page", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Tidak ditemukan." in missing and "Galat 404" in missing
    redirected = client.get("/scans", headers={"Accept-Language": "id"}, follow_redirects=True)
    assert "Silakan masuk untuk melihat halaman ini." in redirected.get_data(as_text=True)


def test_the_refused_login_message_is_marked_for_translation():
    assert accounts.LOGIN_REFUSED in i18n.MARKED


# -- time zones ---------------------------------------------------------------------------------------------
def test_dates_show_in_the_organisation_time_zone_with_the_zone(app, world, client, auth):
    with app.extensions["checker.registry"].Session.begin() as session:
        session.query(User).filter_by(email="viewer@alpha.example").one().last_login_at = INSTANT
    auth.login("admin@alpha.example")
    set_org_zone(app, world.alpha, "Asia/Jakarta")
    jakarta = client.get("/admin/users").get_data(as_text=True)
    assert '<time datetime="2026-11-30T03:00:00Z">2026-11-30 10:00 WIB</time>' in jakarta
    set_org_zone(app, world.alpha, "UTC")
    utc = client.get("/admin/users").get_data(as_text=True)
    assert '<time datetime="2026-11-30T03:00:00Z">2026-11-30 03:00 UTC</time>' in utc
    assert "WIB" not in utc


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Jakarta", "2026-11-30 10:00 WIB"),
        ("Asia/Makassar", "2026-11-30 11:00 WITA"),
        ("Asia/Dubai", "2026-11-30 07:00 +04:00"),  # the tz database has no letters for it
        ("Asia/Kolkata", "2026-11-30 08:30 IST"),
        ("America/St_Johns", "2026-11-29 23:30 NST"),
        ("Europe/Berlin", "2026-11-30 04:00 CET"),
        ("UTC", "2026-11-30 03:00 UTC"),
        ("Not/AZone", "2026-11-30 03:00 UTC"),  # an unknown name never breaks a page
    ],
)
def test_when_names_the_zone_or_its_offset(app, zone, shown):
    with app.test_request_context("/"):
        html = str(i18n.format_when(INSTANT, zone))
    assert html == f'<time datetime="2026-11-30T03:00:00Z">{shown}</time>'


def test_when_takes_naive_times_as_utc_and_shows_a_dash_for_none(app):
    with app.test_request_context("/"):
        assert "10:00 WIB" in i18n.format_when(INSTANT.replace(tzinfo=None), "Asia/Jakarta")
        assert i18n.format_when(None) == "–"


def test_days_are_written_in_the_reader_language(app):
    with app.test_request_context("/", headers={"Accept-Language": "id"}):
        assert i18n.format_day(INSTANT.date()) == "30 Nov 2026"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.format_day(INSTANT.date()) == "Nov 30, 2026"


def test_the_demo_creates_its_organisation_in_jakarta_time_and_leaves_existing_ones(app):
    from checker.demo import DEMO_TIME_ZONE, demo_org

    with app.extensions["checker.registry"].Session.begin() as session:
        assert demo_org(session, "Demo newsroom").time_zone == DEMO_TIME_ZONE == "Asia/Jakarta"
        accounts.get_or_create_org(session, "Existing")
    with app.extensions["checker.registry"].Session.begin() as session:
        assert demo_org(session, "Existing").time_zone == "UTC"


def test_serve_demo_fills_an_organisation_in_jakarta_time(app):
    from checker.orgs import DEFAULT_ORG
    from web.cli import setup_demo

    registry = app.extensions["checker.registry"]
    setup_demo(registry, SEEDS)
    with registry.Session() as session:
        assert session.query(Organisation).filter_by(name=DEFAULT_ORG).one().time_zone == "Asia/Jakarta"


# -- the catalogue ------------------------------------------------------------------------------------------
def extracted_messages() -> dict[str, str]:
    """What `pybabel extract -F babel.cfg -k _l` finds: msgid -> where (the first place it is used)."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text("utf-8")))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault(singular(message), f"{filename}:{lineno}")
    return found


def singular(msgid: str | tuple) -> str:
    """A message's key: its msgid, or for a plural message (``{% pluralize %}``) its singular."""
    return msgid if isinstance(msgid, str) else msgid[0]


def texts(value: str | tuple) -> tuple[str, ...]:
    """A msgid or msgstr as its forms (one for a plain message; Indonesian has one plural form)."""
    return (value,) if isinstance(value, str) else tuple(value)


def indonesian() -> dict[str, object]:
    with PO.open("rb") as fh:
        return {singular(m.id): m for m in read_po(fh, locale="id") if m.id}


def test_every_message_has_an_indonesian_translation():
    catalogue = indonesian()
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in extracted_messages().items()
        if msgid not in catalogue or not all(texts(catalogue[msgid].string)) or catalogue[msgid].fuzzy
    ]
    assert not missing, "untranslated (see docs/translating.md):\n" + "\n".join(missing)
    assert {"Pemindaian", "Kecocokan", "Masuk", "Keluar", "Ekspor"} <= {
        texts(m.string)[0] for m in catalogue.values()
    }


def test_translations_keep_their_placeholders_and_markup():
    broken = []
    for message in indonesian().values():
        source = texts(message.id)[-1]  # the plural form: the one whose placeholders a count fills
        for translated in filter(None, texts(message.string)):
            for pattern in (PLACEHOLDER, TAG):
                if sorted(pattern.findall(source)) != sorted(pattern.findall(translated)):
                    broken.append(f"{message.id!r} -> {translated!r}")
    assert not broken, "\n".join(broken)


def test_the_committed_mo_is_the_po_compiled():
    with PO.open("rb") as fh:
        catalogue = read_po(fh, locale="id")
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    assert MO.read_bytes() == compiled.getvalue(), (
        "run: pybabel compile -d web/translations (docs/translating.md)"
    )


def test_the_catalogue_declares_indonesian_plurals():
    text = PO.read_text("utf-8")
    assert '"Language: id\\n"' in text and '"Plural-Forms: nplurals=1; plural=0;\\n"' in text
