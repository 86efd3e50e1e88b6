"""Structured logs: what a log line is about (scan, task, organisation) and one JSON object per line.

``CHECKER_LOG_FORMAT=json`` makes every line a JSON object with ``time`` (UTC, ISO 8601), ``level``,
``logger``, ``message`` and, when known, ``scan_id``, ``task_id`` and ``org_id`` (and ``exc`` with the
traceback of a logged exception), so a log collector can follow one scan across the web process and
the workers without parsing prose. The default (unset, or ``text``) leaves logging as it was.

The fields come from a context variable, set where work starts (a scan task binds its scan, task and
organisation: :func:`bound`), so every line logged inside that work carries them, whichever module
logs it; and from providers that read fields already known elsewhere (the web app adds the
organisation of the request's account without loading it). Context variables are per thread and per
asyncio task, so the embedded default's background thread and the web's request threads never mix
their fields. No Flask or Celery here: both hook into it (web factory, worker start-up).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType

from checker.settings import log_format

# The fields a JSON line may carry besides time, level, logger and message, in this order.
FIELDS = ("scan_id", "task_id", "org_id")

_fields: ContextVar[Mapping[str, object]] = ContextVar("checker_log_fields", default=MappingProxyType({}))
_providers: list[Callable[[], Mapping[str, object]]] = []


def bind(**fields: object) -> Token[Mapping[str, object]]:
    """Add ``fields`` (None values are ignored) to this context's; :func:`unbind` the token to undo."""
    return _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: Token[Mapping[str, object]]) -> None:
    _fields.reset(token)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """The fields hold for what runs inside the block, and are undone after it."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def add_provider(provider: Callable[[], Mapping[str, object]]) -> None:
    """A function giving fields known elsewhere (e.g. a request's account); called per JSON line, so it
    must be cheap and never fail. Added once however often it is passed (one per app factory call)."""
    if provider not in _providers:
        _providers.append(provider)


def current() -> dict[str, object]:
    """This context's fields: the providers', then the bound ones (which win)."""
    out: dict[str, object] = {}
    for provider in _providers:
        try:
            out.update({k: v for k, v in provider().items() if v is not None})
        except Exception:  # a log line must never fail for its context
            pass
    out.update(_fields.get())
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = current()
        for name in FIELDS:
            if name in fields:
                line[name] = fields[name]
        line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(env: Mapping[str, str] | None = None, logger: logging.Logger | None = None) -> bool:
    """With ``CHECKER_LOG_FORMAT=json``, give every handler of ``logger`` (default: the root logger) the
    JSON formatter, adding one on stderr if it has none; True then. Otherwise change nothing (False).
    Idempotent: the web factory and the worker's logging set-up may both call it."""
    if log_format(env) != "json":
        return False
    logger = logger or logging.getLogger()
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stderr))
    for handler in logger.handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())
    return True
