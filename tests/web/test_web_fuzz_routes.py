"""Every route of the dashboard and the API, fuzzed with hostile input on SQLite and on PostgreSQL: no
answer may be a 5xx.

Two passes per backend:
- a sweep: every field of every form the dashboard renders (found by parsing the pages, so hidden fields
  and submit buttons are sent as a browser would), every query parameter of every page and API operation,
  and every property of every API request body, each given every one of the KNOWN_BAD inputs in turn while
  the other fields keep working values (so the bad value reaches the code behind the first check);
- random mixes (hypothesis) over every route of the URL map.

The routes come from the app's URL map, the form fields from the templates' ``name="..."`` attributes
and the API's request bodies from its OpenAPI document, so a new route or field is fuzzed without
editing this file. Values mix plausible ones (so the fuzzer gets past the first check) with the shapes
that broke the app before: lone surrogates, NULs, control characters, far-away dates, huge numbers,
``javascript:`` URLs, deeply nested JSON, oversized CSV fields, invalid UTF-8.

Network rule: submissions are captured (``dispatch.send``), and a socket guard fails the test if anything
tries to resolve or connect to an address off loopback.
"""

from __future__ import annotations

import io
import json
import re
import socket
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Request, got_request_exception
from flask import request as flask_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

from checker.settings import Settings
from tests.web.conftest import PASSWORD, close_app, make_app, populate
from web.openapi import spec

EXAMPLES = 25
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"

# -- the network guard ---------------------------------------------------------------------------------------
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback(host) -> bool:
    host = host.decode() if isinstance(host, bytes) else str(host)
    return host in LOOPBACK_NAMES or host.startswith("127.") or host.startswith("/")


