"""Structured logs (issue 12, "Run it"): with CHECKER_LOG_FORMAT=json every line is one JSON object,
and a scan's lines name the scan, its task and its organisation (checker.logcontext)."""

from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import pytest

from checker import logcontext
from tests.web.conftest import SEEDS, close_app, make_app

JSON = {"CHECKER_LOG_FORMAT": "json"}


@pytest.fixture
def lines():
    """A handler on the ``worker`` and ``web`` loggers at INFO, JSON-formatted as the factory would;
    yields a function returning the lines written so far, each parsed (so each must be one object)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    loggers = [logging.getLogger(name) for name in ("worker", "web")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    probe = logging.getLogger("probe-json-format")
    probe.addHandler(handler)
    assert logcontext.configure(JSON, logger=probe) and isinstance(
        handler.formatter, logcontext.JsonFormatter
    )

    def read() -> list[dict]:
        text = buffer.getvalue()
        assert text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]  # one object per line, or it fails here

    yield read
    probe.removeHandler(handler)
    for lg, level in zip(loggers, levels):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_a_scans_log_lines_carry_its_scan_task_and_organisation(storage_app, lines):
    from checker.demo import demo_suspects

    world = storage_app.config["WORLD"]
    text = next(s for s in demo_suspects(SEEDS) if s["id"] == "full-copy")["text"]
    answer = storage_app.test_client().post(
        "/api/scans", json={"text": text}, headers={"Authorization": f"Bearer {world.tokens['editor']}"}
    )
    scan_id = answer.get_json()["id"]
    records = lines()
    done = [r for r in records if r["message"].startswith(f"scan {scan_id} done")]
    assert len(done) == 1, records
    line = done[0]
    assert line["scan_id"] == scan_id and line["org_id"] == world.alpha and line["task_id"]
    assert line["level"] == "INFO" and line["logger"] == "worker.tasks"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    # Outside the scan the fields are gone again.
    logging.getLogger("worker.tasks").info("after the scan")
    assert "scan_id" not in lines()[-1] and "task_id" not in lines()[-1]


def test_exceptions_and_multi_line_messages_stay_on_one_line(lines):
    log = logging.getLogger("worker.test")
    with logcontext.bound(scan_id=41, org_id=None):
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            log.exception("two\nlines and ünïcode")
    (record,) = lines()
    assert record["message"] == "two\nlines and ünïcode" and record["scan_id"] == 41
    assert "org_id" not in record  # None values are not bound
    assert record["exc"].startswith("Traceback") and "ValueError: bad\nthing" in record["exc"]


def test_the_request_account_gives_the_organisation_without_loading_it(tmp_path):
    app = make_app(tmp_path)
    try:
        with app.test_request_context("/"):
            from flask import g

            assert "org_id" not in logcontext.current()  # nobody logged in (and none looked up)
            g.account = SimpleNamespace(org_id=7)  # what the API's token check sets
            assert logcontext.current()["org_id"] == 7
            with logcontext.bound(org_id=8):  # bound fields win
                assert logcontext.current()["org_id"] == 8
        assert "org_id" not in logcontext.current()
    finally:
        close_app(app)


def test_default_and_bad_formats():
    fresh = logging.getLogger("probe-default-format")
    assert not logcontext.configure({}, logger=fresh) and not fresh.handlers  # the default changes nothing
    assert not logcontext.configure({"CHECKER_LOG_FORMAT": "text"}, logger=fresh) and not fresh.handlers
    with pytest.raises(ValueError, match="CHECKER_LOG_FORMAT must be 'text' or 'json'"):
        logcontext.configure({"CHECKER_LOG_FORMAT": "yaml"}, logger=fresh)
    assert logcontext.configure(JSON, logger=fresh)  # no handler yet: one on stderr, JSON
    try:
        assert len(fresh.handlers) == 1 and isinstance(fresh.handlers[0].formatter, logcontext.JsonFormatter)
        assert logcontext.configure(JSON, logger=fresh) and len(fresh.handlers) == 1  # idempotent
    finally:
        fresh.handlers.clear()


def test_any_tasks_lines_name_the_task(lines):
    """Not only scans: every task run (here in-process, as on the embedded default) binds its task id."""
    from celery import current_app

    import worker.app  # noqa: F401 - the default Celery app, with the signals of worker.celery_app

    @current_app.task(name="tests.log_probe")
    def log_probe() -> None:
        logging.getLogger("worker.probe").warning("inside the task")

    run = log_probe.apply()
    logging.getLogger("worker.probe").warning("after the task")
    inside, after = lines()[-2:]
    assert inside["message"] == "inside the task" and inside["task_id"] == run.id
    assert after["message"] == "after the task" and "task_id" not in after
