"""Errors have one family (checker.errors.CheckerError) and the web layer answers them in one place
(web/errors.py): the API as JSON with the refusal's status, pages with the error page, never a 500."""

from __future__ import annotations

import threading

import pytest

from checker.errors import CheckerError, InputError, NotFound
from checker.index import SchemeMismatch
from checker.migrate import SchemaError
from tests.web.conftest import close_app, make_app
from web.accounts import LoginRefused, WrongPassword
from web.errors import ApiError, status_of
from web.evidence import PdfUnavailable
from worker.alerts import AlertDeliveryError
from worker.discovery import NoProvider
from worker.fetch import BodyTooLarge, FetchError, TransientFetchError
from worker.search import RateLimited, SearchError
from worker.urlguard import HostUnresolvable, UrlRefused

REFUSALS = (
    InputError,
    NotFound,
    SchemeMismatch,
    SchemaError,
    UrlRefused,
    HostUnresolvable,
    FetchError,
    TransientFetchError,
    BodyTooLarge,
    SearchError,
    RateLimited,
    NoProvider,
    AlertDeliveryError,
    LoginRefused,
    WrongPassword,
    ApiError,
    PdfUnavailable,
)


@pytest.mark.parametrize("kind", REFUSALS)
def test_every_refusal_is_a_checker_error(kind) -> None:
    # One family: a task or a view that catches CheckerError catches every refusal the product makes.
    assert issubclass(kind, CheckerError)


def test_a_refused_url_is_still_a_value_error() -> None:
    assert issubclass(UrlRefused, ValueError)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (InputError("bad"), 422),
        (WrongPassword("wrong"), 422),
        (NotFound("no such match"), 404),
        (UrlRefused("a private address"), 422),
        (LoginRefused("refused"), 401),
        (FetchError("gone", status=404), 502),  # the remote page's status is not ours
        (ApiError(409, "conflict"), 409),
        (SchemeMismatch("rebuild the index"), 503),
        (PdfUnavailable("no Pango"), 503),
    ],
)
def test_each_refusal_has_its_status(exc, status) -> None:
    assert status_of(exc) == status


@pytest.fixture
def failing_app(tmp_path):
    app = make_app(tmp_path)
    raised = {"fetch": FetchError("the site answered 500"), "scheme": SchemeMismatch("rebuild the index")}
    for name, exc in raised.items():

        def view(exc=exc):
            raise exc

        app.add_url_rule(f"/boom/{name}", f"boom_{name}", view)
        app.add_url_rule(f"/api/boom/{name}", f"api_boom_{name}", view)
    yield app
    close_app(app)


@pytest.mark.parametrize(("name", "status"), [("fetch", 502), ("scheme", 503)])
def test_an_uncaught_refusal_is_answered_with_its_sentence(failing_app, name, status) -> None:
    client = failing_app.test_client()
    page = client.get(f"/boom/{name}")
    assert page.status_code == status and page.mimetype == "text/html"
    message = "the site answered 500" if name == "fetch" else "rebuild the index"
    assert message in page.get_data(as_text=True)
    api = client.get(f"/api/boom/{name}")
    assert api.status_code == status and api.get_json() == {"error": message}


def test_the_factory_makes_the_celery_app_from_the_apps_settings(tmp_path) -> None:
    # Flask's Celery pattern (worker.celery_app.celery_init_app): the app's own settings decide where
    # its tasks go, for every thread of the process, not the environment read at import time.
    from dataclasses import replace

    from celery import current_app

    from checker.settings import Settings

    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    embedded = make_app(tmp_path / "a", SETTINGS=settings)
    brokered = make_app(tmp_path / "b", SETTINGS=replace(settings, broker_url="redis://127.0.0.1:6379/15"))
    try:
        assert embedded.extensions["celery"].conf.task_always_eager is True
        celery = brokered.extensions["celery"]
        assert celery.conf.broker_url == "redis://127.0.0.1:6379/15" and not celery.conf.task_always_eager
        assert celery.conf.checker_settings is brokered.config["SETTINGS"]
        seen = []
        thread = threading.Thread(target=lambda: seen.append(current_app._get_current_object()))
        thread.start()
        thread.join()
        assert seen == [celery]  # the newest app's Celery is every thread's default
    finally:
        close_app(brokered)
        close_app(embedded)
