"""Sessions that end (issue 9, finding 4): a cookie saved before logout, disabling, a password change or a
role change no longer logs anyone in; login starts a new session with a new CSRF token; ``next`` after
login never breaks the redirect."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, close_app, csrf_token_of, make_app_with_world
from web import accounts

EDITOR = "editor@alpha.example"


def saved_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def replay(app, cookie: str):
    """A new browser holding a copy of ``cookie`` (what an attacker who saved it would send)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/")


def logged_in(app, who: str = EDITOR):
    client = app.test_client()
    assert client.post("/login", data={"email": who, "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200
    return client


def test_a_cookie_saved_before_logout_no_longer_works(app, world):
    client = logged_in(app)
    cookie = saved_cookie(client)
    assert replay(app, cookie).status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    response = replay(app, cookie)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_ends_the_accounts_other_sessions_too(app, world):
    first, second = logged_in(app), logged_in(app)
    first.post("/logout")
    assert second.get("/").status_code == 302


def test_other_accounts_sessions_survive_a_logout(app, world):
    editor, viewer = logged_in(app), logged_in(app, "viewer@alpha.example")
    editor.post("/logout")
    assert viewer.get("/").status_code == 200


def admin_toggles(app, user_id: int, active: bool) -> None:
    admin = logged_in(app, "admin@alpha.example")
    # Disabling asks first (web.confirm): the confirmed POST.
    response = admin.post(
        f"/admin/users/{user_id}/active", data={"active": "1" if active else "0", "confirm": "yes"}
    )
    assert response.status_code == 303


def checker_cli(app, *args: str) -> None:
    """``checker --data-dir DIR ARGS`` on the app's data folder."""
    from click.testing import CliRunner

    from checker.cli import cli

    result = CliRunner().invoke(
        cli, ["--data-dir", str(app.config["SETTINGS"].data_dir), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("how", ["admin page", "cli"])
def test_disable_then_enable_does_not_revive_old_sessions(app, world, how):
    from checker.models import User

    client = logged_in(app)
    cookie = saved_cookie(client)
    with app.extensions["checker.registry"].Session() as session:
        editor_id = session.query(User).filter_by(email=EDITOR).one().id
    for active in (False, True):
        if how == "admin page":
            admin_toggles(app, editor_id, active)
        else:
            checker_cli(app, "users", "enable" if active else "disable", "--email", EDITOR)
    assert client.get("/").status_code == 302
    assert replay(app, cookie).status_code == 302
    assert logged_in(app).get("/").status_code == 200  # the account itself works again


@pytest.mark.parametrize(
    "change",
    [
        ["set-password", "--email", EDITOR, "--password", "a brand new password"],
        ["set-role", "--email", EDITOR, "--role", "viewer"],
    ],
)
def test_password_and_role_changes_end_sessions(app, world, change):
    client = logged_in(app)
    cookie = saved_cookie(client)
    checker_cli(app, "users", *change)
    assert client.get("/").status_code == 302 and replay(app, cookie).status_code == 302


def test_account_changes_that_change_nothing_keep_sessions(app, world):
    from checker.models import User

    client = logged_in(app)
    with app.extensions["checker.registry"].Session.begin() as session:
        user = session.query(User).filter_by(email=EDITOR).one()
        accounts.set_role(user, "editor")  # the same role
        accounts.set_active(user, True)  # already active
    assert client.get("/").status_code == 200


def test_a_session_from_before_session_versions_is_logged_out(app, world):
    # Flask-Login stored the bare account id; such a cookie now names no session version.
    from checker.models import User

    client = logged_in(app)
    with app.extensions["checker.registry"].Session() as session:
        editor_id = session.query(User).filter_by(email=EDITOR).one().id
    with client.session_transaction() as sess:
        sess["_user_id"] = str(editor_id)
    assert client.get("/").status_code == 302


def test_login_starts_a_new_session_with_a_new_csrf_token(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, WTF_CSRF_ENABLED=True)
    try:
        world = app.config["WORLD"]
        client = app.test_client()
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        with client.session_transaction() as sess:
            before = sess["csrf_token"]
            sess["planted"] = "by whoever set this cookie"  # session fixation: nothing may carry over
        response = client.post("/login", data={"email": EDITOR, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        page = client.get(f"/matches/{world.alpha_match}").get_data(as_text=True)
        with client.session_transaction() as sess:
            assert "planted" not in sess
            assert sess["csrf_token"] != before
        # The token from before the login no longer passes; the new one does.
        review = f"/matches/{world.alpha_match}/review"
        assert client.post(review, data={"action": "confirmed", "csrf_token": token}).status_code == 400
        assert (
            client.post(review, data={"action": "confirmed", "csrf_token": csrf_token_of(page)}).status_code
            == 303
        )
    finally:
        close_app(app)


@pytest.mark.parametrize(
    "target",
    [
        "/a%0d%0ab",
        "/a%0ab",
        "/a%00b",
        "/a%09b",
        "/%5cevil.example",
        "/%5c%5cevil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/a b",
        "/caf%C3%A9",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_after_login_is_a_plain_local_path_or_the_overview(client, world, target):
    response = client.post(f"/login?next={target}", data={"email": EDITOR, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target", ["/scans", "/matches?verdict=unattributed_reuse&page=2", "/articles?q=caf%C3%A9"]
)
def test_next_after_login_keeps_local_paths(client, world, target):
    from urllib.parse import quote

    response = client.post(
        f"/login?next={quote(target, safe='')}", data={"email": EDITOR, "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == target
