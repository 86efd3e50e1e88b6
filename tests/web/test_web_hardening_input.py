"""Issue 9, findings 1, 3 and 6: bad input is refused the same way on every way in and every backend.

- No ``javascript:``/``data:`` URL gets in (API, dashboard form, JSONL and CSV upload, ``checker
  import``/``register``), and one stored before the fix is never rendered as a link.
- Deeply nested JSON, lone surrogates, dates past the year 2200 and huge CSV fields are 4xx or a line
  error, never a 500; over-long or NUL-holding fields are refused on SQLite and PostgreSQL alike.
- A batch of URLs with one bad URL stores nothing.

Network rule: nothing here leaves the process (URL submissions are captured by ``sent``)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from checker.models import Article, MatchRow, Review, Scan
from tests.test_cli import run  # noqa: F401 - the fixture: `checker` as a user runs it

BAD_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
]
TEXT = "Teks artikel yang cukup panjang untuk didaftarkan sebagai artikel asli di sini. " * 3
DEEP = "[" * 100_000
SURROGATE = "\ud800"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(world) -> dict:
    return bearer(world.tokens["editor"])


@pytest.fixture
def editor(auth, world):
    auth.login("editor@alpha.example")
    return world


def count(app, model, *where) -> int:
    registry = app.extensions["checker.registry"]
    with registry.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def raw_json(value) -> str:
    """JSON with ``\\ud800`` kept as an escape (json.dumps' default), as a client would send it."""
    return json.dumps(value)


def upload(client, data: bytes, filename: str):
    # Encoded here, in memory: the test client would spool a body over 500 KB to a temporary file that
    # it never closes (a ResourceWarning, an error under filterwarnings=error, in whichever test runs next).
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data), filename)}))
    return client.post(
        "/articles/upload", data=body, content_type=f'multipart/form-data; boundary="{boundary}"'
    )


def upload_job(client, response) -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job = client.get(response.headers["Location"] + ".json").get_json()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return {**job, "page": page}


# -- finding 1: stored XSS through an article URL --------------------------------------------------
@pytest.mark.parametrize("url", BAD_URLS)
def test_api_refuses_script_urls(app, client, api, url):
    before = count(app, Article)
    response = client.post("/api/articles", json={"title": "X", "text": TEXT, "url": url}, headers=api)
    assert response.status_code == 422 and "http" in response.get_json()["error"]
    assert count(app, Article) == before


@pytest.mark.parametrize("url", BAD_URLS)
def test_dashboard_form_refuses_script_urls(app, client, editor, url):
    before = count(app, Article)
    response = client.post("/articles", data={"title": "X", "text": TEXT, "url": url})
    assert response.status_code == 422 and "http" in response.get_data(as_text=True)
    assert count(app, Article) == before


@pytest.mark.parametrize("url", BAD_URLS)
def test_jsonl_upload_refuses_script_urls(app, client, editor, url):
    before = count(app, Article)
    lines = [
        json.dumps({"title": "Bad", "text": TEXT, "url": url}),
        json.dumps({"title": "Good", "text": TEXT + " good", "url": "https://alpha.example/good"}),
    ]
    job = upload_job(client, upload(client, "\n".join(lines).encode(), "a.jsonl"))
    assert job["status"] == "done" and job["registered"] == 1 and job["errors"] == 1
    assert "line 1: url:" in job["page"] and "is not an http:// or https:// URL" in job["page"]
    assert count(app, Article) == before + 1
    assert count(app, Article, Article.url.not_ilike("http%")) == 0


@pytest.mark.parametrize("url", BAD_URLS)
def test_csv_upload_refuses_script_urls(app, client, editor, url):
    before = count(app, Article)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["title", "url", "text"])
    writer.writerow(["Bad", url, TEXT])
    job = upload_job(client, upload(client, rows.getvalue().encode(), "a.csv"))
    assert job["registered"] == 0 and job["errors"] == 1 and "not an http:// or https:// URL" in job["page"]
    assert count(app, Article) == before


def test_a_stored_script_url_is_never_a_link(app, client, editor, world):
    """Rows stored before the validator existed: the page shows the URL as text, never as an href."""
    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:
        session.get(Article, world.alpha_article).url = "JaVaScRiPt:alert(document.cookie)"
    html = client.get(f"/articles/{world.alpha_article}").get_data(as_text=True)
    assert "JaVaScRiPt:alert(document.cookie)" in html
    assert 'href="JaVaScRiPt' not in html and 'href="javascript' not in html.lower()
    with registry.Session.begin() as session:
        session.get(Article, world.alpha_article).url = "https://alpha.example/ok"
    html = client.get(f"/articles/{world.alpha_article}").get_data(as_text=True)
    assert '<a href="https://alpha.example/ok"' in html


