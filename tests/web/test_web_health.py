"""/healthz and /readyz (issue 12): public JSON for load balancers; readiness names a failing
database, index or broker with a 503, without leaking how it failed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import create_engine

from tests.web.conftest import close_app, make_app


@pytest.fixture
def app(storage_app):
    return storage_app


def test_live_and_ready_without_login(app):
    client = app.test_client()
    live = client.get("/healthz")
    assert live.status_code == 200 and live.get_json() == {"status": "ok"}
    assert live.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "index": "ok", "broker": "none: tasks run in this process"},
    }


def test_a_database_that_stopped_answering_is_not_ready(tmp_path):
    app = make_app(tmp_path)
    try:
        registry = app.extensions["checker.registry"]
        registry.engine.dispose()
        # The database stops answering: its file's folder is gone (a plain file where it was).
        (tmp_path / "not-a-folder").write_text("")
        registry.engine = create_engine(f"sqlite:///{tmp_path / 'not-a-folder' / 'checker.db'}")
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 503
        body = answer.get_json()
        assert body["status"] == "not ready" and body["checks"]["database"] == "failing"
        assert "not-a-folder" not in answer.get_data(as_text=True)  # named, not explained
        assert app.test_client().get("/healthz").status_code == 200  # alive all the same
    finally:
        close_app(app)


def test_an_unreachable_broker_is_not_ready(tmp_path):
    import socket

    with socket.socket() as s:  # a loopback port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(tmp_path)
    try:
        registry = app.extensions["checker.registry"]  # the broker's Redis goes away after the start
        registry.settings = replace(registry.settings, broker_url=f"redis://127.0.0.1:{port}/0")
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 503
        assert answer.get_json()["checks"] == {"database": "ok", "index": "ok", "broker": "failing"}
    finally:
        close_app(app)
