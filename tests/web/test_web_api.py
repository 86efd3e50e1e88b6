"""The REST API: token auth, articles, scans, matches, review, pagination, errors, organisation isolation."""

from __future__ import annotations

import pytest

from tests.web.conftest import close_app, make_app_with_world


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def editor(world) -> dict:
    return bearer(world.tokens["editor"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/articles"),
        ("post", "/api/articles"),
        ("get", "/api/articles/1"),
        ("post", "/api/scans"),
        ("get", "/api/scans"),
        ("get", "/api/scans/1"),
        ("get", "/api/matches"),
        ("get", "/api/matches/1"),
        ("post", "/api/matches/1/review"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer chk_not-a-real-token"},
        {"Authorization": "Bearer x"},
    ],
)
def test_401_without_a_valid_token(client, world, method, path, headers):
    response = getattr(client, method)(path, headers=headers, json={})
    assert response.status_code == 401
    assert response.is_json and "token" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_does_not_authenticate_the_api(client, auth, world):
    auth.login()
    assert client.get("/api/articles").status_code == 401


def test_openapi_document_and_docs_page_are_public(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/scans/{scan_id}" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_create_article_201_then_existing(client, editor):
    body = {
        "title": "API story",
        "url": "https://alpha.example/api",
        "publisher": "Alpha",
        "license": "cc-by-4.0",
        "partners": ["p.example"],
        "published_at": "2026-11-01T08:00:00+07:00",
        "text": "Cerita yang dikirim melalui API dengan cukup banyak kata di dalamnya. " * 5,
    }
    created = client.post("/api/articles", json=body, headers=editor)
    assert created.status_code == 201 and set(created.get_json()) == {"id"}
    again = client.post("/api/articles", json=body, headers=editor)
    article_id = created.get_json()["id"]
    assert again.status_code == 201 and again.get_json() == {
        "id": article_id,
        "existing": True,
        "updated": [],
        "message": f"already registered as #{article_id}; nothing changed",
    }
    article = client.get(f"/api/articles/{article_id}", headers=editor).get_json()
    assert article["license"] == "cc-by-4.0" and article["partners"] == ["p.example"]
    assert article["published_at"] == "2026-11-01T01:00:00+00:00"
    # The same article at a variant of its url (the stored one stays), with a required credit: updated.
    variant = {
        **body,
        "url": "https://ALPHA.example/api/?utm_source=feed#top",
        "required_credit": "Sumber: Alpha",
    }
    del variant["license"]
    third = client.post("/api/articles", json=variant, headers=editor).get_json()
    assert third["id"] == article_id and third["updated"] == ["required_credit"]
    article = client.get(f"/api/articles/{article_id}", headers=editor).get_json()
    assert article["required_credit"] == "Sumber: Alpha" and article["license"] == "cc-by-4.0"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "missing field 'text'"),
        ({"text": ""}, "text"),
        ({"text": 5}, "must be a string"),
        ({"text": "x y z", "partners": "a b"}, None),  # a single string partner is accepted
        ({"text": "x y z", "partners": [1]}, "partners"),
        ({"text": "x y z", "published_at": "yesterday"}, "ISO 8601"),
        ({"text": "x y z", "license": "whatever-licence"}, "licen"),
        ({"text": "x y z", "url": "javascript:alert(1)"}, "http"),
        ({"text": "x y z", "colour": "red"}, "unknown field"),
    ],
)
def test_create_article_validation_422(client, editor, body, message):
    response = client.post("/api/articles", json=body, headers=editor)
    if message is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("", "application/json", 422),
        ("[1, 2]", "application/json", 422),
        ('"text"', "application/json", 422),
        ("\xff", "text/plain", 400),
    ],
)
def test_malformed_bodies(client, editor, data, content_type, status):
    response = client.post("/api/articles", data=data, content_type=content_type, headers=editor)
    assert response.status_code == status and response.get_json()["error"]


def test_413_for_oversized_bodies(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, MAX_CONTENT_LENGTH=2000)
    try:
        world = app.config["WORLD"]
        client = app.test_client()
        response = client.post(
            "/api/articles", json={"text": "kata " * 1000}, headers=bearer(world.tokens["editor"])
        )
        assert response.status_code == 413 and "larger than 2,000 bytes" in response.get_json()["error"]
        response = client.post(
            "/api/scans", json={"text": "kata " * 1000}, headers=bearer(world.tokens["editor"])
        )
        assert response.status_code == 413
    finally:
        close_app(app)


def test_viewer_reads_but_cannot_write(client, world):
    viewer = bearer(world.tokens["viewer"])
    assert client.get("/api/articles", headers=viewer).status_code == 200
    for path, body in [
        ("/api/articles", {"text": "x"}),
        ("/api/scans", {"text": "x"}),
        (f"/api/matches/{world.alpha_match}/review", {"action": "confirmed"}),
    ]:
        response = client.post(path, json=body, headers=viewer)
        assert response.status_code == 403 and "editor role" in response.get_json()["error"]