@pytest.mark.parametrize("url", ["JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>"])
def test_cli_register_and_import_refuse_script_urls(run, tmp_path, url):  # noqa: F811
    article = tmp_path / "a.txt"
    article.write_text(TEXT, "utf-8")
    code, out, err = run("register", str(article), "--url", url, ok=False)
    assert code == 1 and "is not an http:// or https:// URL" in err and not out.strip()
    lines = tmp_path / "a.jsonl"
    lines.write_text(
        json.dumps({"title": "Bad", "text": TEXT, "url": url})
        + "\n"
        + json.dumps({"title": "Good", "text": TEXT, "url": "https://ok.example/a"})
        + "\n",
        "utf-8",
    )
    code, _, err = run("import", str(lines), ok=False)
    assert code == 1 and "line 1: url:" in err and "imported 1," in err
    code, out, _ = run("articles", "list", "--json")
    assert code == 0 and [json.loads(line)["url"] for line in out.splitlines()] == ["https://ok.example/a"]


# -- finding 3: 500s on bad input ------------------------------------------------------------------
def api_posts(world) -> list[str]:
    return ["/api/articles", "/api/scans", f"/api/matches/{world.alpha_match}/review"]


@pytest.mark.parametrize("deep", [DEEP, '{"text": ' * 100_000, '{"title": "x", "partners": ' + DEEP])
def test_deeply_nested_json_is_400_on_every_api_post(app, client, api, world, sent, deep):
    before = (count(app, Article), count(app, Scan), count(app, Review))
    for path in api_posts(world):
        response = client.post(path, data=deep, content_type="application/json", headers=api)
        assert response.status_code == 400, (path, response.status_code)
        assert "nested deeper than 64" in response.get_json()["error"]
    assert (count(app, Article), count(app, Scan), count(app, Review)) == before and sent == []


def test_deeply_nested_jsonl_line_is_a_line_error(app, client, editor):
    before = count(app, Article)
    data = (
        DEEP + "\n" + json.dumps({"title": "Good", "text": TEXT, "url": "https://alpha.example/n"})
    ).encode()
    job = upload_job(client, upload(client, data, "deep.jsonl"))
    assert job["status"] == "done" and job["registered"] == 1 and job["errors"] == 1
    assert "line 1: malformed JSON (nested deeper than 64 levels)" in job["page"]
    assert count(app, Article) == before + 1


ARTICLE_FIELDS = [
    "title",
    "text",
    "url",
    "publisher",
    "license",
    "required_credit",
    "aliases",
    "partners",
    "published_at",
]


@pytest.mark.parametrize("field", ARTICLE_FIELDS)
def test_lone_surrogate_in_an_article_field_is_422_and_nothing_is_stored(app, client, api, field):
    before = count(app, Article)
    value = {
        "url": "https://alpha.example/" + SURROGATE,
        "aliases": [SURROGATE],
        "partners": ["p" + SURROGATE],
        "license": "custom:" + SURROGATE,
    }.get(field, "x " + SURROGATE)
    body = {"title": "T", "text": TEXT, field: value}
    response = client.post("/api/articles", data=raw_json(body), content_type="application/json", headers=api)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]
    if field != "published_at":
        assert "lone surrogate" in response.get_json()["error"]
    assert count(app, Article) == before


@pytest.mark.parametrize(
    "body",
    [
        {"text": "teks " + SURROGATE},
        {"text": TEXT, "url": "https://x.example/" + SURROGATE},
        {"url": "https://x.example/" + SURROGATE},
        {"urls": ["https://x.example/1", "https://x.example/" + SURROGATE]},
    ],
)
def test_lone_surrogate_in_a_scan_is_422_and_nothing_is_stored(app, client, api, sent, body):
    before = count(app, Scan)
    response = client.post("/api/scans", data=raw_json(body), content_type="application/json", headers=api)
    assert response.status_code == 422 and "lone surrogate" in response.get_json()["error"]
    assert count(app, Scan) == before and sent == []


def test_lone_surrogate_in_a_review_note_is_422_and_nothing_is_stored(app, client, api, world):
    before = count(app, Review)
    response = client.post(
        f"/api/matches/{world.alpha_match}/review",
        headers=api,
        content_type="application/json",
        data=raw_json({"action": "confirmed", "note": "ok " + SURROGATE}),
    )
    assert response.status_code == 422 and "note contains a lone surrogate" in response.get_json()["error"]
    assert count(app, Review) == before
    assert count(app, MatchRow, MatchRow.id == world.alpha_match, MatchRow.review_status == "open") == 1