@pytest.fixture(scope="module")
def off_loopback():
    """Refuse (and record) any name lookup or connection off loopback during the fuzzing."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(host):
            attempts.append(f"resolve {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test's network guard")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            attempts.append(f"connect {address!r}")
            raise OSError("blocked by the test's network guard")
        return real_connect(sock, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(socket.socket, "connect", connect)
        yield attempts


# -- hostile values ------------------------------------------------------------------------------------------
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "true",
    "null",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\r\n",
    "/a\r\nb",
    "%0d%0a",
    "\\\\evil",
    "//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://",
    "https://example.com/" + "a" * 2100,
    "http://127.0.0.1:1/x",
    "ftp://x.example/",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "1970-01-01T00:00:00+25:00",
    "10000-01-01",
    "<script>alert(1)</script>",
    "'\"><img src=x onerror=alert(1)>",
    "{{7*7}}",
    "../../etc/passwd",
    "a." * 3000 + "1",
    "A" * 20000,
    "[" * 5000,
    "x" * 300,
    "x" * 2001,
    "é" * 600,
]
# Values that get the fuzzer past a form's first check.
PLAUSIBLE = {
    "kind": ["text", "url", "urls", "crawl", "watch", "nonsense"],
    "license": ["all-rights-reserved", "cc-by-4.0", "custom", "nonsense"],
    "role": ["viewer", "editor", "admin", "root"],
    "action": ["confirm", "dismiss", "license", "reopen", "nonsense"],
    "review_status": ["open", "confirmed", "dismissed", "licensed"],
    "verdict": ["unattributed_reuse", "attributed_reuse", "licensed_reuse", "no_match"],
    "status": ["queued", "running", "done", "failed"],
    "active": ["0", "1"],
    "format": ["json", "csv", "jsonl"],
    "url": ["https://copier.example/a", "http://example.org/"],
    "site": ["https://copier.example/"],
    "urls": ["https://copier.example/a https://copier.example/b"],
    "title": ["A title"],
    "text": ["Some suspect text long enough to be scanned, with a few words in it. " * 5],
    "email": ["new@alpha.example", "admin@alpha.example"],
    "password": [PASSWORD, "short"],
}
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)


def value_for(name: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE), st.sampled_from(PLAUSIBLE.get(name, ["x"])), ANY_TEXT)


def template_fields() -> list[str]:
    names = set()
    for path in TEMPLATES.rglob("*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w-]*)"', path.read_text("utf-8")))
    return sorted(names - {"csrf_token", "viewport"})


FORM_FIELDS = template_fields()
QUERY_FIELDS = sorted(
    {
        "verdict",
        "kind",
        "review_status",
        "status",
        "domain",
        "article_id",
        "since",
        "until",
        "q",
        "page",
        "per_page",
        "next",
        "format",
        "ids",
        "sort",
    }
    | set(FORM_FIELDS)
)


def pairs(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.sampled_from(names).flatmap(lambda n: value_for(n).map(lambda v: (n, v))), max_size=8)


def encode(items: list[tuple[str, str]]) -> bytes:
    """URL-encode as a browser would, but keep lone surrogates (as the bytes a broken client sends)."""
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in items).encode(
        "ascii"
    )


# -- bodies --------------------------------------------------------------------------------------------------
def api_fields() -> list[str]:
    names = set()

    def walk(node):
        if isinstance(node, dict):
            names.update((node.get("properties") or {}).keys())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec())
    return sorted(names)


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.sampled_from(HOSTILE),
        ANY_TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ANY_TEXT, inner, max_size=3)),
    max_leaves=6,
)


def json_bodies() -> st.SearchStrategy[bytes]:
    fields = api_fields()
    as_object = st.dictionaries(st.sampled_from(fields), JSON_VALUES, max_size=8)
    return st.one_of(
        as_object.map(lambda d: json.dumps(d).encode()),  # ensure_ascii: lone surrogates as \\ud800 escapes
        st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 200_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.sampled_from(
            [b"", b"{", b"\xff\xfe\x00", b'{"title": "\xed\xa0\x80"}', b"[]", b"1e999999", b'"x"']
        ),
        st.binary(max_size=64),
    )


def upload_files() -> st.SearchStrategy[tuple[bytes, str]]:
    record = st.dictionaries(
        st.sampled_from(["title", "text", "url", "publisher", "published_at", "license"]),
        st.one_of(st.sampled_from(HOSTILE), ANY_TEXT),
        max_size=6,
    )
    jsonl = st.lists(record, max_size=4).map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode())
    csv_rows = st.lists(st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4), max_size=3).map(
        lambda rows: (
            "title,text,url\n"
            + "\n".join(",".join('"' + v.replace('"', '""') + '"' for v in r) for r in rows)
        ).encode("utf-8", "surrogatepass")
    )
    content = st.one_of(
        jsonl,
        csv_rows,
        st.binary(max_size=200),
        st.just(b"title,text\nA," + b"x" * 200_000 + b"\n"),
        st.just(b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        st.just(b'{"title": "t", "text": "\\ud800 text"}\n'),
        st.just(b'{"title": "t", "text": "\xff\xfe not utf-8"}\n'),
    )
    names = st.sampled_from(["a.jsonl", "a.csv", "a.txt", "a.exe", "", "..\\..\\a.csv", "\x00.csv"])
    return st.tuples(content, names)


# -- the app on both backends --------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz(request, tmp_path_factory, off_loopback):
    """An app with both organisations' data, and a logged-in admin client, on each backend."""
    from worker import dispatch

    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        settings_ = Settings.from_env({}, data_dir=tmp / "data")
    else:
        settings_ = Settings.from_env(
            {}, data_dir=tmp / "data", database_url=request.getfixturevalue("pg_module_url")
        )
    with pytest.MonkeyPatch.context() as mp:
        sent: list = []
        mp.setattr(dispatch, "send", lambda task, *args: sent.append((task.name, args)))
        # The sweep fails many logins on purpose; throttling is tested in test_web_throttle.py.
        app = make_app(
            tmp,
            SETTINGS=settings_,
            PROPAGATE_EXCEPTIONS=False,
            LOGIN_RATE_LIMIT="100000 per minute",
            LOGIN_BACKOFF_AFTER=1_000_000,
        )
        errors: list = []
        got_request_exception.connect(
            lambda _sender, exception, **_kw: errors.append(exception), app, weak=False
        )
        app.config["FUZZ_ERRORS"] = errors
        world = populate(app)
        client = app.test_client()
        login(client)
        yield app, world, client
        close_app(app)
    assert not off_loopback, f"the app tried to reach the network: {off_loopback[:5]}"


