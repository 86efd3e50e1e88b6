"""Security headers and what they rely on (issue 9, finding 7): every response carries a strict
Content-Security-Policy (no inline script or style: no page has any), frame-ancestors/X-Frame-Options,
nosniff and a Referrer-Policy; the API document names the configured base URL, never the Host header."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.web.conftest import close_app, make_app
from web import CONTENT_SECURITY_POLICY

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def test_the_policy_is_the_strict_one():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "object-src": "'none'",
    }


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/login", None),
        ("/", "editor"),
        ("/articles", "editor"),
        ("/admin/users", "admin"),
        ("/api/docs", None),
        ("/api/openapi.json", None),
        ("/api/articles", "token"),
        ("/api/nothing-here", "token"),
        ("/static/app.js", None),
        ("/static/style.css", None),
        ("/no-such-page", "editor"),
        ("/exports/matches.csv", "editor"),
    ],
)
def test_every_response_has_the_security_headers(client, auth, world, path, who):
    headers = {"Authorization": f"Bearer {world.tokens['viewer']}"} if who == "token" else {}
    if who in ("editor", "admin"):
        auth.login(f"{who}@alpha.example")
    with client.get(path, headers=headers) as response:  # static files are streamed: close them
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        for name, value in EXPECTED.items():
            assert response.headers[name] == value, name
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


def test_hsts_over_https(client, world):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


class InlineFinder(HTMLParser):
    """Everything a CSP without 'unsafe-inline' would block: inline scripts, <style>, style attributes,
    event-handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in attrs
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script {data.strip()[:60]!r}")


def pages(app, world) -> list[str]:
    """Every dashboard page: the routes without parameters, and the detail pages of the world's rows."""
    simple = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and rule.endpoint != "static"
        and not rule.rule.startswith("/api/openapi")
        and not rule.rule.endswith((".csv", ".json"))
    ]
    details = [
        f"/articles/{world.alpha_article}",
        f"/scans/{world.alpha_scan}",
        f"/matches/{world.alpha_match}",
        f"/matches/{world.alpha_match}/report",
        f"/matches/{world.alpha_match}/takedown",
    ]
    return sorted(set(simple)) + details


def test_no_page_has_inline_script_style_or_event_handlers(app, client, auth, world):
    auth.login("admin@alpha.example")
    checked = []
    for path in pages(app, world):
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        finder = InlineFinder()
        finder.feed(response.get_data(as_text=True))
        assert not finder.found, f"{path}: {finder.found[:5]}"
        checked.append(path)
    # The pages that had inline code before, and the main ones, were really looked at.
    for path in (
        "/",
        "/domains",
        f"/matches/{world.alpha_match}/report",
        "/api/docs",
        "/admin/tokens",
        "/submit",
    ):
        assert path in checked, (path, checked)


def test_the_domain_mix_is_sized_by_data_attributes(client, auth, world):
    auth.login()
    html = client.get("/domains").get_data(as_text=True)
    assert 'data-flex="' in html and "style=" not in html


def test_the_api_document_never_names_the_host_header(client, world):
    doc = client.get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert doc["servers"] == [{"url": "/"}]


def test_the_api_docs_never_name_the_host_header(client, world):
    html = client.get("/api/docs", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in html


@pytest.fixture
def based_app(tmp_path):
    app = make_app(tmp_path, BASE_URL="https://checker.example.org/")
    yield app
    close_app(app)


def test_the_api_document_names_the_configured_base_url(based_app):
    doc = based_app.test_client().get("/api/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert doc["servers"] == [{"url": "https://checker.example.org"}]


def test_the_api_docs_show_the_configured_base_url(based_app):
    html = based_app.test_client().get("/api/docs", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "BASE=https://checker.example.org" in html and "evil.example" not in html


@pytest.mark.parametrize(
    "bad",
    [
        "checker.example.org",
        "ftp://checker.example.org",
        "https://",
        "javascript:alert(1)",
        "https://checker.example.org/?x=1",
    ],
)
def test_a_base_url_must_be_an_http_url(tmp_path, bad):
    with pytest.raises(ValueError, match="CHECKER_BASE_URL"):
        make_app(tmp_path, BASE_URL=bad)
