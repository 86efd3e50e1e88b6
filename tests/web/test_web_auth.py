"""Login, logout, back-off, rate limit, CSRF, cookie flags, login-required and role checks."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, close_app, csrf_token_of, make_app, make_app_with_world
from web import accounts

DASHBOARD_PAGES = [
    "/",
    "/articles",
    "/articles/upload",
    "/submit",
    "/scans",
    "/matches",
    "/domains",
    "/exports",
    "/exports/matches.csv",
    "/exports/matches.json",
    "/scans/status.json",
    "/admin/users",
    "/admin/tokens",
]


def test_login_page_has_the_contract_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in html


def test_login_and_logout(client, auth, world):
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "editor@alpha.example" in page and "Alpha News" in page
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, auth, world):
    response = auth.login(password="wrong password")
    assert response.status_code == 401
    assert accounts.LOGIN_REFUSED in response.get_data(as_text=True)
    unknown = auth.login(who="nobody@alpha.example")
    assert unknown.status_code == 401 and accounts.LOGIN_REFUSED in unknown.get_data(as_text=True)


def test_repeated_failures_back_off_the_account_without_saying_so(client, auth, world):
    # No hard lock: after LOGIN_BACKOFF_AFTER (5) failures the account waits seconds, and the answer is
    # the same as for a wrong password (test_web_throttle covers the back-off itself).
    for _ in range(5):
        assert auth.login(password="wrong password").status_code == 401
    backed_off = auth.login()  # even the right password, while it waits
    assert backed_off.status_code == 401 and accounts.LOGIN_REFUSED in backed_off.get_data(as_text=True)
    assert "locked" not in backed_off.get_data(as_text=True)


def test_rate_limit_per_address(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, LOGIN_RATE_LIMIT="3 per 5 minutes")
    try:
        client = app.test_client()
        codes = [
            client.post("/login", data={"email": f"x{n}@alpha.example", "password": "nope nope"}).status_code
            for n in range(4)
        ]
        assert codes == [401, 401, 401, 429]
    finally:
        close_app(app)


def test_disabled_account_cannot_log_in_and_is_logged_out(app, client, auth, world):
    assert auth.login().status_code == 302
    from checker.models import User

    with app.extensions["checker.registry"].Session.begin() as session:
        session.query(User).filter_by(email="editor@alpha.example").update({"active": False})
    assert client.get("/").status_code == 302  # the session no longer counts
    response = auth.login()
    # The same answer as a wrong password: a refusal does not tell that the account exists.
    assert response.status_code == 401 and accounts.LOGIN_REFUSED in response.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, world):
    response = client.post(
        "/login?next=https://evil.example/", data={"email": "editor@alpha.example", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
    response = client.post("/logout")
    response = client.post("/login?next=/scans", data={"email": "editor@alpha.example", "password": PASSWORD})
    assert response.headers["Location"] == "/scans"


def test_passwords_are_hashed_with_scrypt(app, world):
    from checker.models import User

    with app.extensions["checker.registry"].Session() as session:
        user = session.query(User).filter_by(email="viewer@alpha.example").one()
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_the_product_hashes_at_werkzeugs_full_scrypt_cost():
    """The suite hashes cheaply (tests/conftest.py); the product's own method is scrypt at N=2**15."""
    from werkzeug.security import generate_password_hash

    from tests.conftest import PRODUCT_PASSWORD_HASH_METHOD

    assert generate_password_hash("x" * 8, method=PRODUCT_PASSWORD_HASH_METHOD).startswith(
        "scrypt:32768:8:1$"
    )


@pytest.mark.parametrize(
    "path",
    DASHBOARD_PAGES + ["/articles/1", "/scans/1", "/matches/1", "/matches/1/report", "/matches/1/takedown"],
)
def test_pages_need_login(client, world, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "path",
    [
        "/logout",
        "/articles",
        "/submit",
        "/matches/1/review",
        "/admin/users",
        "/admin/tokens",
        "/articles/upload",
    ],
)
def test_posts_need_login(client, world, path):
    assert client.post(path, data={}).status_code in (302, 405) and client.post(path).status_code != 200