def test_scan_text_202_then_result(client, editor, seed_suspects):
    suspect = seed_suspects["full-copy"]
    response = client.post(
        "/api/scans", json={"text": suspect["text"], "url": suspect["url"]}, headers=editor
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and isinstance(body["id"], int)
    scan = client.get(f"/api/scans/{body['id']}", headers=editor).get_json()
    assert {"id", "status", "result", "error"} <= set(scan)
    assert scan["status"] == "done" and scan["error"] is None  # tests run tasks in-process, at once
    result = scan["result"]
    assert result["verdict"] == "unattributed_reuse"
    match = result["matches"][0]
    assert set(match["article"]) == {"id", "title", "url", "publisher"}
    assert {
        "kind",
        "score",
        "suspect_coverage",
        "source_coverage",
        "attributed",
        "licensed",
        "passages",
    } <= set(match)
    p = match["passages"][0]
    assert suspect["text"][p["suspect_start"] : p["suspect_end"]]


def test_scan_url_and_urls_are_queued(client, editor, sent):
    one = client.post("/api/scans", json={"url": "https://copier.example/a"}, headers=editor)
    assert one.status_code == 202 and one.get_json()["status"] == "queued"
    many = client.post(
        "/api/scans", json={"urls": ["https://a.example/1", "https://b.example/2"]}, headers=editor
    )
    assert many.status_code == 202
    body = many.get_json()
    assert len(body["ids"]) == 2 and body["id"] == body["ids"][0] and body["status"] == "queued"
    queued = client.get(f"/api/scans/{body['ids'][1]}", headers=editor).get_json()
    assert queued["status"] == "queued" and queued["result"] is None
    assert len(sent) == 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": 3},
        {"url": "ftp://x.example"},
        {"url": ""},
        {"urls": []},
        {"urls": "https://a.example"},
        {"urls": [1]},
        {"urls": ["not a url"]},
        {"urls": ["https://a.example"], "text": "x"},
        {"what": "x"},
        {"url": "https://" + "a" * 2100},
    ],
)
def test_scan_validation_422(client, editor, sent, body):
    response = client.post("/api/scans", json=body, headers=editor)
    assert response.status_code == 422, (body, response.get_json())
    assert response.get_json()["error"]
    assert sent == []


def test_list_endpoints_paginate(client, editor, world):
    for n in range(3):
        client.post(
            "/api/articles", json={"title": f"P{n}", "text": f"halaman nomor {n} " * 20}, headers=editor
        )
    page = client.get("/api/articles?per_page=2&page=2", headers=editor).get_json()
    assert page["page"] == 2 and page["per_page"] == 2 and page["total"] == 6 and page["pages"] == 3
    assert len(page["items"]) == 2
    assert client.get("/api/articles?q=P1", headers=editor).get_json()["total"] == 1
    for bad in ("per_page=0", "per_page=101", "page=0", "page=x"):
        response = client.get(f"/api/articles?{bad}", headers=editor)
        assert response.status_code == 422 and response.get_json()["error"]


def test_list_matches_with_filters(client, editor, world):
    data = client.get("/api/matches", headers=editor).get_json()
    assert [m["id"] for m in data["items"]] == [world.alpha_match]
    assert data["items"][0]["suspect_url"].startswith("https://portal-copas.example/")
    for query, expected in [
        ("verdict=unattributed_reuse", 1),
        ("verdict=licensed", 0),
        ("review_status=open", 1),
        ("domain=portal-copas.example", 1),
        ("domain=copier.example", 0),
        (f"article_id={world.alpha_article}", 1),
        ("since=2000-01-01", 1),
        ("until=2000-01-01", 0),
        ("kind=paraphrase", 0),
    ]:
        assert client.get(f"/api/matches?{query}", headers=editor).get_json()["total"] == expected, query
    for bad in ("verdict=bad", "kind=x", "since=nope", "domain=a/b", "article_id=-1"):
        assert client.get(f"/api/matches?{bad}", headers=editor).status_code == 422, bad


def test_list_scans_with_filters(client, editor, world):
    assert client.get("/api/scans?status=done", headers=editor).get_json()["total"] == 1
    assert client.get("/api/scans?status=queued", headers=editor).get_json()["total"] == 0
    assert client.get("/api/scans?verdict=unattributed_reuse", headers=editor).get_json()["total"] == 1
    assert "result" not in client.get("/api/scans", headers=editor).get_json()["items"][0]


def test_review_a_match(client, editor, world):
    url = f"/api/matches/{world.alpha_match}/review"
    response = client.post(url, json={"action": "confirmed", "note": "whole copy"}, headers=editor)
    assert response.status_code == 200 and response.get_json()["review_status"] == "confirmed"
    client.post(url, json={"action": "reopened"}, headers=editor)
    match = client.get(f"/api/matches/{world.alpha_match}", headers=editor).get_json()
    assert match["review_status"] == "open"
    assert [r["action"] for r in match["reviews"]] == ["confirmed", "reopened"]
    assert match["reviews"][0]["user"] == "editor@alpha.example" and match["passages"]
    for bad in (
        {"action": "nuke"},
        {},
        {"action": "confirmed", "note": 5},
        {"action": "confirmed", "x": 1},
        {"action": "confirmed", "note": "n" * 5001},
    ):
        assert client.post(url, json=bad, headers=editor).status_code == 422, bad


