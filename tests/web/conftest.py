"""Fixtures for the dashboard and API tests: an app on a temporary data folder, two organisations
with accounts of every role, the seed articles and scans of seed suspects, and API tokens.

Network rule: nothing here leaves the process (URL submissions are captured, never fetched)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.demo import demo_suspects, register_demo_articles
from checker.records import ArticleIn
from checker.settings import Settings
from web import accounts, create_app

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PASSWORD = "correct horse battery"


@dataclass
class World:
    """Ids of what the fixtures created, per organisation."""

    alpha: int
    beta: int
    alpha_article: int
    alpha_scan: int
    alpha_match: int
    beta_article: int
    beta_scan: int
    beta_match: int
    tokens: dict[str, str]


def make_app(tmp_path: Path, **config):
    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    return create_app(
        {
            "TESTING": True,
            "SETTINGS": settings,
            "SECRET_KEY": "test-only-key",
            "BACKGROUND_TASKS": False,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            **config,
        }
    )


def close_app(app) -> None:
    from worker import context, dispatch

    dispatch.run_in_background(False)
    app.extensions["checker.registry"].close()
    context.use(None)


def populate(app) -> World:
    """Two organisations; Alpha holds the seed articles and a scan of the full copy, Beta its own."""
    registry = app.extensions["checker.registry"]
    suspects = {s["id"]: s for s in demo_suspects(SEEDS)}
    tokens = {}
    with registry.Session.begin() as session:
        alpha = accounts.get_or_create_org(session, "Alpha News").id
        beta = accounts.get_or_create_org(session, "Beta Daily").id
        for role in accounts.ROLES:
            user = accounts.create_user(
                session, email=f"{role}@alpha.example", password=PASSWORD, role=role, org_id=alpha
            )
            tokens[role] = accounts.create_token(session, user)[1]
        user = accounts.create_user(
            session, email="editor@beta.example", password=PASSWORD, role="editor", org_id=beta
        )
        tokens["beta"] = accounts.create_token(session, user)[1]
    alpha_ids = register_demo_articles(registry, SEEDS, org_id=alpha)
    full = suspects["full-copy"]
    alpha_scan = registry.record_scan(
        full["text"], full["url"], registry.scan(full["text"], full["url"], org_id=alpha), org_id=alpha
    )
    beta_article = registry.register(
        ArticleIn(title="Beta original", text=full["text"], url="https://beta.example/a"), org_id=beta
    )
    beta_scan = registry.record_scan(
        full["text"],
        "https://copier.example/x",
        registry.scan(full["text"], "https://copier.example/x", org_id=beta),
        org_id=beta,
    )
    from checker.models import MatchRow

    with registry.Session() as session:
        alpha_match = session.query(MatchRow).filter_by(scan_id=alpha_scan).first().id
        beta_match = session.query(MatchRow).filter_by(scan_id=beta_scan).first().id
    return World(
        alpha, beta, alpha_ids[0], alpha_scan, alpha_match, beta_article, beta_scan, beta_match, tokens
    )


@pytest.fixture(scope="session")
def world_template(tmp_path_factory) -> tuple[Path, World]:
    """The fixtures' world, built once per session on SQLite: its closed data folder and its ids.
    Tests get a copy of the folder (a few milliseconds) instead of building it again (half a second)."""
    root = tmp_path_factory.mktemp("world-template")
    app = make_app(root)
    world = populate(app)
    close_app(app)
    return root / "data", world


def copy_world(template: tuple[Path, World], data_dir: Path) -> World:
    """A copy of the session's world in ``data_dir``, an app's data folder (SQLite file and index)."""
    shutil.copytree(template[0], data_dir)
    return template[1]


@pytest.fixture
def app(request, tmp_path):
    """An app on ``tmp_path``; holding the fixtures' world (a copy) when the test also asks for ``world``."""
    app = make_app_with_world(request, tmp_path)
    yield app
    close_app(app)


def make_app_with_world(
    request, tmp_path: Path, settings: Settings | None = None, *, populated: bool | None = None, **config
):
    """:func:`make_app` holding the fixtures' world (``app.config["WORLD"]``) when ``populated`` (by
    default: when the test asks for the ``world`` fixture). On SQLite the world is a copy of the
    session's; on another database it is built by :func:`populate`."""
    assert "SETTINGS" not in config, "pass the settings as the third argument"
    if populated is None:
        populated = "world" in request.fixturenames
    world = None
    data_dir = settings.data_dir if settings else tmp_path / "data"  # make_app's default
    if populated and (settings is None or settings.database_url == f"sqlite:///{data_dir / 'checker.db'}"):
        world = copy_world(request.getfixturevalue("world_template"), data_dir)
    app = make_app(tmp_path, **({"SETTINGS": settings} if settings else {}), **config)
    if populated and world is None:
        world = populate(app)
    app.config["WORLD"] = world
    return app


@pytest.fixture
def storage_app(request, tmp_path, storage_settings):
    """An app with the fixtures' world (``app.config["WORLD"]``), on SQLite, then on a fresh PostgreSQL
    schema (tests/conftest.py's ``storage_settings``)."""
    app = make_app_with_world(request, tmp_path, storage_settings, populated=True)
    yield app
    close_app(app)


@pytest.fixture
def world(app) -> World:
    """The fixtures' world in ``app``: the copy the ``app`` fixture made, or (a module's own ``app``
    fixture) built here."""
    return app.config.get("WORLD") or populate(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client) -> None:
        self._client = client

    def login(self, who: str = "editor@alpha.example", password: str = PASSWORD, csrf: str | None = None):
        data = {"email": who, "password": password}
        if csrf is not None:
            data["csrf_token"] = csrf
        return self._client.post("/login", data=data)

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


def csrf_token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@pytest.fixture
def sent(monkeypatch) -> list:
    """Capture tasks instead of running them (URL scans would fetch the network)."""
    from worker import dispatch

    calls: list = []
    monkeypatch.setattr(dispatch, "send", lambda task, *args: calls.append((task.name, args)))
    return calls