@pytest.mark.parametrize(
    ("who", "allowed"), [("viewer", set()), ("editor", {"editor"}), ("admin", {"editor", "admin"})]
)
def test_role_checks(client, auth, world, who, allowed):
    auth.login(f"{who}@alpha.example")
    checks = {
        "editor": [
            ("get", "/submit"),
            ("get", "/articles/upload"),
            ("post", "/articles", {"title": "T", "text": "word " * 50}),
            ("post", f"/matches/{world.alpha_match}/review", {"action": "confirmed"}),
            ("post", "/submit", {"kind": "text", "text": "nothing copied here at all"}),
        ],
        "admin": [
            ("get", "/admin/users"),
            ("get", "/admin/tokens"),
            (
                "post",
                "/admin/users",
                {"email": f"new-{who}@alpha.example", "password": PASSWORD, "role": "viewer"},
            ),
        ],
    }
    for role, requests in checks.items():
        for method, path, *data in requests:
            response = getattr(client, method)(path, data=data[0] if data else None)
            if role in allowed:
                assert response.status_code in (200, 302, 303), (who, path, response.status_code)
            else:
                assert response.status_code == 403, (who, path, response.status_code)
    # Everyone reads.
    for path in ("/", "/articles", "/scans", "/matches", "/domains", f"/matches/{world.alpha_match}"):
        assert client.get(path).status_code == 200


def test_csrf_is_enforced_when_enabled(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, WTF_CSRF_ENABLED=True)
    try:
        world = app.config["WORLD"]
        client = app.test_client()
        # Login without the token: refused before the password is even looked at.
        no_token = client.post("/login", data={"email": "editor@alpha.example", "password": PASSWORD})
        assert no_token.status_code == 400 and "form expired" in no_token.get_data(as_text=True)
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        assert (
            client.post(
                "/login", data={"email": "editor@alpha.example", "password": PASSWORD, "csrf_token": token}
            ).status_code
            == 302
        )
        # Every state-changing form needs it.
        for path, data in [
            ("/articles", {"title": "T", "text": "x " * 40}),
            ("/submit", {"kind": "text", "text": "x"}),
            (f"/matches/{world.alpha_match}/review", {"action": "confirmed"}),
            ("/logout", {}),
        ]:
            assert client.post(path, data=data).status_code == 400, path
        page = client.get(f"/matches/{world.alpha_match}").get_data(as_text=True)
        ok = client.post(
            f"/matches/{world.alpha_match}/review",
            data={"action": "confirmed", "csrf_token": csrf_token_of(page)},
        )
        assert ok.status_code == 303
        # The API takes tokens, not cookies: no CSRF there.
        api = client.get("/api/articles", headers={"Authorization": f"Bearer {world.tokens['viewer']}"})
        assert api.status_code == 200
    finally:
        close_app(app)


def test_session_cookie_flags(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, SESSION_COOKIE_SECURE=True)
    try:
        client = app.test_client()
        response = client.post(
            "/login",
            data={"email": "editor@alpha.example", "password": PASSWORD},
            base_url="https://localhost",
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    finally:
        close_app(app)


def test_secret_key_is_generated_once_in_the_data_dir(tmp_path):
    first = make_app(tmp_path, SECRET_KEY=None)
    key = first.config["SECRET_KEY"]
    close_app(first)
    second = make_app(tmp_path, SECRET_KEY=None)
    try:
        assert second.config["SECRET_KEY"] == key and len(key) == 64
        path = tmp_path / "data" / "secret_key"
        assert path.stat().st_mode & 0o077 == 0
    finally:
        close_app(second)


def test_settings_from_prefixed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHECKER_PAGE_SIZE", "7")
    monkeypatch.setenv("CHECKER_SECRET_KEY", "from-the-environment")
    from checker.settings import Settings
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SETTINGS": Settings.from_env({}, data_dir=tmp_path / "data"),
            "BACKGROUND_TASKS": False,
        }
    )
    try:
        assert app.config["PAGE_SIZE"] == 7 and app.config["SECRET_KEY"] == "from-the-environment"
    finally:
        close_app(app)