@pytest.mark.parametrize("field", ["title", "text", "publisher", "required_credit", "aliases"])
def test_lone_surrogate_in_a_jsonl_upload_is_a_line_error_not_an_internal_error(app, client, editor, field):
    before = count(app, Article)
    value = [SURROGATE] if field == "aliases" else "x " + SURROGATE
    line = raw_json({"title": "T", "text": TEXT, "url": "https://alpha.example/s", field: value})
    job = upload_job(client, upload(client, line.encode(), "s.jsonl"))
    # Its only line is refused: the upload ends failed, saying so, and the line's error is listed.
    assert job["status"] == "failed" and job["errors"] == 1 and job["registered"] == 0
    assert job["reason"].startswith("no line of the file could be read as an article")
    assert "lone surrogate" in job["page"] and "internal error" not in job["page"]
    assert count(app, Article) == before


FAR_DATES = ["until=9999-12-31", "since=9999-12-31", "until=0001-01-01", "since=0001-01-01&until=9999-12-31"]


@pytest.mark.parametrize("query", FAR_DATES)
@pytest.mark.parametrize("path", ["/api/scans", "/api/matches"])
def test_far_dates_on_the_api_are_422(client, api, path, query):
    response = client.get(f"{path}?{query}", headers=api)
    assert response.status_code == 422 and "outside 1900-2200" in response.get_json()["error"]


@pytest.mark.parametrize("query", FAR_DATES)
@pytest.mark.parametrize("path", ["/scans", "/matches", "/exports/matches.csv", "/exports/matches.json"])
def test_far_dates_on_pages_and_exports_are_not_5xx(client, editor, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code < 500
    if path.startswith("/exports"):
        assert response.status_code == 422 and "outside 1900-2200" in response.get_data(as_text=True)
    else:  # the list is shown unfiltered, with the reason
        assert response.status_code == 200 and "outside 1900-2200" in response.get_data(as_text=True)


def test_a_published_at_past_2200_is_422(app, client, api):
    for value in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00"):
        response = client.post(
            "/api/articles", json={"title": "T", "text": TEXT, "published_at": value}, headers=api
        )
        assert response.status_code == 422 and "outside 1900-2200" in response.get_json()["error"]


# A long text is an article; a long title is cut at its column's size (titles always were); a long
# publisher is refused (a cut publisher name would change what attribution looks for).
@pytest.mark.parametrize(("column", "registered"), [("text", 1), ("title", 1), ("publisher", 0)])
def test_a_csv_field_of_200k_characters_is_not_a_500(app, client, editor, column, registered):
    before = count(app, Article)
    row = {"title": "Long", "text": TEXT, "publisher": "P"}
    row[column] = ("kata " * 40_000)[:200_000]
    data = io.StringIO()
    writer = csv.DictWriter(data, fieldnames=["title", "text", "publisher"])
    writer.writeheader()
    writer.writerow(row)
    job = upload_job(client, upload(client, data.getvalue().encode(), "long.csv"))
    assert job["status"] == ("done" if registered else "failed")  # a file with no readable article failed
    assert job["registered"] == registered and job["errors"] == 1 - registered
    assert count(app, Article) == before + registered
    if column == "title":
        assert count(app, Article, func.length(Article.title).between(495, 500)) == 1


def test_a_csv_field_longer_than_an_article_is_422_nothing_registered(app, client, editor):
    limit = app.extensions["checker.registry"].settings.max_text_chars
    before = count(app, Article)
    data = b'title,text\nGood,"' + TEXT.encode() + b'"\nHuge,"' + b"x" * (limit + 10) + b'"\n'
    response = upload(client, data, "huge.csv")
    assert response.status_code == 422
    assert "longer than" in response.get_data(as_text=True) and "nothing was registered" in response.get_data(
        as_text=True
    )
    assert count(app, Article) == before


# -- finding 6: half-stored batches ----------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "not-a-url", "https://x.example/" + "a" * 2000, "https://x.example/a\x00b"]
)
def test_url_batch_with_one_bad_url_stores_nothing_via_the_form(app, client, editor, sent, bad):
    before = count(app, Scan)
    urls = ["https://a.example/1", "https://b.example/2", bad, "https://c.example/3"]
    response = client.post("/submit", data={"kind": "urls", "urls": "\n".join(urls)})
    assert (
        count(app, Scan) == before and sent == []
    )  # before: the two URLs ahead of the bad one stayed queued
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "1 of the 4 URLs are invalid, so none was queued" in html and "URL 3" in html


