"""Read JSON Lines files of articles or suspects, line by line, with errors that name the line.

A bad line (malformed JSON, a missing or empty field, an undecodable byte sequence) is reported and
skipped; the good lines around it are still used. Each line is decoded on its own, because real
corpora concatenate UTF-8 and Windows-1252 exports into one file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from checker import validate
from checker.errors import InputError
from checker.records import ARTICLE_FIELDS, ArticleIn
from checker.textio import check_text, decode_bytes
from checker.validate import json_loads_bounded

# One JSON line may hold a long article plus metadata; beyond this it is not a line of our format.
MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    value: dict[str, Any] | None
    error: str | None = None


def _decode_line(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw, f"line {number}")


def read_lines(stream: BinaryIO, on_bytes: Callable[[int], object] | None = None) -> Iterator[Line]:
    """Yield each non-blank line parsed as a JSON object, or with the reason it could not be."""
    for number, raw in enumerate(stream, start=1):
        if on_bytes:
            on_bytes(len(raw))
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            yield Line(number, None, f"line {number}: longer than {MAX_LINE_BYTES:,} bytes")
            continue
        try:
            text = _decode_line(raw, number)
        except InputError as exc:
            yield Line(number, None, str(exc))
            continue
        try:
            value = json_loads_bounded(text)
        except InputError as exc:
            yield Line(number, None, f"line {number}: {exc}")
            continue
        if not isinstance(value, dict):
            yield Line(number, None, f"line {number}: expected a JSON object, got {type(value).__name__}")
            continue
        yield Line(number, value)


def open_input(path: str) -> BinaryIO:
    """Open ``path`` for binary reading with a clear error ("-" is standard input)."""
    import sys

    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a file")
    return p.open("rb")


def _string(value: dict[str, Any], key: str, number: int, *, required: bool = False) -> str | None:
    v = value.get(key)
    if v is None or (isinstance(v, str) and not v.strip() and not required):
        if required:
            raise InputError(f"line {number}: missing field {key!r}")
        return None
    if not isinstance(v, str):
        raise InputError(f"line {number}: field {key!r} must be a string, got {type(v).__name__}")
    return v


def parse_datetime(value: str | None, what: str = "published_at") -> datetime | None:
    """ISO 8601 date or date-time, aware and in range, or None (:func:`checker.validate.parse_datetime`)."""
    return validate.parse_datetime(value, what)


def article_from_json(value: dict[str, Any], number: int, max_chars: int) -> ArticleIn:
    """An :class:`ArticleIn` from one import line, every field checked (:func:`checker.validate.article`);
    InputError names the line and the field."""
    text = _string(value, "text", number, required=True) or ""
    partners = value.get("partners") or []
    if isinstance(partners, str):
        partners = [partners]
    if not isinstance(partners, list) or not all(isinstance(p, str) for p in partners):
        raise InputError(f"line {number}: field 'partners' must be a list of domain names")
    aliases = value.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise InputError(f"line {number}: field 'aliases' must be a list of names")
    try:
        text = check_text(text, max_chars, "text")  # before the title is taken from its first line
        published = parse_datetime(_string(value, "published_at", number), "published_at")
        article = ArticleIn(
            title=_string(value, "title", number) or first_line(text),
            text=text,
            url=_string(value, "url", number),
            publisher=_string(value, "publisher", number),
            license=_string(value, "license", number) or "all-rights-reserved",
            partners=tuple(partners),
            published_at=published,
            required_credit=_string(value, "required_credit", number),
            aliases=tuple(aliases),
            # A re-registration updates the fields the line has (checker.registry.given_fields).
            given=frozenset(k for k in ARTICLE_FIELDS if k != "text" and value.get(k) is not None),
        )
        return validate.article(article, max_chars)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if message.startswith("line ") else f"line {number}: {message}") from None


def first_line(text: str, limit: int = 200) -> str:
    """A title for an untitled text: its first non-blank line, shortened."""
    for line in text.splitlines():
        if line.strip():
            line = " ".join(line.split())
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return "Untitled"