@pytest.fixture(scope="module")
def pg_module_url():
    """A fresh PostgreSQL schema for the module (the ``pg_schema_url`` fixture is per test)."""
    import uuid

    import sqlalchemy as sa

    from tests.conftest import PG_URL

    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def fresh_account(app, role: str = "admin") -> tuple[str, str]:
    """A new account of Alpha and an API token of it: (e-mail, token). The random fuzzing before a sweep
    may have disabled accounts and revoked tokens (it is allowed to); a sweep starts from working ones."""
    import uuid

    from checker.models import Organisation
    from web import accounts

    email = f"{role}-{uuid.uuid4().hex[:8]}@alpha.example"
    with app.extensions["checker.registry"].Session.begin() as session:
        org = session.query(Organisation).filter_by(name="Alpha News").one()
        user = accounts.create_user(session, email=email, password=PASSWORD, role=role, org_id=org.id)
        return email, accounts.create_token(session, user)[1]


def login(client) -> None:
    response = client.post("/login", data={"email": "admin@alpha.example", "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code


def route_labels() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        try:
            return sorted(
                f"{method} {rule.rule}"
                for rule in app.url_map.iter_rules()
                if rule.endpoint != "static"
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
            )
        finally:
            close_app(app)


ROUTES = route_labels()
# Routes that end the fuzzing client's own session are fuzzed from a separate anonymous client.
ANONYMOUS = {"POST /login", "GET /login", "POST /logout"}


def path_for(rule: str, ids: st.DataObject, world) -> str:
    known = [
        world.alpha_article,
        world.alpha_scan,
        world.alpha_match,
        world.beta_article,
        world.beta_scan,
        world.beta_match,
        1,
        2,
        3,
    ]

    def fill(match: re.Match) -> str:
        converter = match.group(1) or "string"
        if converter == "int":
            return str(
                ids.draw(st.one_of(st.sampled_from(known), st.sampled_from([0, 2**63, 10**30])), label="id")
            )
        text = ids.draw(
            st.one_of(st.sampled_from(HOSTILE), ANY_TEXT).filter(lambda s: s and "/" not in s),
            label=match.group(2),
        )
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule)


@pytest.mark.parametrize("label", ROUTES)
def test_no_route_answers_5xx(fuzz, label):
    app, world, client = fuzz
    method, rule = label.split(" ", 1)
    is_api = rule.startswith("/api/")
    headers = {"Authorization": f"Bearer {fresh_account(app)[1]}"} if is_api else {}
    upload = rule == "/articles/upload" and method == "POST"
    body = (
        json_bodies() if is_api and method == "POST" else (upload_files() if upload else pairs(FORM_FIELDS))
    )

    @given(data=st.data(), query=pairs(QUERY_FIELDS), body=body)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    def run(data, query, body):
        path = path_for(rule, data, world)
        who = app.test_client() if label in ANONYMOUS else client
        kwargs = {"query_string": encode(query).decode("ascii"), "headers": headers}
        if method == "POST":
            if is_api:
                kwargs.update(data=body, content_type="application/json")
            elif upload:
                content, filename = body
                kwargs.update(
                    data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data"
                )
            else:
                kwargs.update(data=encode(body), content_type="application/x-www-form-urlencoded")
        response = who.open(path, method=method, **kwargs)
        assert response.status_code < 500, (
            f"{method} {path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}"
        )
        location = response.headers.get("Location", "")
        if who is client and response.status_code in (302, 303) and "/login" in location:
            login(client)  # the fuzzer changed its own account (role, session): log in again

    run()


# -- the sweep: each known-bad input in each field, the other fields working --------------------------------
# The inputs that answered 500 in the security review (issue 9), and their relatives.
KNOWN_BAD = [
    "\ud800",
    "a\x00b",
    "\x07\x1b[31m",
    "9999-12-31",
    "0001-01-01",
    "99999999999999999999999",
    "-1",
    "",
    "x" * 301,
    "https://x.example/" + "a" * 2000,
    "javascript:alert(1)",
    "/a\r\nb",
    "a." * 3000 + "1",
    "A" * 20000,
]
BAD_JSON = [
    *KNOWN_BAD,
    None,
    12,
    -1,
    2**70,
    1.5,
    True,
    [],
    {},
    ["\ud800"],
    {"a": "b"},
    [[[[[[[["deep"]]]]]]]],
]
BAD_BODIES = [
    b"",
    b"{",
    b"\xff\xfe\x00",
    b'{"text": "\xed\xa0\x80"}',
    b"[]",
    b"1e999999",
    b'"x"',
    b"null",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
]
BAD_UPLOADS = [
    (b"title,text\nA," + b"x" * 200_000 + b"\n", "big-field.csv"),
    (b"[" * 100_000 + b"]" * 100_000 + b"\n", "deep.jsonl"),
    (b'{"title": "t", "text": "\\ud800 surrogate"}\n', "surrogate.jsonl"),
    (b'{"title": "t\\u0000", "text": "a NUL in the title"}\n', "nul.jsonl"),
    (b'{"title": "t", "text": "some text", "url": "javascript:alert(1)"}\n', "xss.jsonl"),
    (b'{"title": "t", "text": "some text", "published_at": "9999-12-31"}\n', "date.jsonl"),
    (b'{"title": "t", "text": "some text", "publisher": "' + b"p" * 400 + b'"}\n', "long.jsonl"),
    (b"\xff\xfe\x00\x00binary", "binary.csv"),
    (b"", "empty.jsonl"),
    (b"title,text\nA,B\n", "a.exe"),
]
WORKING = {
    "email": "admin@alpha.example",
    "password": PASSWORD,
    "title": "A title",
    "url": "https://copier.example/a",
    "site": "https://copier.example/",
    "urls": "https://copier.example/a\nhttps://copier.example/b",
    "text": PLAUSIBLE["text"][0],
    "name": "fuzz",
    "note": "a note",
}


def forms_on(client, path: str) -> list[dict]:
    """The forms of the page at ``path``: action, method and the fields a browser would send, one variant
    per named submit button."""
    import lxml.html

    response = client.get(path)
    if response.status_code != 200 or "html" not in response.content_type:
        return []
    forms = []
    for form in lxml.html.fromstring(response.get_data(as_text=True)).forms:
        fields = {}
        for el in form.inputs:
            name = el.get("name")
            if not name or name == "csrf_token" or el.get("type") in ("submit", "file"):
                continue
            value = el.value if el.tag != "select" else (el.value_options or [""])[0]
            fields[name] = value if value else WORKING.get(name, "x")
        buttons = [b for b in form.xpath(".//button[@name]|.//input[@type='submit'][@name]")] or [None]
        for button in buttons:
            variant = dict(fields)
            if button is not None:
                variant[button.get("name")] = button.get("value", "")
            forms.append(
                {
                    "action": form.get("action") or path,
                    "method": (form.get("method") or "get").upper(),
                    "fields": variant,
                    "upload": form.get("enctype") == "multipart/form-data",
                }
            )
    return forms


def dashboard_forms(client, world) -> list[dict]:
    pages = [
        "/",
        "/articles",
        f"/articles/{world.alpha_article}",
        "/submit",
        "/articles/upload",
        "/scans",
        f"/scans/{world.alpha_scan}",
        "/matches",
        f"/matches/{world.alpha_match}",
        "/domains",
        "/exports",
        "/admin/users",
        "/admin/tokens",
    ]
    seen, out = set(), []
    for page in pages:
        for form in forms_on(client, page):
            key = (
                re.sub(r"/\d+", "/N", form["action"].split("#")[0]),
                form["method"],
                tuple(sorted(form["fields"])),
                tuple(sorted(form["fields"].items())) if "kind" in form["fields"] else (),
            )
            if key not in seen:
                seen.add(key)
                out.append(form)
    return out


class Failures:
    """5xx answers of a sweep, collected so that one run lists them all (with the exception behind each)."""

    def __init__(self, app) -> None:
        self.errors: list = app.config["FUZZ_ERRORS"]
        self.found: dict[str, list[str]] = {}

    def send(self, what: str, method, *args, **kwargs):
        """``method(*args, **kwargs)`` (a test client's get/post), its 5xx or exception recorded."""
        try:
            response = method(*args, **kwargs)
        except Exception as exc:  # an exception out of the app is what we are looking for
            self.found.setdefault(repr(exc)[:160], []).append(f"{what} -> raised")
            return None
        self.check(response, what)
        return response

    def check(self, response, what: str) -> None:
        if response.status_code >= 500:
            cause = repr(self.errors[-1])[:160] if self.errors else response.get_data(as_text=True)[:160]
            self.found.setdefault(cause, []).append(f"{what} -> {response.status_code}")

    def assert_none(self) -> None:
        report = "\n".join(
            f"{cause}\n    {len(whats)}x, e.g. {whats[0]}" for cause, whats in self.found.items()
        )
        assert not self.found, f"{sum(map(len, self.found.values()))} answers were 5xx:\n{report}"


def test_every_form_field_survives_known_bad_input(fuzz):
    app, world, client = fuzz
    forms = dashboard_forms(client, world)
    actions = {re.sub(r"[?#].*", "", f["action"]) for f in forms}
    # The sweep must really reach the forms that take user data (a renamed page would empty it silently).
    for expected in ("/articles", "/submit", "/articles/upload", "/admin/users", "/admin/tokens", "/logout"):
        assert expected in actions, f"no form posts to {expected}: found {sorted(actions)}"
    sent, failures = 0, Failures(app)
    for form in forms:
        action, query = (form["action"].split("?", 1) + [""])[:2]
        action = action.split("#")[0]
        anonymous = action in ("/login", "/logout")
        if form["upload"]:
            for content, filename in BAD_UPLOADS:
                response = failures.send(
                    f"upload of {filename}",
                    client.post,
                    action,
                    data={"file": (io.BytesIO(content), filename)},
                    content_type="multipart/form-data",
                )
                sent += 1
                if response is not None and response.status_code in (302, 303):
                    job = client.get(response.headers["Location"].split("?")[0] + ".json").get_json()
                    if "internal error" in json.dumps(job):
                        failures.found.setdefault("import job ended with an internal error", []).append(
                            filename
                        )
            continue
        for name in form["fields"]:
            for bad in KNOWN_BAD:
                who = app.test_client() if anonymous else client
                fields = {**form["fields"], name: bad}
                body = encode(list(fields.items()))
                what = f"{form['method']} {action} with {name}={bad[:40]!r}"
                if form["method"] == "GET":
                    response = failures.send(what, who.get, action, query_string=body.decode("ascii"))
                else:
                    response = failures.send(
                        what,
                        who.post,
                        action,
                        query_string=query,
                        data=body,
                        content_type="application/x-www-form-urlencoded",
                    )
                sent += 1
                if (
                    who is client
                    and response is not None
                    and response.status_code in (302, 303)
                    and "/login" in response.headers["Location"]
                ):
                    login(client)
    failures.assert_none()
    assert sent > 200


GET_PARAMS = sorted(
    {
        "verdict",
        "kind",
        "review_status",
        "status",
        "domain",
        "article_id",
        "since",
        "until",
        "q",
        "page",
        "per_page",
        "next",
        "format",
    }
)


# -- which query parameters a request read -----------------------------------------------------------------
READ: set[str] = set()  # the names looked up since it was last cleared; EVERY when all were listed
EVERY = "\x00every"


class ReadArgs(ImmutableMultiDict):
    """``request.args`` that notes each name the app looks up, and EVERY when it lists them all."""

    def __getitem__(self, key):
        READ.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        READ.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:
        READ.add(key)
        return super().__contains__(key)

    def __iter__(self):
        READ.add(EVERY)
        return super().__iter__()

    def keys(self):
        READ.add(EVERY)
        return super().keys()

    def values(self):
        READ.add(EVERY)
        return super().values()

    def items(self, multi=False):
        READ.add(EVERY)
        return super().items(multi)

    def lists(self):
        READ.add(EVERY)
        return super().lists()

    def to_dict(self, flat=True):
        READ.add(EVERY)
        return super().to_dict(flat)


class ReadingRequest(Request):
    parameter_storage_class = ReadArgs


def test_the_read_recorder_sees_every_way_of_reading_a_name(fuzz):
    """The sweep below trusts this recorder to skip only names a page never looked at."""
    app = fuzz[0]
    reads = {
        "get": lambda a: a.get("q"),
        "getlist": lambda a: a.getlist("q"),
        "in": lambda a: "q" in a,
        "index": lambda a: a["q"],
        "items": lambda a: list(a.items()),
        "to_dict": lambda a: a.to_dict(),
        "iter": lambda a: list(a),
        "lists": lambda a: list(a.lists()),
    }
    for how, read in reads.items():
        with app.test_request_context("/?q=1&other=2"):
            args = ReadingRequest(flask_request.environ).args
            READ.clear()
            read(args)
            assert READ & {"q", EVERY}, how
            READ.clear()
            args.get("other")
            assert READ == {"other"}


def test_every_page_survives_known_bad_query_parameters(fuzz, monkeypatch):
    """Every known-bad value in every query parameter a page reads (``request.args``). A name the page did
    not look up for the first value is skipped for the others: code that never looks at a name cannot act
    on its value. What reads the raw query (the base template's ``request.full_path``, the exports page)
    gets every value under each page's first name, which is never skipped."""
    app, world, client = fuzz
    monkeypatch.setattr(app, "request_class", ReadingRequest)
    paths = [
        re.sub(
            r"<int:\w+>",
            lambda m: str(
                world.alpha_match
                if "match" in m.group(0)
                else world.alpha_scan
                if "scan" in m.group(0)
                else world.alpha_article
            ),
            label.split(" ", 1)[1],
        )
        for label in ROUTES
        if label.startswith("GET ") and "<" not in label.replace("<int:", "")
    ]
    email, token = fresh_account(app)
    headers = {"Authorization": f"Bearer {token}"}
    failures = Failures(app)
    sent = skipped = 0
    for path in paths:
        for name in GET_PARAMS:
            for i, bad in enumerate(KNOWN_BAD):
                READ.clear()
                failures.send(
                    f"GET {path}?{name}={bad[:40]!r}",
                    client.get,
                    path,
                    query_string=encode([(name, bad)]).decode("ascii"),
                    headers=headers,
                )
                sent += 1
                if i == 0 and name != GET_PARAMS[0] and not READ & {name, EVERY}:
                    skipped += len(KNOWN_BAD) - 1
                    break
    # The sweep reaches the parameters that pages do read (a recorder that saw nothing would skip all).
    assert sent > len(paths) * len(GET_PARAMS) + 10 * len(KNOWN_BAD) and skipped, (sent, skipped)
    # The login page's ``next`` after a good login (a header injection answered 500).
    anonymous = app.test_client()
    for bad in KNOWN_BAD:
        response = failures.send(
            f"login with next={bad[:40]!r}",
            anonymous.post,
            "/login",
            query_string=encode([("next", bad)]).decode("ascii"),
            data={"email": email, "password": PASSWORD},
        )
        if response is not None and response.status_code < 500:
            assert response.status_code in (302, 303), response.status_code
            location = response.headers["Location"]
            assert "\r" not in location and "\n" not in location and not location.startswith("//")
        anonymous.post("/logout")
    failures.assert_none()


def api_operations() -> list[tuple[str, str, dict]]:
    """(method, path, request body schema or {}) of every API operation."""
    doc = spec()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            schema = (
                (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
            )
            if "$ref" in schema:
                schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            out.append((method.upper(), path, schema))
    return out


def test_every_api_property_survives_known_bad_input(fuzz):
    app, world, client = fuzz
    api = app.test_client()
    headers = {"Authorization": f"Bearer {fresh_account(app, 'editor')[1]}"}
    working = {
        "text": PLAUSIBLE["text"][0],
        "title": "A title",
        "url": "https://copier.example/a",
        "urls": ["https://copier.example/a"],
        "action": "confirmed",
        "note": "n",
        "partners": ["p.example"],
        "aliases": ["Alias"],
        "license": "cc-by-4.0",
        "publisher": "P",
        "required_credit": "Credit",
        "published_at": "2026-01-02",
    }
    operations, failures = api_operations(), Failures(app)
    assert any(schema.get("properties") for _m, _p, schema in operations)
    for method, path, schema in operations:
        path = re.sub(
            r"\{(\w+)\}",
            lambda m: str(
                world.alpha_match
                if "match" in m.group(1)
                else world.alpha_scan
                if "scan" in m.group(1)
                else world.alpha_article
            ),
            "/api" + path if not path.startswith("/api") else path,
        )
        if method != "POST":
            continue
        props = schema.get("properties") or {}
        base = {
            name: working[name]
            for name in props
            if name in working and (name != "urls" or "text" not in props)
        }
        if "url" in base and "urls" in props:
            base.pop("url")  # a scan is {text, url?} or {urls}: keep the base a valid request
        # The working body is accepted, so each bad value below reaches the code behind the first check.
        accepted = api.post(path, data=json.dumps(base), content_type="application/json", headers=headers)
        assert accepted.status_code < 300, (
            f"POST {path} {base}: {accepted.status_code} {accepted.get_data()[:200]}"
        )
        for name in props:
            for bad in BAD_JSON:
                body = json.dumps({**base, name: bad}).encode()
                failures.send(
                    f"POST {path} with {name}={str(bad)[:40]!r}",
                    api.post,
                    path,
                    data=body,
                    content_type="application/json",
                    headers=headers,
                )
        for raw in BAD_BODIES:
            failures.send(
                f"POST {path} with body {raw[:20]!r}",
                api.post,
                path,
                data=raw,
                content_type="application/json",
                headers=headers,
            )
    failures.assert_none()
