"""Housekeeping in the dashboard (issue 10): editing and deleting an article with the index kept in step,
confirmation pages before every destructive action, organisations created by a site admin, and every
user's own password change. On SQLite and on the real PostgreSQL server.

Each action is checked from the outside (the pages and a scan of the index) and against the stored data;
bad input answers a clear error and leaves the stored data as it was.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from checker.models import ApiToken, Article, MatchRow, Organisation, Review, User
from tests.web.conftest import (
    PASSWORD,
    SEEDS,
    close_app,
    csrf_token_of,
    make_app_with_world,
)
from web import accounts

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(request, tmp_path, storage_settings):
    """The app on SQLite, then on PostgreSQL (overrides tests/web/conftest.py's SQLite-only one)."""
    app = make_app_with_world(request, tmp_path, storage_settings)
    yield app
    close_app(app)


@pytest.fixture
def registry(app):
    return app.extensions["checker.registry"]


@pytest.fixture
def suspects():
    from checker.demo import demo_suspects

    return {s["id"]: s for s in demo_suspects(SEEDS)}


def matched_ids(registry, text: str, org_id: int) -> set[int]:
    """The articles a scan of ``text`` in the organisation finds."""
    return {m.article.id for m in registry.scan(text, org_id=org_id).matches}


def stored(registry, article_id: int) -> Article | None:
    with registry.Session() as session:
        return session.get(Article, article_id)


class FormFields(HTMLParser):
    """The values a browser would send for the page's forms: inputs, selected options, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.values):
            self.values[self._select] = a.get("value", "\0text")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data
        elif self._select and self.values.get(self._select) == "\0text":
            self.values[self._select] = data.strip()


def page_form(client, url: str) -> dict[str, str]:
    """What the page at ``url`` sends when submitted unchanged (the edit page's one form)."""
    parser = FormFields()
    parser.feed(client.get(url).get_data(as_text=True))
    return parser.values


def edit_form(client, article_id: int, **changes) -> dict:
    """The edit form as the page fills it for the article, with ``changes``."""
    return page_form(client, f"/articles/{article_id}/edit") | changes


# -- article edit ----------------------------------------------------------------------------------------------
def test_editing_the_text_reindexes_the_article(client, auth, world, registry, suspects):
    old, new = suspects["full-copy"]["text"], suspects["unrelated"]["text"]
    assert world.alpha_article in matched_ids(registry, old, world.alpha)
    assert world.alpha_article not in matched_ids(registry, new, world.alpha)
    auth.login()
    response = client.post(
        f"/articles/{world.alpha_article}/edit", data=edit_form(client, world.alpha_article, text=new)
    )
    assert response.status_code == 303 and response.location.endswith(f"/articles/{world.alpha_article}")
    assert "Article updated: text." in client.get(response.location).get_data(as_text=True)
    assert world.alpha_article not in matched_ids(
        registry, old, world.alpha
    )  # the old text is out of the index
    assert world.alpha_article in matched_ids(registry, new, world.alpha)  # the new one in
    a = stored(registry, world.alpha_article)
    assert a.text == new and a.word_count < 400
    # The match found against the old text still opens.
    assert client.get(f"/matches/{world.alpha_match}").status_code == 200
    # Another process opening the same store sees the same index (what was written is saved).
    reopened = type(registry)(registry.settings)
    try:
        assert world.alpha_article in matched_ids(reopened, new, world.alpha)
        assert world.alpha_article not in matched_ids(reopened, old, world.alpha)
    finally:
        reopened.close()


def test_editing_fields_stores_them_and_an_unchanged_form_changes_nothing(client, auth, world, registry):
    auth.login()
    page = client.get(f"/articles/{world.alpha_article}/edit").get_data(as_text=True)
    assert 'name="title"' in page and "Indonesia" in page and 'name="text"' in page
    form = edit_form(
        client,
        world.alpha_article,
        title="  A new title ",
        publisher="",
        license="custom",
        custom_terms="ask first",
        partners="mitra.example, other.example",
        required_credit="Sumber: Lingkar.co",
        aliases="Lingkar, Harian Lingkar",
        published_at="2021-07-06T10:00:00+07:00",
    )
    response = client.post(f"/articles/{world.alpha_article}/edit", data=form)
    assert response.status_code == 303
    a = stored(registry, world.alpha_article)
    assert (a.title, a.publisher, a.license) == ("A new title", None, "custom:ask first")
    assert a.partners == ["mitra.example", "other.example"] and sorted(a.aliases) == [
        "Harian Lingkar",
        "Lingkar",
    ]
    assert (
        a.required_credit == "Sumber: Lingkar.co"
        and a.published_at.isoformat() == "2021-07-06T03:00:00+00:00"
    )
    # The edit page shows the stored values back; sending them unchanged changes nothing.
    page = client.get(f"/articles/{world.alpha_article}/edit").get_data(as_text=True)
    assert 'value="custom" selected' in page and 'value="ask first"' in page
    assert 'value="2021-07-06T03:00:00+00:00"' in page  # the moment in the organisation's zone (UTC here)
    again = client.post(f"/articles/{world.alpha_article}/edit", data=edit_form(client, world.alpha_article))
    assert "Nothing changed." in client.get(again.location).get_data(as_text=True)
    assert stored(registry, world.alpha_article).updated_at == a.updated_at


def test_editing_the_url_to_another_articles_is_a_clear_error(client, auth, world, registry):
    auth.login()
    other = [a for a in registry.list_articles(org_id=world.alpha) if a.id != world.alpha_article][0]
    before = stored(registry, world.alpha_article)
    response = client.post(
        f"/articles/{world.alpha_article}/edit",
        data=edit_form(
            client,
            world.alpha_article,
            title="Changed",
            url=other.url.replace("https://", "HTTPS://", 1) + "?utm_medium=rss",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"article #{other.id}" in page and "already has the URL" in page
    assert 'value="Changed"' in page  # the form keeps what was typed
    after = stored(registry, world.alpha_article)
    assert (after.title, after.url, after.updated_at) == (before.title, before.url, before.updated_at)
    # The same for a text another article has.
    response = client.post(
        f"/articles/{world.alpha_article}/edit", data=edit_form(client, world.alpha_article, text=other.text)
    )
    assert response.status_code == 422 and "already has this text" in response.get_data(as_text=True)
    assert stored(registry, world.alpha_article).text == before.text


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"url": "javascript:alert(1)"}, "http"),
        ({"published_at": "06/07/2021"}, "ISO 8601"),
        ({"published_at": "9999-01-01"}, "year"),
        ({"title": "   "}, "title"),
        ({"publisher": "x" * 5000}, "publisher"),
        ({"title": "bad\x00title"}, "title"),
        ({"text": "   "}, "text"),
        ({"license": "custom", "custom_terms": ""}, "custom licence"),
    ],
)
def test_bad_edits_are_refused_and_the_article_is_intact(client, auth, world, registry, changes, message):
    auth.login()
    before = stored(registry, world.alpha_article)
    response = client.post(
        f"/articles/{world.alpha_article}/edit", data=edit_form(client, world.alpha_article, **changes)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    after = stored(registry, world.alpha_article)
    assert (after.title, after.url, after.text, after.publisher, after.published_at, after.updated_at) == (
        before.title,
        before.url,
        before.text,
        before.publisher,
        before.published_at,
        before.updated_at,
    )


# -- article delete --------------------------------------------------------------------------------------------
def test_deleting_an_article_needs_the_confirmation(client, auth, world, registry, suspects):
    auth.login()
    article_page = client.get(f"/articles/{world.alpha_article}").get_data(as_text=True)
    assert f'href="/articles/{world.alpha_article}/delete"' in article_page
    question = client.get(f"/articles/{world.alpha_article}/delete")
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "Delete the article" in text and "cannot be undone" in text
    assert "The match found of it stays readable" in text  # the scan of the full copy found it once
    assert 'name="confirm" value="yes"' in text
    # A POST without the confirmation (a stray click, an old form) deletes nothing.
    unconfirmed = client.post(f"/articles/{world.alpha_article}/delete")
    assert unconfirmed.status_code == 400 and "Nothing was done" in unconfirmed.get_data(as_text=True)
    assert stored(registry, world.alpha_article) is not None
    assert client.post(f"/articles/{world.alpha_article}/delete", data={"confirm": "no"}).status_code == 400
    assert world.alpha_article in matched_ids(registry, suspects["full-copy"]["text"], world.alpha)

    done = client.post(f"/articles/{world.alpha_article}/delete", data={"confirm": "yes"})
    assert done.status_code == 303 and done.location.endswith("/articles")
    assert stored(registry, world.alpha_article) is None
    assert client.get(f"/articles/{world.alpha_article}").status_code == 404
    assert world.alpha_article not in matched_ids(registry, suspects["full-copy"]["text"], world.alpha)
    # Its match stays, readable, as the match of a deleted article.
    match_page = client.get(f"/matches/{world.alpha_match}")
    assert match_page.status_code == 200 and "deleted" in match_page.get_data(as_text=True)
    with registry.Session() as session:
        match = session.get(MatchRow, world.alpha_match)
        assert match is not None and match.article_id is None and match.passages
    # Deleting it again: not found.
    assert client.post(f"/articles/{world.alpha_article}/delete", data={"confirm": "yes"}).status_code == 404


def test_viewers_cannot_edit_or_delete(client, auth, world, registry):
    auth.login("viewer@alpha.example")
    assert f'href="/articles/{world.alpha_article}/edit"' not in client.get(
        f"/articles/{world.alpha_article}"
    ).get_data(as_text=True)
    before = stored(registry, world.alpha_article)
    assert client.get(f"/articles/{world.alpha_article}/edit").status_code == 403
    assert (
        client.post(
            f"/articles/{world.alpha_article}/edit",
            data=edit_form(client, world.alpha_article, title="Viewer was here"),
        ).status_code
        == 403
    )
    assert client.get(f"/articles/{world.alpha_article}/delete").status_code == 403
    assert client.post(f"/articles/{world.alpha_article}/delete", data={"confirm": "yes"}).status_code == 403
    after = stored(registry, world.alpha_article)
    assert after is not None and after.title == before.title


def test_another_organisations_article_is_not_found(client, auth, world, registry):
    auth.login()  # Alpha's editor
    for url in (f"/articles/{world.beta_article}/edit", f"/articles/{world.beta_article}/delete"):
        assert client.get(url).status_code == 404
    form = edit_form(client, world.beta_article, title="Taken over")
    assert client.post(f"/articles/{world.beta_article}/edit", data=form).status_code == 404
    assert client.post(f"/articles/{world.beta_article}/delete", data={"confirm": "yes"}).status_code == 404
    assert stored(registry, world.beta_article).title == "Beta original"


# -- confirmations in the admin pages ----------------------------------------------------------------------------
def _user(registry, email: str) -> User | None:
    with registry.Session() as session:
        return session.scalar(select(User).where(User.email == email))


def _token_row(registry, plaintext: str) -> ApiToken:
    with registry.Session() as session:
        return session.scalar(
            select(ApiToken).where(ApiToken.token_sha256 == accounts.token_digest(plaintext))
        )


def test_revoking_a_token_needs_the_confirmation(client, auth, world, registry):
    auth.login("admin@alpha.example")
    token = _token_row(registry, world.tokens["viewer"])
    assert f'href="/admin/tokens/{token.id}/revoke"' in client.get("/admin/tokens").get_data(as_text=True)
    question = client.get(f"/admin/tokens/{token.id}/revoke")
    assert question.status_code == 200 and "Revoke the API token" in question.get_data(as_text=True)
    assert client.post(f"/admin/tokens/{token.id}/revoke").status_code == 400
    headers = {"Authorization": f"Bearer {world.tokens['viewer']}"}
    assert client.get(f"/api/scans/{world.alpha_scan}", headers=headers).status_code == 200  # still works
    assert client.post(f"/admin/tokens/{token.id}/revoke", data={"confirm": "yes"}).status_code == 303
    assert _token_row(registry, world.tokens["viewer"]).revoked_at is not None
    assert client.get(f"/api/scans/{world.alpha_scan}", headers=headers).status_code == 401
    # Another organisation's token: not found, asked or not.
    beta = _token_row(registry, world.tokens["beta"])
    assert client.get(f"/admin/tokens/{beta.id}/revoke").status_code == 404
    assert client.post(f"/admin/tokens/{beta.id}/revoke", data={"confirm": "yes"}).status_code == 404
    assert _token_row(registry, world.tokens["beta"]).revoked_at is None


def test_disabling_an_account_needs_the_confirmation(client, auth, world, registry):
    auth.login("admin@alpha.example")
    viewer = _user(registry, "viewer@alpha.example")
    assert f'href="/admin/users/{viewer.id}/disable"' in client.get("/admin/users").get_data(as_text=True)
    question = client.get(f"/admin/users/{viewer.id}/disable")
    assert question.status_code == 200 and "Disable the account viewer@alpha.example?" in question.get_data(
        as_text=True
    )
    assert client.post(f"/admin/users/{viewer.id}/active", data={"active": "0"}).status_code == 400
    assert _user(registry, "viewer@alpha.example").active
    assert (
        client.post(f"/admin/users/{viewer.id}/active", data={"active": "0", "confirm": "yes"}).status_code
        == 303
    )
    assert not _user(registry, "viewer@alpha.example").active
    # Enabling is not destructive: one click.
    assert client.post(f"/admin/users/{viewer.id}/active", data={"active": "1"}).status_code == 303
    assert _user(registry, "viewer@alpha.example").active


def test_deleting_an_account_needs_the_confirmation(app, client, auth, world, registry):
    # The editor reviewed a match: the review stays when the account goes.
    auth.login()
    client.post(f"/matches/{world.alpha_match}/review", data={"action": "confirmed", "note": "copied"})
    auth.logout()
    auth.login("admin@alpha.example")
    editor = _user(registry, "editor@alpha.example")
    assert f'href="/admin/users/{editor.id}/delete"' in client.get("/admin/users").get_data(as_text=True)
    question = client.get(f"/admin/users/{editor.id}/delete")
    assert question.status_code == 200 and "cannot be undone" in question.get_data(as_text=True)
    assert client.post(f"/admin/users/{editor.id}/delete").status_code == 400
    assert _user(registry, "editor@alpha.example") is not None
    assert client.post(f"/admin/users/{editor.id}/delete", data={"confirm": "yes"}).status_code == 303
    assert _user(registry, "editor@alpha.example") is None
    assert _token_row(registry, world.tokens["editor"]) is None  # its tokens went with it
    with registry.Session() as session:
        review = session.scalar(select(Review).where(Review.match_id == world.alpha_match))
        assert review is not None and review.user_id is None
    assert "(deleted account)" in client.get(f"/matches/{world.alpha_match}").get_data(as_text=True)
    assert (
        app.test_client()
        .post("/login", data={"email": "editor@alpha.example", "password": PASSWORD})
        .status_code
        == 401
    )
    # Not your own account, and not another organisation's.
    me = _user(registry, "admin@alpha.example")
    client.post(f"/admin/users/{me.id}/delete", data={"confirm": "yes"})
    assert _user(registry, "admin@alpha.example") is not None
    beta = _user(registry, "editor@beta.example")
    assert client.post(f"/admin/users/{beta.id}/delete", data={"confirm": "yes"}).status_code == 404
    assert _user(registry, "editor@beta.example") is not None


# -- organisations (site admins) ---------------------------------------------------------------------------------
@pytest.fixture
def site_admin(world, registry) -> str:
    """A site admin in Alpha News (an admin there too); its e-mail."""
    with registry.Session.begin() as session:
        accounts.create_user(
            session,
            email="operator@alpha.example",
            password=PASSWORD,
            role="admin",
            org_id=world.alpha,
            site_admin=True,
        )
    return "operator@alpha.example"


def _org_names(registry) -> list[str]:
    with registry.Session() as session:
        return sorted(session.scalars(select(Organisation.name)))


@pytest.mark.parametrize("who", ["admin@alpha.example", "editor@alpha.example", "viewer@alpha.example"])
def test_only_site_admins_see_organisations(client, auth, world, site_admin, registry, who):
    auth.login(who)
    assert "/admin/organisations" not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/organisations").status_code == 403
    assert (
        client.post(
            "/admin/organisations",
            data={"name": "Sneaky", "email": "s@sneaky.example", "password": PASSWORD, "time_zone": "UTC"},
        ).status_code
        == 403
    )
    assert "Sneaky" not in _org_names(registry)


def test_a_site_admin_creates_an_organisation_with_its_first_admin(
    client, auth, world, site_admin, registry, app
):
    assert "/login" in client.get("/admin/organisations").location  # logged out: to the login page
    auth.login(site_admin)
    assert 'href="/admin/organisations"' in client.get("/").get_data(as_text=True)
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "Alpha News" in page and "Beta Daily" in page and 'value="Asia/Jakarta"' in page
    alpha_articles = registry.count_articles(world.alpha)
    assert f"<td>Alpha News</td><td>{alpha_articles}</td><td>4</td>" in page  # 3 roles + the operator
    response = client.post(
        "/admin/organisations",
        data={
            "name": "  Gamma   Post ",
            "email": "Boss@Gamma.example",
            "password": PASSWORD,
            "time_zone": "Asia/Jakarta",
        },
    )
    assert response.status_code == 303
    assert "Gamma Post" in client.get(response.location).get_data(as_text=True)
    with registry.Session() as session:
        gamma = session.scalar(select(Organisation).where(Organisation.name == "Gamma Post"))
        boss = session.scalar(select(User).where(User.email == "boss@gamma.example"))
        assert gamma.time_zone == "Asia/Jakarta"
        assert (boss.org_id, boss.role, boss.active, boss.site_admin) == (gamma.id, "admin", True, False)
    # Its admin logs in to an empty organisation of its own.
    other = app.test_client()
    assert other.post("/login", data={"email": "boss@gamma.example", "password": PASSWORD}).status_code == 302
    assert "Gamma Post" in other.get("/").get_data(as_text=True)
    assert other.get(f"/articles/{world.alpha_article}").status_code == 404
    assert other.get("/admin/organisations").status_code == 403


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": "alpha NEWS"}, "already exists"),
        ({"name": "   "}, "organisation name is empty"),
        ({"name": "x" * 300}, "longer than"),
        ({"name": "Bad\x00Name"}, "organisation name"),
        ({"time_zone": "Mars/Olympus"}, "not a known time zone"),
        ({"email": "not-an-address"}, "not an e-mail address"),
        ({"email": "editor@alpha.example"}, "already exists"),
        ({"password": "short"}, "at least 8 characters"),
    ],
)
def test_bad_organisations_are_refused_and_nothing_is_stored(
    client, auth, world, site_admin, registry, fields, message
):
    auth.login(site_admin)
    orgs_before = _org_names(registry)
    with registry.Session() as session:
        users_before = session.scalars(select(User.email).order_by(User.email)).all()
    form = {
        "name": "Delta Daily",
        "email": "boss@delta.example",
        "password": PASSWORD,
        "time_zone": "UTC",
    } | fields
    response = client.post("/admin/organisations", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _org_names(registry) == orgs_before
    with registry.Session() as session:
        assert session.scalars(select(User.email).order_by(User.email)).all() == users_before


def test_the_cli_makes_site_admins_and_the_demo_admin_is_one(app, registry):
    from click.testing import CliRunner

    from checker.cli import cli
    from web.cli import DEMO_EMAIL, setup_demo

    url = registry.settings.database_url
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(registry.settings.data_dir),
            "--database-url",
            url,
            "users",
            "create",
            "--email",
            "op@site.example",
            "--password",
            PASSWORD,
            "--role",
            "admin",
            "--org",
            "Site",
            "--site-admin",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    plain = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(registry.settings.data_dir),
            "--database-url",
            url,
            "users",
            "create",
            "--email",
            "ed@site.example",
            "--password",
            PASSWORD,
            "--role",
            "admin",
            "--org",
            "Site",
        ],
        catch_exceptions=False,
    )
    assert plain.exit_code == 0, plain.output
    assert _user(registry, "op@site.example").site_admin and not _user(registry, "ed@site.example").site_admin
    listed = (
        CliRunner()
        .invoke(
            cli,
            ["--data-dir", str(registry.settings.data_dir), "--database-url", url, "users", "list"],
            catch_exceptions=False,
        )
        .output
    )
    assert "admin+site" in next(line for line in listed.splitlines() if "op@site.example" in line)
    assert "admin+site" not in next(line for line in listed.splitlines() if "ed@site.example" in line)
    email, _password = setup_demo(registry, SEEDS)
    assert email == DEMO_EMAIL and _user(registry, DEMO_EMAIL).site_admin


