"""compose.yaml cannot be run here (no Docker engine), so check it against the code: every service's
command names a real entry point, images are pinned, and every environment variable is one the code
reads, with the required ones present."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("worker", "crawler", "beat", "web")


def variables_read_by_code() -> set[str]:
    names = set()
    for package in ("checker", "worker", "web"):
        for path in (ROOT / package).rglob("*.py"):
            names |= set(re.findall(r"\bCHECKER_[A-Z0-9_]+\b", path.read_text("utf-8")))
    return names


def test_expected_services() -> None:
    assert set(SERVICES) >= {"redis", "postgres", "worker", "crawler", "beat", "web"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_this_project_and_get_settings(name) -> None:
    service = SERVICES[name]
    assert service["build"] == "." and (ROOT / "Dockerfile").exists()
    env = service["environment"]
    known = variables_read_by_code()
    for key in env:
        assert key in known, f"{name}: {key} is not read anywhere in checker/, worker/ or web/"
    assert env["CHECKER_BROKER_URL"].startswith("redis://redis:")
    assert env["CHECKER_INDEX_URL"].startswith("redis://redis:")
    assert env["CHECKER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:" in env["CHECKER_DATABASE_URL"]
    for dependency in service["depends_on"]:
        assert dependency in SERVICES


def test_settings_parse_the_compose_environment() -> None:
    from checker.settings import Settings

    env = {k: v for k, v in SERVICES["worker"]["environment"].items() if not str(v).startswith("${")}
    settings = Settings.from_env(env)
    assert settings.broker_url == "redis://redis:6379/0"
    assert settings.index_config == {
        "type": "redis",
        "url": "redis://redis:6379/1",
        "prefix": "checker:index",
    }
    assert settings.database_url.startswith("postgresql+psycopg://checker:checker@postgres")


@pytest.mark.parametrize("name,subcommand", [("worker", "worker"), ("crawler", "worker"), ("beat", "beat")])
def test_celery_commands_name_the_real_app(name, subcommand) -> None:
    command = SERVICES[name]["command"]
    assert command[:4] == ["celery", "-A", "worker.app", subcommand]
    module = importlib.import_module("worker.app")
    from celery import Celery

    assert isinstance(module.celery_app, Celery)
    module.celery_app.loader.import_default_modules()  # what `celery worker` does at start: `include`
    if subcommand == "worker":
        from worker.celery_app import CRAWL_QUEUE, QUEUE

        # scans on the workers, crawls (routed to their own queue) on the crawlers
        queue = CRAWL_QUEUE if name == "crawler" else QUEUE
        assert command[command.index("-Q") + 1] == queue
        assert "worker.tasks.scan" in module.celery_app.tasks
        route = module.celery_app.amqp.router.route({}, "worker.tasks.crawl")
        assert route["queue"].name == CRAWL_QUEUE
        assert module.celery_app.amqp.router.route({}, "worker.tasks.scan")["queue"].name == QUEUE
    else:
        schedule = module.celery_app.conf.beat_schedule
        assert {entry["task"] for entry in schedule.values()} <= set(module.celery_app.tasks)


def test_web_command_names_the_wsgi_app() -> None:
    command = SERVICES["web"]["command"]
    assert command[0] == "gunicorn"
    module_name, attr = command[-1].split(":")
    assert (ROOT / (module_name.replace(".", "/") + ".py")).exists()
    source = (ROOT / (module_name.replace(".", "/") + ".py")).read_text()
    assert re.search(rf"^{attr}\s*=", source, re.MULTILINE), f"{command[-1]} does not define {attr}"
    assert SERVICES["web"]["environment"]["CHECKER_SECRET_KEY"].startswith("${CHECKER_SECRET_KEY:?")
    assert "8000:8000" in SERVICES["web"]["ports"]


def test_images_are_pinned_and_redis_persists() -> None:
    for name in ("redis", "postgres"):
        image = SERVICES[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image
    redis_cmd = SERVICES["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    postgres_env = SERVICES["postgres"]["environment"]
    url = SERVICES["worker"]["environment"]["CHECKER_DATABASE_URL"]
    assert f"{postgres_env['POSTGRES_USER']}:{postgres_env['POSTGRES_PASSWORD']}@" in url
    assert url.endswith("/" + postgres_env["POSTGRES_DB"])


def test_dockerfile_installs_what_the_commands_run() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "python:3.11" in dockerfile
    for package in ("checker", "worker", "web", "seeds"):
        assert f"COPY {package} {package}" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "gunicorn" in pyproject and "celery" in pyproject and "psycopg" in pyproject
    # The image installs the pinned versions, then the project without resolving again.
    assert "RUN pip install --no-cache-dir -r requirements/run.lock" in dockerfile
    assert "--no-deps" in dockerfile
    lock = (ROOT / "requirements" / "run.lock").read_text()
    assert all(f"\n{name}==" in lock for name in ("gunicorn", "celery", "psycopg", "alembic"))


def test_the_web_healthcheck_asks_a_real_readiness_route(tmp_path) -> None:
    from tests.web.conftest import close_app, make_app

    check = " ".join(SERVICES["web"]["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", check)
    assert url and url.group(1) == SERVICES["web"]["command"][2].rsplit(":", 1)[1]  # gunicorn's port
    app = make_app(tmp_path)
    try:
        assert app.test_client().get(url.group(2)).status_code == 200
    finally:
        close_app(app)
