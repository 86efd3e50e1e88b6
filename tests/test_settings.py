"""Settings: one reader of the environment (checker/settings.py) with one parser per kind, and the
README's configuration table naming exactly the variables the code reads."""

from __future__ import annotations

import re

import pytest

from checker.settings import (
    AlertSettings,
    Settings,
    SettingsError,
    WebSettings,
    WorkerSettings,
    flag,
    number,
)
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("False", False),
     ("no", False), ("OFF", False), ("", None), (None, None)],
)  # fmt: skip
def test_one_flag_parser_for_every_flag(raw, expected) -> None:
    env = {} if raw is None else {"X": raw}
    for default in (True, False):
        assert flag(env, "X", default) is (default if expected is None else expected)
    # Every flag of the product goes through it: the alerts' STARTTLS accepts "on" like the rest.
    assert AlertSettings.from_env({"CHECKER_SMTP_STARTTLS": "on"}).smtp_starttls
    assert Settings.from_env({"CHECKER_AUTO_MIGRATE": "off"}).auto_migrate is False
    assert WebSettings.from_env({"CHECKER_METRICS": "no"}).metrics is False


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"CHECKER_ALLOW_PRIVATE_URLS": "maybe"}, "CHECKER_ALLOW_PRIVATE_URLS"),
        ({"CHECKER_SMTP_STARTTLS": "starttls"}, "CHECKER_SMTP_STARTTLS"),
        ({"CHECKER_MAX_TEXT_CHARS": "2M"}, "CHECKER_MAX_TEXT_CHARS"),
        ({"CHECKER_SMTP_PORT": "70000"}, "CHECKER_SMTP_PORT"),
        ({"CHECKER_PER_ORG_INFLIGHT": "0"}, "CHECKER_PER_ORG_INFLIGHT"),
        ({"CHECKER_WORKER_METRICS_PORT": "http"}, "CHECKER_WORKER_METRICS_PORT"),
        ({"CHECKER_SCHEDULER_TICK_S": "-5"}, "CHECKER_SCHEDULER_TICK_S"),
        ({"CHECKER_LOG_FORMAT": "yaml"}, "CHECKER_LOG_FORMAT"),
        ({"CHECKER_METRICS": "2"}, "CHECKER_METRICS"),
    ],
)
def test_a_value_that_cannot_be_meant_is_refused_by_name(env, name, tmp_path) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env, data_dir=tmp_path)


def test_numbers_keep_their_defaults_and_bounds() -> None:
    assert number({}, "N", 7) == 7 and number({"N": " 12 "}, "N", 7) == 12
    with pytest.raises(SettingsError, match="N must be a whole number from 1 to 9, not '10'"):
        number({"N": "10"}, "N", 7, minimum=1, maximum=9)


def test_the_groups_come_with_the_settings(tmp_path) -> None:
    env = {
        "CHECKER_BASE_URL": "https://checker.example.org/",
        "CHECKER_ALERT_TO": "desk@example.org, , editor@example.org",
        "CHECKER_PER_ORG_INFLIGHT": "3",
        "CHECKER_SCAN_SOFT_TIME_LIMIT": "60",
        "CHECKER_SCAN_TIME_LIMIT": "50",
        "CHECKER_SESSION_COOKIE_SECURE": "0",
        "CHECKER_PAGE_SIZE": "20",
    }
    settings = Settings.from_env(env, data_dir=tmp_path)
    assert settings.alerts.base_url == "https://checker.example.org"
    assert settings.alerts.mail_to == ("desk@example.org", "editor@example.org")
    assert settings.worker.per_org_inflight == 3
    assert settings.worker.scan_time_limits == (60, 90)  # a hard limit under the soft one is raised
    assert WorkerSettings.from_env({"CHECKER_SCAN_SOFT_TIME_LIMIT": "0"}).scan_time_limits == (None, 330)
    assert settings.web.flask_config() == {
        "BASE_URL": "https://checker.example.org/",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "PAGE_SIZE": 20,
    }
    assert Settings.from_env({}, data_dir=tmp_path).web.flask_config() == {}  # nothing set, nothing given


def names(text: str) -> set[str]:
    return set(re.findall(r"\bCHECKER_[A-Z0-9_]*[A-Z0-9]\b", text))


def test_the_readme_table_and_the_code_name_the_same_variables() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ")]
    documented = names(table)
    read = names((ROOT / "checker" / "settings.py").read_text("utf-8"))
    cli = {"CHECKER_ORG", "CHECKER_DEBUG"}  # the CLI's --org option and its traceback switch
    assert documented == read | cli, (
        f"undocumented: {sorted(read | cli - documented)}; documented, not read: {sorted(documented - read - cli)}"
    )


def test_no_other_module_parses_a_setting_from_the_environment() -> None:
    """Outside checker/settings.py a CHECKER_ variable is read only through its parsers."""
    offenders = []
    for folder in ("checker", "worker", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() == "checker/settings.py":
                continue
            for at, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                reads = re.search(r"os\.environ|getenv\(", line) and re.search(r"[\"']CHECKER_", line)
                if reads and not re.search(r"\b(flag|number|text|seconds)\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{at}: {line.strip()}")
    assert offenders == []
