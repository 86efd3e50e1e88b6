"""`checker users`, `checker tokens` and the demo set-up behind `checker serve --demo`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import SEEDS


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False)

    return invoke


def test_users_create_list_disable(run):
    created = run(
        "users",
        "create",
        "--email",
        "Ed@Alpha.example",
        "--password",
        "long enough",
        "--role",
        "editor",
        "--org",
        "Alpha",
    )
    assert created.exit_code == 0 and created.stdout.strip().isdigit()
    listed = run("users", "list")
    assert "ed@alpha.example" in listed.stdout and "editor" in listed.stdout and "active" in listed.stdout
    assert run("users", "disable", "--email", "ed@alpha.example").exit_code == 0
    assert "disabled" in run("users", "list").stdout


@pytest.mark.parametrize(
    "args", [["--password", "short", "--role", "viewer"], ["--password", "long enough", "--role", "root"]]
)
def test_users_create_rejects_bad_input(run, args):
    result = CliRunner().invoke(cli, ["users", "create", "--email", "a@b.example", *args, "--org", "O"])
    assert result.exit_code != 0


def test_tokens_create_prints_the_token_last_and_revoke(run, tmp_path):
    run(
        "users",
        "create",
        "--email",
        "ed@alpha.example",
        "--password",
        "long enough",
        "--role",
        "editor",
        "--org",
        "Alpha",
    )
    created = run("tokens", "create", "--email", "ed@alpha.example", "--name", "ci")
    assert created.exit_code == 0
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("chk_") and len(token) > 40
    listed = run("tokens", "list").stdout
    assert token[:12] in listed and token not in listed
    assert run("tokens", "revoke", token).exit_code == 0
    assert "revoked" in run("tokens", "list").stdout


def test_setup_demo_is_idempotent(tmp_path):
    from web.cli import setup_demo

    settings = Settings.from_env({}, data_dir=tmp_path / "data")
    with Registry(settings) as registry:
        email, password = setup_demo(registry, SEEDS)
        again = setup_demo(registry, SEEDS)
        assert again == (email, password)
        from checker.models import Article, Scan, User

        with registry.Session() as session:
            assert session.query(User).count() == 1
            articles = session.query(Article).all()
            assert len(articles) == 3 and {a.org_id for a in articles} == {session.query(User).one().org_id}
            assert session.query(Scan).count() == 13
    from web import accounts

    with Registry(settings) as registry, registry.Session() as session:
        user = accounts.authenticate(session, email, password)
        assert user.role == "admin"