@pytest.mark.parametrize(
    "bad", ["JaVaScRiPt:alert(1)", "https://x.example/" + "a" * 2000, "https://x.example/\x00"]
)
def test_url_batch_with_one_bad_url_stores_nothing_via_the_api(app, client, api, sent, bad):
    before = count(app, Scan)
    response = client.post(
        "/api/scans", json={"urls": ["https://a.example/1", "https://b.example/2", bad]}, headers=api
    )
    assert count(app, Scan) == before and sent == []
    assert response.status_code == 422 and "URL 3" in response.get_json()["error"]


def test_a_good_batch_is_stored_whole_and_sent(app, client, api, sent):
    before = count(app, Scan)
    response = client.post(
        "/api/scans", json={"urls": [f"https://a.example/{n}" for n in range(5)]}, headers=api
    )
    assert response.status_code == 202 and len(response.get_json()["ids"]) == 5
    assert count(app, Scan) == before + 5 and len(sent) == 5


# -- the same limits on SQLite and PostgreSQL ------------------------------------------------------
@pytest.fixture
def any_app(storage_app):
    """An app with the fixtures' world, on SQLite, then on a fresh PostgreSQL schema (conftest's storage_app)."""
    return storage_app


LONG_OR_NUL = [
    {"publisher": "p" * 301},
    {"url": "https://alpha.example/" + "a" * 2000},
    {"title": "a\x00b"},
    {"publisher": "a\x00b"},
    {"url": "https://alpha.example/a\x00b"},
    {"required_credit": "c" * 501},
    {"required_credit": "Sumber\x00"},
    {"license": "custom:" + "x" * 300},
    {"aliases": ["a\x00"]},
]


@pytest.mark.parametrize("change", LONG_OR_NUL, ids=lambda c: f"{next(iter(c))}")
def test_long_or_nul_article_fields_are_422_on_every_backend(any_app, change):
    client = any_app.test_client()
    before = count(any_app, Article)
    api = bearer(any_app.config["WORLD"].tokens["editor"])
    response = client.post("/api/articles", json={"title": "T", "text": TEXT, **change}, headers=api)
    assert response.status_code == 422, response.get_json()
    assert next(iter(change)) in response.get_json()["error"]
    assert count(any_app, Article) == before


@pytest.mark.parametrize(
    "change",
    [{"publisher": "p" * 301}, {"title": "a\x00b"}, {"url": "https://a.example/\x00"}],
    ids=lambda c: f"{next(iter(c))}",
)
def test_long_or_nul_form_fields_are_422_on_every_backend(any_app, change):
    client = any_app.test_client()
    client.post("/login", data={"email": "editor@alpha.example", "password": "correct horse battery"})
    before = count(any_app, Article)
    response = client.post("/articles", data={"title": "T", "text": TEXT, **change})
    assert response.status_code == 422
    assert count(any_app, Article) == before


@pytest.mark.parametrize(
    "body",
    [
        {"text": TEXT, "url": "https://a.example/\x00"},
        {"url": "https://a.example/" + "a" * 2000},
        {"urls": ["https://a.example/\x00"]},
    ],
)
def test_long_or_nul_scan_urls_are_422_on_every_backend(any_app, sent, body):
    client = any_app.test_client()
    before = count(any_app, Scan)
    api = bearer(any_app.config["WORLD"].tokens["editor"])
    response = client.post("/api/scans", json=body, headers=api)
    assert response.status_code == 422
    assert count(any_app, Scan) == before and sent == []


def test_nul_in_filters_and_notes_is_not_5xx_on_every_backend(any_app):
    client = any_app.test_client()
    world = any_app.config["WORLD"]
    api = bearer(world.tokens["editor"])
    for path in ("/api/articles?q=a%00b", "/api/scans?domain=a%00b.example", "/api/matches?domain=%00"):
        response = client.get(path, headers=api)
        assert response.status_code == 422 and "NUL" in response.get_json()["error"], path
    response = client.post(
        f"/api/matches/{world.alpha_match}/review", json={"action": "confirmed", "note": "a\x00"}, headers=api
    )
    assert response.status_code == 422 and "note contains a NUL" in response.get_json()["error"]


@pytest.mark.parametrize("name", ["a\x00b", "t" * 201])
def test_a_token_name_with_nul_or_too_long_creates_nothing_on_every_backend(any_app, name):
    from checker.models import ApiToken, User

    client = any_app.test_client()
    client.post("/login", data={"email": "admin@alpha.example", "password": "correct horse battery"})
    with any_app.extensions["checker.registry"].Session() as session:
        admin_id = session.query(User).filter_by(email="admin@alpha.example").one().id
    before = count(any_app, ApiToken)
    response = client.post("/admin/tokens", data={"user_id": str(admin_id), "name": name})
    assert response.status_code == 200 and "No token created" in response.get_data(as_text=True)
    assert count(any_app, ApiToken) == before
