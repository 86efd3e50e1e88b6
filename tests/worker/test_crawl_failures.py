"""A crawl that cannot start says why: it ends ``failed`` with a plain reason, and ``checker crawl``
exits non-zero with that reason on one line. Loopback only: a refused address is decided by the address
guard before any connection (a literal link-local or loopback IP is refused by ``check_url``)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.models import Crawl
from checker.registry import Registry
from checker.settings import Settings
from worker import context, dispatch


def make_registry(tmp_path, **env) -> Registry:
    registry = Registry(Settings.from_env(env, data_dir=tmp_path / "data"))
    context.use(registry)
    return registry


@pytest.fixture
def registry(tmp_path):
    registry = make_registry(tmp_path)
    yield registry
    context.use(None)
    registry.close()


@pytest.fixture
def private_registry(tmp_path):
    registry = make_registry(tmp_path, CHECKER_ALLOW_PRIVATE_URLS="1")
    yield registry
    context.use(None)
    registry.close()


def crawl_row(registry, crawl_id: int) -> Crawl:
    with registry.Session() as session:
        return session.get(Crawl, crawl_id)


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://169.254.169.254/", "refused address 169.254.169.254: link-local"),
        ("http://127.0.0.1:9/", "refused address 127.0.0.1: loopback"),
    ],
)
def test_a_crawl_of_a_refused_address_fails_with_its_reason(registry, url, why):
    crawl = crawl_row(registry, dispatch.submit_crawl(registry, url, max_pages=5))
    assert crawl.status == "failed" and crawl.pages_found == 0
    assert crawl.error == f"the site could not be reached: {why}"


def test_a_crawl_whose_start_page_is_missing_fails_with_its_reason(private_registry, site):
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    crawl = crawl_row(
        private_registry, dispatch.submit_crawl(private_registry, site.url("/gone/"), max_pages=5)
    )
    assert crawl.status == "failed"
    assert crawl.error.startswith("the start page could not be fetched:") and "404" in crawl.error


def test_a_crawl_disallowed_by_robots_says_so(private_registry, site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    crawl = crawl_row(private_registry, dispatch.submit_crawl(private_registry, site.url("/"), max_pages=5))
    assert crawl.status == "failed" and "robots.txt does not allow" in crawl.error


def test_checker_crawl_of_a_refused_address_exits_non_zero_with_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("CHECKER_ALLOW_PRIVATE_URLS", raising=False)
    monkeypatch.delenv("CHECKER_BROKER_URL", raising=False)
    try:
        result = CliRunner().invoke(
            cli, ["--data-dir", str(tmp_path / "data"), "crawl", "http://169.254.169.254/"]
        )
    finally:
        context.use(None)
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines == [
        "error: crawl 1 of http://169.254.169.254/ failed: the site could not be reached: "
        "refused address 169.254.169.254: link-local"
    ]


def test_crawls_and_watches_from_the_cli_belong_to_its_organisation(tmp_path, monkeypatch):
    """`checker crawl` and `checker watch` work inside the CLI's organisation (--org), like register
    and scan: the dashboard of that organisation sees them, another organisation's CLI does not."""
    from checker.models import Organisation, Watch

    monkeypatch.delenv("CHECKER_ALLOW_PRIVATE_URLS", raising=False)
    monkeypatch.delenv("CHECKER_BROKER_URL", raising=False)
    base = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    try:
        runner.invoke(cli, [*base, "--org", "Alpha", "crawl", "http://169.254.169.254/"])
        added = runner.invoke(cli, [*base, "--org", "Alpha", "watch", "add", "https://copier.example/"])
        assert added.exit_code == 0, added.output
        mine = runner.invoke(cli, [*base, "--org", "Alpha", "watch", "list"])
        theirs = runner.invoke(cli, [*base, "--org", "Beta", "watch", "list"])
        removed = runner.invoke(cli, [*base, "--org", "Beta", "watch", "remove", added.output.strip()])
    finally:
        context.use(None)
    assert "copier.example" in mine.output and "copier.example" not in theirs.output
    assert removed.exit_code != 0
    registry = make_registry(tmp_path)
    try:
        with registry.Session() as session:
            alpha = session.query(Organisation).filter_by(name="Alpha").one().id
            assert [w.org_id for w in session.query(Watch)] == [alpha]
            assert [c.org_id for c in session.query(Crawl)] == [alpha]
    finally:
        context.use(None)
        registry.close()
