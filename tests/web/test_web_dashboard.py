"""Every dashboard page: content, forms and their validation, organisation isolation, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def editor(auth, world):
    auth.login("editor@alpha.example")
    return world


def test_overview_counts_recent_reuse_and_chart(client, editor):
    html = client.get("/").get_data(as_text=True)
    assert "unattributed reuse" in html and "<svg" in html and "<rect" in html
    assert "portal-copas.example" in html  # the recent unattributed copy


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/articles",
        "/articles?q=vaksin",
        "/articles/upload",
        "/submit",
        "/scans",
        "/scans?verdict=unattributed_reuse&domain=portal-copas.example&since=2020-01-01",
        "/matches",
        "/matches?review_status=open&verdict=unattributed_reuse",
        "/domains",
        "/exports",
        "/api/docs",
    ],
)
def test_pages_render(client, editor, path):
    response = client.get(path)
    assert response.status_code == 200 and "<!doctype html>" in response.get_data(as_text=True)


def test_bad_filters_are_reported_not_fatal(client, editor):
    response = client.get("/scans?verdict=nonsense&since=yesterday&page=0")
    assert response.status_code == 200 and "Filter ignored" in response.get_data(as_text=True)


def test_scan_filters(client, editor):
    assert f"/scans/{editor.alpha_scan}" in client.get("/scans?domain=portal-copas.example").get_data(
        as_text=True
    )
    assert f'/scans/{editor.alpha_scan}"' not in client.get("/scans?domain=other.example").get_data(
        as_text=True
    )
    assert f'/scans/{editor.alpha_scan}"' not in client.get("/scans?verdict=no_reuse").get_data(as_text=True)
    assert f'/scans/{editor.alpha_scan}"' not in client.get("/scans?until=2000-01-01").get_data(as_text=True)


def test_register_article_form_and_validation(client, editor):
    bad = client.post("/articles", data={"title": "", "text": "some text"})
    assert bad.status_code == 422 and "title is empty" in bad.get_data(as_text=True)
    bad = client.post(
        "/articles", data={"title": "T", "text": "a " * 30, "license": "custom", "custom_terms": ""}
    )
    assert bad.status_code == 422
    bad = client.post("/articles", data={"title": "T", "text": "a " * 30, "published_at": "last week"})
    assert bad.status_code == 422 and "ISO 8601" in bad.get_data(as_text=True)
    ok = client.post(
        "/articles",
        data={
            "title": "My story",
            "text": "Sebuah cerita baru tentang banjir. " * 20,
            "url": "https://alpha.example/story",
            "license": "cc-by-4.0",
            "partners": "a.example, b.example",
            "published_at": "2026-11-01",
        },
    )
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "My story" in page and "cc-by-4.0" in page and "a.example, b.example" in page


def test_registering_again_updates_with_one_message(client, editor):
    # Issue 10, point 2: a re-registration flashed two messages and dropped the required credit.
    form = {
        "title": "My story",
        "text": "Sebuah cerita baru tentang banjir. " * 20,
        "url": "https://alpha.example/story",
        "license": "cc-by-4.0",
    }
    first = client.post("/articles", data=form)
    assert "Article registered." in client.get(first.headers["Location"]).get_data(as_text=True)
    again = client.post(
        "/articles",
        data={
            **form,
            "url": "https://ALPHA.example/story/",
            "required_credit": "Sumber: Alpha",
            "aliases": "Alpha, Harian Alpha",
        },
    )
    assert again.headers["Location"] == first.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    article_id = first.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    assert f"already registered as #{article_id}; updated: required credit, aliases" in page
    assert "Article registered." not in page and "showing it" not in page
    stored = client.application.extensions["checker.registry"].get_article(int(article_id))
    assert stored.required_credit == "Sumber: Alpha" and stored.aliases == ["Alpha", "Harian Alpha"]
    assert stored.url == "https://alpha.example/story" and "Sumber: Alpha" in page
    client.post("/articles", data=form)
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert f"already registered as #{article_id}; nothing changed" in page and "Sumber: Alpha" in page


def test_cli_registered_article_is_in_the_default_organisations_dashboard(tmp_path):
    # Issue 10, point 1: what `checker register` stored belonged to no organisation.
    import os
    import subprocess

    from tests.test_cli import CHECKER
    from tests.web.conftest import PASSWORD, close_app, make_app
    from web import accounts

    env = {**os.environ, "CHECKER_DATA_DIR": str(tmp_path / "data")}
    env.pop("CHECKER_DATABASE_URL", None)
    env.pop("CHECKER_ORG", None)
    text = tmp_path / "a.txt"
    text.write_text("Harga cabai di pasar induk naik dua kali lipat menjelang hari raya. " * 10, "utf-8")
    subprocess.run(
        [CHECKER, "register", str(text), "--title", "Cabai naik"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [
            CHECKER,
            "users",
            "create",
            "--email",
            "ed@default.example",
            "--password",
            PASSWORD,
            "--role",
            "editor",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    app = make_app(tmp_path)
    try:
        client = app.test_client()
        assert (
            client.post("/login", data={"email": "ed@default.example", "password": PASSWORD}).status_code
            == 302
        )
        assert "Cabai naik" in client.get("/articles").get_data(as_text=True)
        with app.extensions["checker.registry"].Session() as session:
            assert accounts.find_user(session, "ed@default.example").org.name == "Default"
    finally:
        close_app(app)


def test_article_page_lists_where_it_was_reused(client, editor):
    html = client.get(f"/articles/{editor.alpha_article}").get_data(as_text=True)
    assert "portal-copas.example/berita/vaksin-sputnik" in html and f"/matches/{editor.alpha_match}" in html


def test_bulk_upload_jsonl_with_bad_lines(client, editor):
    lines = [
        json.dumps(
            {
                "title": f"Bulk {n}",
                "url": f"https://alpha.example/bulk/{n}",
                "text": f"Artikel nomor {n} tentang pelabuhan dan nelayan di pesisir utara. " * 5,
            }
        )
        for n in range(3)
    ]
    data = "\n".join([*lines, "{not json", json.dumps({"title": "no text"})]).encode()
    response = client.post(
        "/articles/upload",
        data={"file": (io.BytesIO(data), "articles.jsonl")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 registered" in html.replace("</span>", "").replace('<span data-field="registered">', "")
    assert "line 4: malformed JSON" in html and "line 5: missing field" in html
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/articles/upload/{job_id}.json").get_json()["percent"] == 100
    again = client.post(
        "/articles/upload",
        data={"file": (io.BytesIO(data), "articles.jsonl")},
        content_type="multipart/form-data",
    )
    progress = client.get(again.headers["Location"] + ".json").get_json()
    assert progress["skipped"] == 3 and progress["registered"] == 0


def test_bulk_upload_csv(client, editor):
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["title", "url", "publisher", "license", "partners", "published_at", "text"])
    writer.writerow(
        [
            "CSV one",
            "https://alpha.example/csv/1",
            "Alpha",
            "cc-by-4.0",
            "p.example q.example",
            "2026-01-02",
            "Kolom teks pertama yang cukup panjang untuk didaftarkan. " * 4,
        ]
    )
    response = client.post(
        "/articles/upload",
        data={"file": (io.BytesIO(rows.getvalue().encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert client.get(response.headers["Location"] + ".json").get_json()["registered"] == 1
    assert "CSV one" in client.get("/articles?q=CSV").get_data(as_text=True)


def test_bulk_upload_rejects_other_files(client, editor):
    response = client.post(
        "/articles/upload", data={"file": (io.BytesIO(b"x"), "a.exe")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert client.post("/articles/upload", data={}, content_type="multipart/form-data").status_code == 422


def test_upload_too_large_is_413(request, tmp_path):
    from tests.web.conftest import close_app, make_app_with_world

    app = make_app_with_world(request, tmp_path, populated=True, MAX_CONTENT_LENGTH=1000)
    try:
        client = app.test_client()
        client.post("/login", data={"email": "editor@alpha.example", "password": "correct horse battery"})
        response = client.post(
            "/articles/upload",
            data={"file": (io.BytesIO(b"x" * 5000), "a.jsonl")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
    finally:
        close_app(app)


def test_submit_text_scans_and_marks_passages(client, editor, seed_suspects):
    suspect = seed_suspects["partial-copy"]
    response = client.post("/submit", data={"kind": "text", "text": suspect["text"], "url": suspect["url"]})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "done" in html and "<mark" in html and "Open match" in html


def test_submit_validation(client, editor, sent):
    assert client.post("/submit", data={"kind": "text", "text": "  "}).status_code == 422
    assert client.post("/submit", data={"kind": "url", "url": "ftp://x.example/"}).status_code == 422
    assert client.post("/submit", data={"kind": "urls", "urls": ""}).status_code == 422
    assert (
        client.post(
            "/submit", data={"kind": "crawl", "site": "https://x.example", "max_pages": "9999"}
        ).status_code
        == 422
    )
    assert client.post("/submit", data={"kind": "mystery"}).status_code == 422
    assert sent == []


def test_submit_urls_crawl_and_watch_queue_work(client, editor, sent):
    assert client.post("/submit", data={"kind": "url", "url": "https://copier.example/a"}).status_code == 302
    response = client.post(
        "/submit", data={"kind": "urls", "urls": "https://a.example/1\nhttps://b.example/2"}
    )
    assert response.status_code == 302
    assert (
        client.post(
            "/submit", data={"kind": "crawl", "site": "https://c.example/", "max_pages": "5"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/submit", data={"kind": "watch", "site": "https://d.example/", "interval_hours": "12"}
        ).status_code
        == 302
    )
    assert [name for name, _ in sent] == ["worker.tasks.scan"] * 3 + ["worker.tasks.crawl"]
    html = client.get("/scans?status=queued").get_data(as_text=True)
    assert 'data-status="queued"' in html and "copier.example/a" in html


def test_scan_status_json_for_polling(client, editor):
    data = client.get(f"/scans/status.json?ids={editor.alpha_scan},{editor.beta_scan}").get_json()
    assert [s["id"] for s in data["scans"]] == [editor.alpha_scan]  # Beta's scan is not visible
    assert data["scans"][0]["status"] == "done" and data["scans"][0]["matches"] >= 1
    assert client.get("/scans/status.json?ids=a,b").status_code == 422


def test_scan_page_shows_passages_in_mark(client, editor):
    html = client.get(f"/scans/{editor.alpha_scan}").get_data(as_text=True)
    assert html.count("<mark") >= 1 and "unattributed reuse" in html


def test_scan_page_reads_its_status_and_matches_in_one_statement(app, client, editor):
    """One SELECT is one snapshot: a worker finishing the scan between two statements would otherwise
    give a page whose status says "running" above matches it found."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = app.extensions["checker.registry"].engine
    record = lambda *a: seen.append(" ".join(a[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        html = client.get(f"/scans/{editor.alpha_scan}").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "Open match" in html and html.count("<mark") >= 1
    reads = [
        s
        for s in seen
        if s.startswith("SELECT")
        and (
            "FROM scans" in s
            or "JOIN matches" in s
            or "FROM matches" in s
            or "FROM passages" in s
            or "JOIN passages" in s
        )
    ]
    assert len(reads) == 1, reads
    assert "scans.status" in reads[0] and "JOIN matches" in reads[0] and "JOIN passages" in reads[0]


def test_match_page_side_by_side_linked_passages(client, editor):
    html = client.get(f"/matches/{editor.alpha_match}").get_data(as_text=True)
    assert '<mark id="s1">' in html and '<mark id="o1">' in html
    assert 'href="#o1"' in html and 'href="#s1"' in html
    assert "of the suspect" in html and "all-rights-reserved" in html and "no credit found" in html


def test_review_actions_keep_an_audit_trail(client, editor):
    url = f"/matches/{editor.alpha_match}"
    assert (
        client.post(url + "/review", data={"action": "confirmed", "note": "copied whole"}).status_code == 303
    )
    assert client.post(url + "/review", data={"action": "licensed", "note": "deal signed"}).status_code == 303
    bad = client.post(url + "/review", data={"action": "delete"}, follow_redirects=True)
    assert "action must be one of" in bad.get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert "copied whole" in html and "deal signed" in html and "review-licensed" in html
    assert "editor@alpha.example" in html


def test_domains_page(client, editor):
    html = client.get("/domains").get_data(as_text=True)
    assert "portal-copas.example" in html and "copier.example" not in html


def test_exports_csv_and_json(client, editor):
    response = client.get("/exports/matches.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["match_id"]) for r in rows] == [editor.alpha_match]
    assert rows[0]["suspect_domain"] == "portal-copas.example" and rows[0]["verdict"] == "unattributed_reuse"
    data = json.loads(client.get("/exports/matches.json").get_data(as_text=True))
    assert [m["id"] for m in data["matches"]] == [editor.alpha_match] and data["matches"][0]["passages"]
    filtered = json.loads(client.get("/exports/matches.json?verdict=licensed").get_data(as_text=True))
    assert filtered["matches"] == []
    assert client.get("/exports/matches.csv?verdict=bogus").status_code == 422


def test_csv_cells_cannot_run_as_formulas(app, client, editor):
    from checker.models import MatchRow

    with app.extensions["checker.registry"].Session.begin() as session:
        session.get(MatchRow, editor.alpha_match).suspect_url = '=HYPERLINK("http://x")'
    text = client.get("/exports/matches.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_evidence_report_and_takedown(client, editor):
    report = client.get(f"/matches/{editor.alpha_match}/report").get_data(as_text=True)
    assert "portal-copas.example/berita/vaksin-sputnik" in report and "lingkar.co" in report
    assert "Body SHA-256" in report and report.count("<mark>") >= 2
    notice = client.get(f"/matches/{editor.alpha_match}/takedown").get_data(as_text=True)
    assert "Alpha News" in notice and "portal-copas.example" in notice
    txt = client.get(f"/matches/{editor.alpha_match}/takedown?format=txt")
    assert txt.mimetype == "text/plain" and "Subject: Request to remove copied content" in txt.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "template",
    [
        "/articles/{beta_article}",
        "/scans/{beta_scan}",
        "/matches/{beta_match}",
        "/matches/{beta_match}/report",
        "/matches/{beta_match}/takedown",
        "/articles/999999",
        "/scans/999999",
        "/matches/999999",
    ],
)
def test_other_organisations_records_are_404(client, editor, template):
    assert client.get(template.format(**editor.__dict__)).status_code == 404


def test_cannot_review_another_organisations_match(client, editor):
    assert (
        client.post(f"/matches/{editor.beta_match}/review", data={"action": "dismissed"}).status_code == 404
    )


def test_other_organisations_upload_job_is_404(app, client, auth, editor):
    data = json.dumps({"title": "x", "text": "y " * 40}).encode()
    location = client.post(
        "/articles/upload", data={"file": (io.BytesIO(data), "a.jsonl")}, content_type="multipart/form-data"
    ).headers["Location"]
    auth.logout()
    auth.login("editor@beta.example")
    assert client.get(location).status_code == 404


def test_lists_show_only_own_organisation(client, editor):
    assert "Beta original" not in client.get("/articles").get_data(as_text=True)
    assert "copier.example" not in client.get("/scans").get_data(as_text=True)
    assert "copier.example" not in client.get("/matches").get_data(as_text=True)


def test_html_is_escaped(client, editor):
    response = client.post(
        "/submit", data={"kind": "text", "text": "<script>alert(1)</script> tidak ada " * 3}
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_admin_manages_users_and_tokens(client, auth, world):
    auth.login("admin@alpha.example")
    bad = client.post("/admin/users", data={"email": "not-an-email", "password": "short", "role": "viewer"})
    assert bad.status_code == 422
    assert (
        client.post(
            "/admin/users",
            data={"email": "new@alpha.example", "password": "long enough pw", "role": "editor"},
        ).status_code
        == 303
    )
    assert "new@alpha.example" in client.get("/admin/users").get_data(as_text=True)
    assert client.post("/admin/tokens", data={"user_id": "0"}).status_code == 404
    assert "No token created" in client.post("/admin/tokens", data={"user_id": "x"}).get_data(as_text=True)
    from checker.models import User
    from web.db import get_registry

    with client.application.app_context():
        with get_registry().Session() as session:
            new_id = session.query(User).filter_by(email="new@alpha.example").one().id
            beta_id = session.query(User).filter_by(email="editor@beta.example").one().id
    response = client.post("/admin/tokens", data={"user_id": str(new_id), "name": "ci"})
    token = response.get_data(as_text=True).split('id="new-token">')[1].split("<")[0]
    assert token.startswith("chk_") and response.headers["Cache-Control"] == "no-store"
    assert token not in client.get("/admin/tokens").get_data(as_text=True)  # shown once
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.post("/admin/tokens", data={"user_id": str(beta_id)}).status_code == 404
    assert client.post(f"/admin/users/{beta_id}/active", data={"active": "0"}).status_code == 404
    # Disabling asks first (web.confirm): only the confirmed POST disables.
    assert (
        client.post(f"/admin/users/{new_id}/active", data={"active": "0", "confirm": "yes"}).status_code
        == 303
    )
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_admin_revokes_tokens_of_own_organisation_only(app, client, auth, world):
    from checker.models import ApiToken
    from web.accounts import token_digest

    auth.login("admin@alpha.example")
    with app.extensions["checker.registry"].Session() as session:
        own = session.query(ApiToken).filter_by(token_sha256=token_digest(world.tokens["viewer"])).one().id
        other = session.query(ApiToken).filter_by(token_sha256=token_digest(world.tokens["beta"])).one().id
    assert client.post(f"/admin/tokens/{other}/revoke").status_code == 404
    assert client.post(f"/admin/tokens/{own}/revoke", data={"confirm": "yes"}).status_code == 303
    assert (
        client.get("/api/articles", headers={"Authorization": f"Bearer {world.tokens['viewer']}"}).status_code
        == 401
    )
    assert (
        client.get("/api/articles", headers={"Authorization": f"Bearer {world.tokens['beta']}"}).status_code
        == 200
    )


def test_static_assets_are_local(client, editor):
    html = client.get("/").get_data(as_text=True)
    assert "http://" not in html.split("<main>")[0] and "https://" not in html.split("<main>")[0]
    for path in ("/static/style.css", "/static/app.js"):
        with client.get(path) as response:
            assert response.status_code == 200