# -- password change ---------------------------------------------------------------------------------------------
def _login(app, email: str = "editor@alpha.example", password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    return client, response


def _change(client, current: str, new: str, repeated: str | None = None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "new_password2": new if repeated is None else repeated,
        },
    )


def test_changing_the_password_ends_the_other_sessions_only(app, world):
    mine, _ = _login(app)
    other, _ = _login(app)
    assert 'href="/account/password"' in mine.get("/").get_data(as_text=True)
    assert mine.get("/account/password").status_code == 200
    response = _change(mine, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert "Password changed" in mine.get(response.location).get_data(as_text=True)
    assert mine.get("/").status_code == 200  # this session goes on
    assert other.get("/").status_code == 302  # the other one ended
    assert _login(app, password=PASSWORD)[1].status_code == 401
    assert _login(app, password=NEW_PASSWORD)[1].status_code == 302


@pytest.mark.parametrize(
    "current, new, repeated, message",
    [
        ("wrong password", NEW_PASSWORD, None, "the current password is wrong"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "differ"),
        (PASSWORD, "short", None, "at least 8 characters"),
        (PASSWORD, "x" * 2000, None, "at most 1024 characters"),
    ],
)
def test_bad_password_changes_are_refused_and_nothing_changes(app, world, current, new, repeated, message):
    mine, _ = _login(app)
    other, _ = _login(app)
    response = _change(mine, current, new, repeated)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert mine.get("/").status_code == 200 and other.get("/").status_code == 200  # no session ended
    assert _login(app, password=PASSWORD)[1].status_code == 302


def test_wrong_current_passwords_count_as_failed_logins(app, world):
    backoff = app.extensions["checker.backoff"]
    mine, _ = _login(app)
    for n in range(1, backoff.after + 1):
        assert _change(mine, "wrong password", NEW_PASSWORD).status_code == 422
        assert backoff.failures("editor@alpha.example") == n
    # Backed off now: even the right password is refused until the wait is over, unchecked.
    response = _change(mine, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 422 and "Too many wrong passwords" in response.get_data(as_text=True)
    assert _login(app, password=PASSWORD)[1].status_code == 401  # the login form is backed off too
    with app.extensions["checker.registry"].Session() as session:
        user = session.scalar(select(User).where(User.email == "editor@alpha.example"))
        assert accounts.check_password_hash(user.password_hash, PASSWORD)


def test_the_password_form_needs_login_and_csrf(request, tmp_path, storage_settings):
    app = make_app_with_world(request, tmp_path, storage_settings, populated=True, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        assert client.get("/account/password").status_code == 302  # to the login page
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        client.post(
            "/login", data={"email": "viewer@alpha.example", "password": PASSWORD, "csrf_token": token}
        )
        assert (
            client.post(
                "/account/password",
                data={
                    "current_password": PASSWORD,
                    "new_password": NEW_PASSWORD,
                    "new_password2": NEW_PASSWORD,
                },
            ).status_code
            == 400
        )
        token = csrf_token_of(client.get("/account/password").get_data(as_text=True))
        response = client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
                "csrf_token": token,
            },
        )
        assert response.status_code == 303  # a viewer changes its own password too
        # The new session has a new CSRF token and works with it.
        token = csrf_token_of(client.get("/account/password").get_data(as_text=True))
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    finally:
        close_app(app)
