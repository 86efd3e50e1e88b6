"""The monitoring page and /api/watches (issue 11, part 2): list, add, pause, resume and remove watches,
each with its kind, schedule, last and next run, pages seen, new matches, last error and pause reason.
On SQLite and on the real PostgreSQL server.

Each action is checked on the page (or the JSON) and against the stored rows; roles (viewers only see),
organisation isolation (another organisation's watch is "not found", as a made-up id) and bad input
(a clear message, never a 500, nothing stored or changed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from checker import monitoring
from checker.models import Crawl, Organisation, Scan, Watch
from tests.web.conftest import PASSWORD, close_app, csrf_token_of, make_app_with_world


@pytest.fixture
def site(storage_app):
    """(app, world, the registry)."""
    return storage_app, storage_app.config["WORLD"], storage_app.extensions["checker.registry"]


def logged_in(app, who: str = "editor@alpha.example"):
    client = app.test_client()
    assert client.post("/login", data={"email": who, "password": PASSWORD}).status_code == 302
    return client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def add_watch(registry, org_id: int, url: str = "https://copier.example/", **kw) -> int:
    from worker import dispatch

    return dispatch.add_watch(registry, url, org_id=org_id, **kw)


def watch_row(registry, watch_id: int) -> Watch | None:
    with registry.Session() as session:
        return session.get(Watch, watch_id)


def watch_rows(registry) -> list[tuple]:
    """Every watch of every organisation, as stored: what bad input must leave as it was."""
    with registry.Session() as session:
        return [
            (w.id, w.org_id, w.url, w.kind, w.interval_minutes, w.max_pages, w.active, w.paused_reason)
            for w in session.scalars(select(Watch).order_by(Watch.id))
        ]


FORM = {
    "url": "https://copier.example/",
    "kind": "site",
    "interval": "6",
    "interval_unit": "hours",
    "max_pages": "20",
}


# -- the page ------------------------------------------------------------------------------------------------
def test_the_page_needs_a_login(site):
    app, _, _ = site
    response = app.test_client().get("/watches")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_editor_adds_a_site_and_a_feed_from_the_page(site):
    app, world, registry = site
    client = logged_in(app)
    page = client.get("/watches").get_data(as_text=True)
    assert "Nothing is watched yet." in page and 'id="add-watch"' in page
    assert 'href="/watches" aria-current="page">Monitoring</a>' in page  # the nav link, marked current

    response = client.post("/watches", data=FORM)
    assert response.status_code == 303 and response.headers["Location"].endswith("/watches")
    response = client.post(
        "/watches",
        data={
            **FORM,
            "url": "https://copier.example/feed.xml",
            "kind": "feed",
            "interval": "45",
            "interval_unit": "minutes",
            "max_pages": "5",
        },
    )
    assert response.status_code == 303
    page = client.get("/watches").get_data(as_text=True)
    assert "Watch 2 added: its first run starts shortly, then every 45 minutes." in page
    rows = [r for r in watch_rows(registry) if r[1] == world.alpha]
    assert [r[2:6] for r in rows] == [
        ("https://copier.example/", "site", 360, 20),
        ("https://copier.example/feed.xml", "feed", 45, 5),
    ]
    assert "site crawl" in page and "feed or sitemap" in page
    assert "every 6 hours, at most 20 pages" in page and "every 45 minutes, at most 5 pages" in page
    assert page.count('class="badge watch-active"') == 2 and "not yet" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "javascript:alert(1)"}, "is not an http:// or https:// URL"),
        ({"url": ""}, "site URL"),
        ({"url": "https://copier.example/\x00"}, "site URL"),
        ({"interval": "2", "interval_unit": "minutes"}, "between 5 minutes and 90 days"),
        ({"interval": str(91 * 24), "interval_unit": "hours"}, "between 5 minutes and 90 days"),
        ({"interval": "abc"}, "must be a whole number"),
        ({"interval": "1e309"}, "must be a whole number"),
        ({"interval": "99999999999999999999999"}, "must be a whole number"),
        ({"interval": "-5"}, "must be a whole number"),
        ({"interval_unit": "weeks"}, "Choose minutes or hours"),
        ({"max_pages": "0"}, "max pages must be between 1 and 500"),
        ({"max_pages": "501"}, "max pages must be between 1 and 500"),
        ({"kind": "rss"}, "a watch is of kind site or feed"),
    ],
)
def test_bad_input_on_the_page_says_why_and_stores_nothing(site, changes, message):
    app, _, registry = site
    client = logged_in(app)
    before = watch_rows(registry)
    response = client.post("/watches", data={**FORM, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The watch was not added:" in html and message in html
    if "max_pages" not in changes:
        assert (
            f'name="max_pages" min="1" max="500" required value="{FORM["max_pages"]}"' in html
        )  # kept as typed
    assert watch_rows(registry) == before


def test_pause_resume_and_remove_with_its_confirmation(site):
    app, world, registry = site
    client = logged_in(app)
    watch_id = add_watch(registry, world.alpha)
    with registry.Session.begin() as session:  # a run it made: the crawl stays after the watch goes
        crawl = Crawl(org_id=world.alpha, watch_id=watch_id, url="https://copier.example/", status="done")
        session.add(crawl)
        session.flush()
        crawl_id = crawl.id

    response = client.post(f"/watches/{watch_id}/pause")
    assert response.status_code == 303
    stored = watch_row(registry, watch_id)
    assert not stored.active and stored.paused_reason == "paused by editor@alpha.example"
    page = client.get("/watches").get_data(as_text=True)
    assert f"Watch {watch_id} paused: it does not run until you resume it." in page
    assert 'class="badge watch-paused"' in page and "paused by editor@alpha.example" in page
    assert ">Resume</button>" in page and ">Pause</button>" not in page
    client.post(f"/watches/{watch_id}/pause")  # twice: nothing changes, and it says so
    assert "was already paused" in client.get("/watches").get_data(as_text=True)

    assert client.post(f"/watches/{watch_id}/resume").status_code == 303
    stored = watch_row(registry, watch_id)
    assert stored.active and stored.paused_reason is None and stored.next_due_at is not None
    assert 'class="badge watch-active"' in client.get("/watches").get_data(as_text=True)

    # Remove: the page links to the confirmation; a POST without it does nothing.
    assert f'href="/watches/{watch_id}/remove"' in client.get("/watches").get_data(as_text=True)
    question = client.get(f"/watches/{watch_id}/remove")
    assert question.status_code == 200 and "Stop watching https://copier.example/?" in question.get_data(
        as_text=True
    )
    assert 'name="confirm" value="yes"' in question.get_data(as_text=True)
    assert client.post(f"/watches/{watch_id}/remove").status_code == 400
    assert watch_row(registry, watch_id) is not None
    response = client.post(f"/watches/{watch_id}/remove", data={"confirm": "yes"})
    assert response.status_code == 303
    assert watch_row(registry, watch_id) is None
    page = client.get("/watches").get_data(as_text=True)
    assert f"Watch {watch_id} removed." in page and "Nothing is watched yet." in page
    with registry.Session() as session:
        assert session.get(Crawl, crawl_id).watch_id is None  # the run stays, unlinked


def test_a_watch_s_runs_failures_and_times_are_shown(site):
    app, world, registry = site
    failing = add_watch(registry, world.alpha, "https://failing.example/")
    stopped = add_watch(registry, world.alpha, "https://gone.example/", kind="feed")
    fine = add_watch(registry, world.alpha, "https://fine.example/", interval_minutes=120)
    ran = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    with registry.Session.begin() as session:
        session.get(Organisation, world.alpha).time_zone = "Asia/Jakarta"
        w = session.get(Watch, failing)
        w.failures, w.last_error = 2, "connection refused by failing.example"
        w = session.get(Watch, stopped)
        for _ in range(monitoring.MAX_FAILURES):
            monitoring.record_run(session, w.id, "the feed answered 404")
        w = session.get(Watch, fine)
        w.last_crawled_at, w.next_due_at = ran, ran + timedelta(hours=2)
        crawl = Crawl(
            org_id=world.alpha, watch_id=fine, url="https://fine.example/", status="done", pages_found=7
        )
        session.add(crawl)
        session.flush()
        fine_crawl = crawl.id
        session.get(Scan, world.alpha_scan).crawl_id = fine_crawl  # its match is the watch's new match
    client = logged_in(app)
    html = client.get("/watches").get_data(as_text=True)
    row = {
        wid: html[html.index(f'data-watch-id="{wid}"') :].split("</tr>")[0]
        for wid in (failing, stopped, fine)
    }
    assert (
        'class="badge watch-failing"' in row[failing]
        and "connection refused by failing.example" in row[failing]
    )
    assert "2 failed runs in a row" in row[failing]
    assert 'class="badge watch-paused"' in row[stopped]
    assert (
        f"paused after {monitoring.MAX_FAILURES} failed runs in a row; the last: the feed answered 404"
        in row[stopped]
    )
    assert 'class="badge watch-active"' in row[fine]
    # Times in the organisation's zone (03:00 UTC is 10:00 in Jakarta), the run's page linked.
    assert "2026-11-30 10:00 WIB" in row[fine] and "2026-11-30 12:00 WIB" in row[fine]
    assert f'href="/crawls/{fine_crawl}"' in row[fine]
    cells = dict(re_cells(row[fine]))
    assert cells["Pages seen"] == "7" and int(cells["New matches"]) >= 1


def test_the_page_in_indonesian(site):
    app, world, registry = site
    add_watch(registry, world.alpha, interval_minutes=24 * 60)
    add_watch(registry, world.alpha, "https://copier.example/feed", kind="feed", interval_minutes=6 * 60)
    html = logged_in(app).get("/watches", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "<h1>Pemantauan</h1>" in html and "Pantau situs atau feed" in html
    assert "setiap hari, paling banyak 50 halaman" in html and "setiap 6 jam" in html
    assert "perayapan situs" in html and "feed atau peta situs" in html and ">aktif</span>" in html


def re_cells(row_html: str):
    import re

    return re.findall(r'<td data-label="([^"]+)">([^<]*)</td>', row_html)


def test_viewers_see_but_do_not_change(site):
    app, world, registry = site
    watch_id = add_watch(registry, world.alpha)
    client = logged_in(app, "viewer@alpha.example")
    html = client.get("/watches").get_data(as_text=True)
    assert "https://copier.example/" in html
    assert 'id="add-watch"' not in html and "/pause" not in html and "/remove" not in html
    before = watch_rows(registry)
    assert client.post("/watches", data=FORM).status_code == 403
    for action in ("pause", "resume", "remove"):
        assert client.post(f"/watches/{watch_id}/{action}", data={"confirm": "yes"}).status_code == 403
    assert client.get(f"/watches/{watch_id}/remove").status_code == 403
    assert watch_rows(registry) == before


@pytest.mark.parametrize("whose", ["beta", "nonexistent", "huge"])
def test_another_organisation_s_watch_is_not_found(site, whose):
    app, world, registry = site
    beta_watch = add_watch(registry, world.beta, "https://beta-only.example/")
    watch_id = {"beta": beta_watch, "nonexistent": beta_watch + 1000, "huge": 2**70}[whose]
    client = logged_in(app)
    assert "beta-only.example" not in client.get("/watches").get_data(as_text=True)
    before = watch_rows(registry)
    for action in ("pause", "resume", "remove"):
        assert client.post(f"/watches/{watch_id}/{action}", data={"confirm": "yes"}).status_code == 404
    assert client.get(f"/watches/{watch_id}/remove").status_code == 404
    assert watch_rows(registry) == before


def test_forms_need_their_csrf_token(request, tmp_path):
    app = make_app_with_world(request, tmp_path, populated=True, WTF_CSRF_ENABLED=True)
    try:
        world = app.config["WORLD"]
        registry = app.extensions["checker.registry"]
        watch_id = add_watch(registry, world.alpha)
        client = app.test_client()
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        client.post(
            "/login", data={"email": "editor@alpha.example", "password": PASSWORD, "csrf_token": token}
        )
        assert client.post(f"/watches/{watch_id}/pause").status_code == 400
        assert watch_row(registry, watch_id).active
        token = csrf_token_of(client.get("/watches").get_data(as_text=True))
        assert client.post(f"/watches/{watch_id}/pause", data={"csrf_token": token}).status_code == 303
        assert not watch_row(registry, watch_id).active
    finally:
        close_app(app)


def test_the_submit_form_watches_a_feed_and_points_to_the_monitoring_page(site):
    app, world, registry = site
    client = logged_in(app)
    assert 'name="watch_kind"' in client.get("/submit").get_data(as_text=True)
    response = client.post(
        "/submit",
        data={
            "kind": "watch",
            "site": "https://copier.example/rss",
            "watch_kind": "feed",
            "interval_hours": "3",
            "max_pages": "9",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/watches")
    html = client.get("/watches").get_data(as_text=True)
    assert "the Monitoring page shows when it runs and what it finds" in html
    assert [r[2:6] for r in watch_rows(registry) if r[1] == world.alpha] == [
        ("https://copier.example/rss", "feed", 180, 9)
    ]
    response = client.post(
        "/submit",
        data={
            "kind": "watch",
            "site": "https://copier.example/",
            "watch_kind": "nonsense",
            "interval_hours": "3",
        },
    )
    assert response.status_code == 422 and "a watch is of kind site or feed" in response.get_data(
        as_text=True
    )
    assert len(watch_rows(registry)) == 1


# -- discovery's box -----------------------------------------------------------------------------------------
def test_the_discovery_box_says_no_provider_is_configured(site):
    app, _, _ = site
    html = logged_in(app).get("/watches").get_data(as_text=True)
    box = html[html.index('id="discovery"') :].split("</section>")[0]
    assert (
        'SearXNG: <span class="muted">not configured' in box
        and 'Brave Search: <span class="muted">not configured' in box
    )
    assert "No search provider is configured: the operator sets CHECKER_SEARXNG_URL" in box


def test_the_discovery_box_shows_today_s_queries_against_the_budget(request, tmp_path):
    from checker.models import SearchQuery
    from checker.settings import Settings

    settings = Settings.from_env(
        {"CHECKER_SEARXNG_URL": "http://127.0.0.1:9/", "CHECKER_SEARCH_DAILY_BUDGET": "40"},
        data_dir=tmp_path / "data",
    )
    app = make_app_with_world(request, tmp_path, settings, populated=True)
    try:
        world = app.config["WORLD"]
        now = datetime.now(UTC)
        with app.extensions["checker.registry"].Session.begin() as session:
            for n, when in enumerate((now, now, now - timedelta(days=2))):  # the old one is not today's
                session.add(
                    SearchQuery(
                        org_id=world.beta,
                        provider="searxng",
                        phrase_key=f"{n:064d}",
                        phrase=f"phrase {n}",
                        status="done",
                        queried_at=when,
                    )
                )
        html = logged_in(app, "viewer@alpha.example").get("/watches").get_data(as_text=True)
        box = html[html.index('id="discovery"') :].split("</section>")[0]
        assert "SearXNG: 2 of 40 queries today" in box
        assert 'Brave Search: <span class="muted">not configured' in box
        assert "No search provider is configured" not in box
    finally:
        close_app(app)


# -- the API -------------------------------------------------------------------------------------------------
def test_the_api_lists_adds_pauses_resumes_and_deletes(site):
    app, world, registry = site
    client = app.test_client()
    editor, viewer = bearer(world.tokens["editor"]), bearer(world.tokens["viewer"])
    add_watch(registry, world.beta, "https://beta-only.example/")
    assert client.get("/api/watches", headers=viewer).get_json() == {"items": [], "total": 0}

    created = client.post(
        "/api/watches",
        headers=editor,
        json={"url": "https://copier.example/feed", "kind": "feed", "interval_minutes": 30, "max_pages": 10},
    )
    assert created.status_code == 201
    body = created.get_json()
    assert {
        k: body[k]
        for k in (
            "url",
            "kind",
            "interval_minutes",
            "max_pages",
            "active",
            "paused_reason",
            "last_run_at",
            "pages_seen",
            "new_matches",
            "failures",
            "last_error",
        )
    } == {
        "url": "https://copier.example/feed",
        "kind": "feed",
        "interval_minutes": 30,
        "max_pages": 10,
        "active": True,
        "paused_reason": None,
        "last_run_at": None,
        "pages_seen": 0,
        "new_matches": 0,
        "failures": 0,
        "last_error": None,
    }
    watch_id = body["id"]
    default = client.post("/api/watches", headers=editor, json={"url": "https://copier.example/"}).get_json()
    assert (default["kind"], default["interval_minutes"], default["max_pages"]) == ("site", 24 * 60, 50)

    listed = client.get("/api/watches", headers=viewer).get_json()
    assert listed["total"] == 2 and [w["id"] for w in listed["items"]] == [watch_id, default["id"]]
    assert client.get(f"/api/watches/{watch_id}", headers=viewer).get_json() == body

    paused = client.post(f"/api/watches/{watch_id}/pause", headers=editor)
    assert paused.status_code == 200
    assert paused.get_json()["active"] is False and paused.get_json()["next_run_at"] is None
    assert paused.get_json()["paused_reason"] == "paused through the API by editor@alpha.example"
    resumed = client.post(f"/api/watches/{watch_id}/resume", headers=editor).get_json()
    assert resumed["active"] is True and resumed["paused_reason"] is None and resumed["next_run_at"]

    assert client.delete(f"/api/watches/{watch_id}", headers=editor).status_code == 204
    assert client.get(f"/api/watches/{watch_id}", headers=editor).status_code == 404
    assert watch_row(registry, watch_id) is None


def test_the_api_keeps_viewers_and_other_organisations_out(site):
    app, world, registry = site
    client = app.test_client()
    viewer, beta = bearer(world.tokens["viewer"]), bearer(world.tokens["beta"])
    mine = add_watch(registry, world.alpha)
    before = watch_rows(registry)
    for method, path in (
        ("post", "/api/watches"),
        ("post", f"/api/watches/{mine}/pause"),
        ("post", f"/api/watches/{mine}/resume"),
        ("delete", f"/api/watches/{mine}"),
    ):
        response = getattr(client, method)(path, headers=viewer, json={"url": "https://x.example/"})
        assert response.status_code == 403 and "editor role" in response.get_json()["error"]
    for method, path in (
        ("get", f"/api/watches/{mine}"),
        ("post", f"/api/watches/{mine}/pause"),
        ("post", f"/api/watches/{mine}/resume"),
        ("delete", f"/api/watches/{mine}"),
        ("get", f"/api/watches/{mine + 1000}"),
        ("delete", f"/api/watches/{2**70}"),
    ):
        response = getattr(client, method)(path, headers=beta)
        assert response.status_code == 404 and response.get_json()["error"].startswith("no watch with id"), (
            path
        )
    assert client.get("/api/watches", headers=beta).get_json()["total"] == 0
    assert client.get("/api/watches").status_code == 401
    assert watch_rows(registry) == before


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({}, 422, "url must be"),
        ({"url": 5}, 422, "url must be"),
        ({"url": "javascript:alert(1)"}, 422, "is not an http:// or https:// URL"),
        ({"url": "https://x.example/", "kind": "rss"}, 422, "a watch is of kind site or feed"),
        ({"url": "https://x.example/", "kind": None}, 422, "kind must be"),
        ({"url": "https://x.example/", "interval_minutes": 4}, 422, "between 5 minutes and 90 days"),
        ({"url": "https://x.example/", "interval_minutes": 10**30}, 422, "between 5 minutes and 90 days"),
        (
            {"url": "https://x.example/", "interval_minutes": True},
            422,
            "interval_minutes must be a whole number",
        ),
        (
            {"url": "https://x.example/", "interval_minutes": "60"},
            422,
            "interval_minutes must be a whole number",
        ),
        (
            {"url": "https://x.example/", "interval_minutes": 60.5},
            422,
            "interval_minutes must be a whole number",
        ),
        ({"url": "https://x.example/", "max_pages": 0}, 422, "max pages must be between 1 and 500"),
        ({"url": "https://x.example/", "every": 5}, 422, "unknown field(s): every"),
        ([1, 2], 422, "must be a JSON object"),
        (b"{not json", 400, "must be a JSON object"),
    ],
)
def test_bad_api_input_is_a_json_error_and_stores_nothing(site, payload, status, message):
    app, world, registry = site
    client = app.test_client()
    before = watch_rows(registry)
    kwargs = (
        {"data": payload, "content_type": "application/json"}
        if isinstance(payload, bytes)
        else {"json": payload}
    )
    response = client.post("/api/watches", headers=bearer(world.tokens["editor"]), **kwargs)
    assert response.status_code == status and message in response.get_json()["error"]
    assert watch_rows(registry) == before


def test_the_api_document_describes_the_watch_endpoints_and_dispatch_s_limits():
    from web import openapi
    from worker import dispatch

    assert (openapi.MAX_CRAWL_PAGES, openapi.DEFAULT_CRAWL_PAGES) == (
        dispatch.MAX_CRAWL_PAGES,
        dispatch.DEFAULT_CRAWL_PAGES,
    )
    paths = openapi.spec()["paths"]
    assert set(paths["/api/watches"]) == {"get", "post"} and set(paths["/api/watches/{watch_id}"]) == {
        "get",
        "delete",
    }
    assert (
        "post" in paths["/api/watches/{watch_id}/pause"] and "post" in paths["/api/watches/{watch_id}/resume"]
    )
    fields = set(openapi.SCHEMAS["Watch"]["properties"])
    assert fields == set(monitoring.WatchSummary.__dataclass_fields__)
