"""Failures say why, in plain words, where the user looks: a failed scan's reason in the scans list and
on its page, a failed bulk upload's reason on its status page. Loopback only: the refused address below is
refused by the address guard before any connection is made."""

from __future__ import annotations

import io
import json
import re

import pytest

REFUSED = "http://169.254.169.254/latest/meta-data/"
WHY = "refused address 169.254.169.254: link-local"


@pytest.fixture
def editor(auth, world):
    auth.login("editor@alpha.example")
    return world


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_failed_scan_shows_its_reason_in_the_list_and_on_its_page(client, editor):
    response = client.post("/submit", data={"kind": "url", "url": REFUSED})
    assert response.status_code == 302
    scan_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="status failed"' in scan_page
    assert f"Why it failed: {WHY}" in text_of(scan_page)

    listing = client.get("/scans?status=failed").get_data(as_text=True)
    row = re.search(r'<tr data-scan-id="\d+" data-status="failed">.*?</tr>', listing, re.S).group(0)
    assert WHY in text_of(row)  # shown in the row itself, not only in a tooltip
    assert 'title="' not in row


def test_the_live_status_carries_the_reason(client, editor):
    scan_id = int(
        client.post("/submit", data={"kind": "url", "url": REFUSED}).headers["Location"].rsplit("/", 1)[1]
    )
    (scan,) = client.get(f"/scans/status.json?ids={scan_id}").get_json()["scans"]
    assert scan["status"] == "failed" and scan["error"] == WHY


def upload(client, data: bytes, name: str = "articles.jsonl"):
    response = client.post(
        "/articles/upload", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    return response.headers["Location"]


def test_an_upload_with_no_readable_line_fails_and_says_why(client, editor):
    location = upload(client, b"{not json\n" + json.dumps({"title": "no text"}).encode() + b"\n")
    html = client.get(location).get_data(as_text=True)
    assert "Why it failed: no line of the file could be read as an article (2 line(s) with errors" in text_of(
        html
    )
    progress = client.get(location + ".json").get_json()
    assert progress["status"] == "failed" and progress["reason"].startswith("no line of the file")


def test_an_upload_stopped_by_an_error_says_why(app, client, editor, monkeypatch):
    registry = app.extensions["checker.registry"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry, "register_many", broken)
    line = json.dumps(
        {
            "title": "One",
            "url": "https://alpha.example/one",
            "text": "Artikel tentang pelabuhan dan nelayan di pesisir utara. " * 5,
        }
    )
    location = upload(client, line.encode())
    html = client.get(location).get_data(as_text=True)
    assert (
        "Why it failed: the import stopped after 0 of 1 articles because of an internal error; "
        "upload the file again to resume"
    ) in text_of(html)
    assert client.get(location + ".json").get_json()["status"] == "failed"


def crawl_id_of(location: str) -> int:
    assert re.fullmatch(r"/crawls/\d+", location), location
    return int(location.rsplit("/", 1)[1])


def test_a_failed_crawl_says_why_on_its_page_and_in_the_list(client, editor):
    response = client.post("/submit", data={"kind": "crawl", "site": REFUSED})
    assert response.status_code == 302
    crawl_id = crawl_id_of(response.headers["Location"])  # the crawl's own page, not the scan list
    page = text_of(client.get(f"/crawls/{crawl_id}").get_data(as_text=True))
    assert "failed" in page and "Why it failed:" in page and "169.254.169.254" in page

    listing = client.get("/crawls").get_data(as_text=True)
    row = re.search(rf'<tr data-crawl-id="{crawl_id}">.*?</tr>', listing, re.S).group(0)
    assert 'class="status failed"' in row and "169.254.169.254" in text_of(row)


def test_another_organisations_crawl_is_not_found(app, client, editor, auth):
    response = client.post("/submit", data={"kind": "crawl", "site": REFUSED})
    crawl_id = crawl_id_of(response.headers["Location"])
    auth.logout()
    auth.login("editor@beta.example")
    assert client.get(f"/crawls/{crawl_id}").status_code == 404
    assert f'data-crawl-id="{crawl_id}"' not in client.get("/crawls").get_data(as_text=True)


def test_a_failed_alert_delivery_says_why(app, client, editor):
    from checker.models import AlertEvent

    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:
        for org, key in ((editor.alpha, "a"), (editor.beta, "b")):
            session.add(
                AlertEvent(
                    org_id=org,
                    dedupe_key=key,
                    kind="new_unattributed_reuse",
                    payload={
                        "match_id": editor.alpha_match,
                        "article": {"title": f"Story {key}"},
                        "suspect_url": "https://copier.example/x",
                    },
                    webhook_status="failed",
                    email_status="skipped",
                    attempts=7,
                    last_error=f"webhook https://hooks.example/{key} answered 503",
                )
            )
    html = client.get("/alerts").get_data(as_text=True)
    (row,) = re.findall(r'<tr data-alert-id="\d+">.*?</tr>', html, re.S)  # Beta's alert is not listed
    assert "hooks.example/a answered 503" in text_of(row) and "Story a" in row
    assert f'href="/matches/{editor.alpha_match}"' in row