@pytest.mark.parametrize(
    "template",
    [
        "/api/articles/{beta_article}",
        "/api/scans/{beta_scan}",
        "/api/matches/{beta_match}",
        "/api/articles/999999",
        "/api/scans/999999",
    ],
)
def test_other_organisations_ids_are_404(client, editor, world, template):
    response = client.get(template.format(**world.__dict__), headers=editor)
    assert response.status_code == 404 and "no " in response.get_json()["error"]


def test_cannot_review_another_organisations_match(client, editor, world):
    response = client.post(
        f"/api/matches/{world.beta_match}/review", json={"action": "dismissed"}, headers=editor
    )
    assert response.status_code == 404


def test_unknown_api_path_and_method_are_json(client, editor):
    response = client.get("/api/nothing", headers=editor)
    assert response.status_code == 404 and response.is_json
    response = client.delete("/api/articles", headers=editor)
    assert response.status_code == 405 and response.is_json


def test_revoked_and_disabled_tokens_stop_working(app, client, world):
    from checker.models import User
    from web import accounts

    with app.extensions["checker.registry"].Session.begin() as session:
        token_row = (
            session.query(accounts.ApiToken)
            .filter_by(token_sha256=accounts.token_digest(world.tokens["editor"]))
            .one()
        )
        accounts.revoke_token(session, token_row.id)
        session.query(User).filter_by(email="admin@alpha.example").update({"active": False})
    assert client.get("/api/articles", headers=bearer(world.tokens["editor"])).status_code == 401
    assert client.get("/api/articles", headers=bearer(world.tokens["admin"])).status_code == 401
    assert client.get("/api/articles", headers=bearer(world.tokens["viewer"])).status_code == 200


def test_a_tokens_use_is_written_once_a_minute_not_once_a_request(app, client, world):
    """The first request sets "last used"; more within a minute write nothing; an older mark (or one
    in the future: a clock set back) is moved to now."""
    from datetime import timedelta

    from sqlalchemy import event

    from web import accounts

    registry = app.extensions["checker.registry"]
    digest = accounts.token_digest(world.tokens["viewer"])

    def last_used():
        with registry.Session() as session:
            return session.query(accounts.ApiToken).filter_by(token_sha256=digest).one().last_used_at

    def set_last_used(when):
        with registry.Session.begin() as session:
            session.query(accounts.ApiToken).filter_by(token_sha256=digest).update({"last_used_at": when})

    updates = []

    def count_updates(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    set_last_used(None)
    event.listen(registry.engine, "before_cursor_execute", count_updates)
    try:
        assert client.get("/api/articles", headers=bearer(world.tokens["viewer"])).status_code == 200
        first = last_used()
        assert first is not None and len(updates) == 1
        for _ in range(3):
            assert client.get("/api/articles", headers=bearer(world.tokens["viewer"])).status_code == 200
        assert last_used() == first and len(updates) == 1
        for stale in (first - 2 * accounts.TOKEN_USE_RESOLUTION, first + timedelta(hours=1)):
            set_last_used(stale)
            assert client.get("/api/articles", headers=bearer(world.tokens["viewer"])).status_code == 200
            assert first <= last_used() < first + timedelta(hours=1)
    finally:
        event.remove(registry.engine, "before_cursor_execute", count_updates)


def test_tokens_are_stored_as_sha256_only(app, world):
    from web import accounts

    with app.extensions["checker.registry"].Session() as session:
        rows = session.query(accounts.ApiToken).all()
    stored = {r.token_sha256 for r in rows}
    for token in world.tokens.values():
        assert accounts.token_digest(token) in stored
        assert all(token not in (r.token_sha256, r.prefix, r.name) for r in rows)


def test_licence_terms_round_trip_through_the_api(client, editor):
    headers = editor
    body = {
        "title": "Vaksin",
        "url": "https://lingkar.co/terms-test",
        "publisher": "Lingkar.co",
        "license": "cc-by-4.0",
        "partners": ["mitra.example"],
        "required_credit": "Sumber: Lingkar.co",
        "aliases": ["Harian Lingkar"],
        "text": "Pemerintah Indonesia tengah melakukan finalisasi nota kesepahaman.",
    }
    created = client.post("/api/articles", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    got = client.get(f"/api/articles/{created.get_json()['id']}", headers=headers).get_json()
    assert got["required_credit"] == "Sumber: Lingkar.co" and got["aliases"] == ["Harian Lingkar"]
    assert got["license"] == "cc-by-4.0" and got["partners"] == ["mitra.example"]
