"""Shared fixtures: settings on a temporary data folder, registries on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from checker.registry import Registry
from checker.settings import Settings
from web import accounts

# Every test account's password is hashed with scrypt at N=2**10 instead of the product's 2**15, 32 times
# cheaper (hashing was 45% of the web tests' time): the same code path, with the cost in the hash. The
# product's own setting is kept here, and test_web_auth checks it is still werkzeug's full cost.
PRODUCT_PASSWORD_HASH_METHOD = accounts.PASSWORD_HASH_METHOD
accounts.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_CORPORA = ROOT.parent / "shared" / "corpora"
REAL_PAGES = SHARED_CORPORA / "real-pages"
PAN13_DEV = SHARED_CORPORA / "pan13-dev"


def shared_corpus(path: Path, marker: str) -> Path:
    """``path`` (a corpus in ../shared beside the clone) when ``path / marker`` exists. In CI the
    corpora are always there, so a missing one fails; in a clone without them the test is skipped,
    saying why."""
    if (path / marker).exists():
        return path
    reason = f"corpus missing: {path / marker} (../shared beside the project clone)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason)
    pytest.skip(reason)


# The Redis database the tests use (15 keeps them away from the broker's database 0); override with
# CHECKER_TEST_REDIS_URL.
REDIS_URL = os.environ.get("CHECKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_connection(url: str = REDIS_URL):
    """A connection to the test Redis, failing the test (with the URL) when the server is not there."""
    import redis

    conn = redis.Redis.from_url(url)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError as exc:  # pragma: no cover - CI always has the server
        pytest.fail(f"Redis is not reachable at {url}: {exc}")
    return conn


@pytest.fixture(scope="session")
def cli_zygote():
    """The CLI fork server (tests/cli_zygote.py) of this test process, started on first use."""
    from tests.cli_zygote import Zygote
    from tests.test_cli import CLI_ENV

    zygote = Zygote({**os.environ, **CLI_ENV})
    yield zygote
    zygote.close()


@pytest.fixture
def redis_client():
    conn = redis_connection()
    yield conn
    conn.close()


@pytest.fixture
def redis_prefix(redis_client):
    """A fresh key prefix for a Redis index; every key under it is deleted afterwards."""
    from tests.indexes import prefix_keys

    name = f"test-index-{uuid.uuid4().hex}"
    yield name
    leftovers = list(prefix_keys(redis_client, name))
    for i in range(0, len(leftovers), 1_000):
        redis_client.unlink(*leftovers[i : i + 1_000])


@pytest.fixture
def make_redis(redis_prefix):
    """``make_redis(scheme=...)``: a RedisIndex on the test prefix, another each call, as another process
    would open; all closed afterwards."""
    from checker.fingerprint import DEFAULT_SCHEME
    from checker.index_redis import RedisIndex

    opened: list[RedisIndex] = []

    def make(scheme=DEFAULT_SCHEME) -> RedisIndex:
        idx = RedisIndex(scheme, url=REDIS_URL, prefix=redis_prefix)
        opened.append(idx)
        return idx

    yield make
    for idx in opened:
        idx.close()


# The PostgreSQL server CI starts (trust auth, database "test"); override with CHECKER_TEST_PG_URL.
PG_URL = os.environ.get("CHECKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_articles() -> list[dict]:
    return read_jsonl(SEEDS / "articles.jsonl")


@pytest.fixture(scope="session")
def seed_suspects() -> dict[str, dict]:
    return {s["id"]: s for s in read_jsonl(SEEDS / "suspects.jsonl")}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, data_dir=tmp_path / "data")


@pytest.fixture
def pg_schema_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:  # pragma: no cover - CI always has the server
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_settings(request, tmp_path: Path) -> Settings:
    """Settings on SQLite, then on the real PostgreSQL server."""
    if request.param == "sqlite":
        return Settings.from_env({}, data_dir=tmp_path / "data")
    url = request.getfixturevalue("pg_schema_url")
    return Settings.from_env({}, data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def registry(settings: Settings):
    reg = Registry(settings)
    yield reg
    reg.close()


@pytest.fixture
def seeded(registry: Registry):
    """A registry holding the seed articles."""
    from checker.demo import register_demo_articles

    register_demo_articles(registry, SEEDS)
    return registry


@pytest.fixture(autouse=True)
def _celery_default_app():
    """A web app's factory makes its Celery app the process's default (celery_init_app), as one
    dashboard process does once; a test's app must not outlive the test. Afterwards the default is
    again the environment's (worker.app), as before any app was made."""
    yield
    import sys

    env_app = sys.modules.get("worker.app")
    if env_app is not None:
        env_app.celery_app.set_default()
