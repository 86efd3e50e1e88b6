"""One validator for every way in: the API, the dashboard's forms, uploads, the CLI, JSON Lines, crawls,
watches and scans all check user input here, with the same limits on every database backend.

Why one place: SQLite stores a 5,000-character publisher, a NUL in a title or a ``javascript:`` URL
without a word, while PostgreSQL refuses the first two with an error (a 500) and nobody refuses the
third (stored XSS once a page links it). Checking here, before anything is stored, gives the same
answer everywhere, as an :class:`~checker.errors.InputError` whose message a user can act on.

The rules:

- URLs are ``http://`` or ``https://`` (any case) with a host, at most :data:`URL_MAX_CHARS`
  characters, with no whitespace or control character inside (:func:`http_url`).
- Short text fields (title, publisher, licence, required credit, aliases, partners, notes) are
  stripped and refused when they hold a NUL or a lone surrogate, or are longer than their database
  column (:func:`text_field`). Longer input is refused, not silently cut: a cut URL is another
  address, a cut publisher or required credit changes what attribution looks for. Titles alone are
  cut at their column's size, as they always were: a title is a label, and an untitled text's title
  is its shortened first line anyway.
- Body texts (articles, suspects) keep :func:`checker.textio.check_text`'s rules: NULs are replaced
  one for one, lone surrogates are refused.
- Dates are years :data:`MIN_YEAR` to :data:`MAX_YEAR`, timezone-aware (UTC when no zone is given)
  (:func:`date_in_range`, :func:`parse_datetime`, :func:`parse_date`).
- JSON is nested at most :data:`MAX_JSON_DEPTH` levels, checked without recursion before parsing
  (:func:`json_loads_bounded`).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from checker.errors import InputError
from checker.models import Article, Crawl, MatchRow, Scan, Watch
from checker.records import ArticleIn
from checker.textio import check_text, refuse_lone_surrogates

if TYPE_CHECKING:
    from sqlalchemy.orm import QueryableAttribute

    from checker.match_options import MatchOptions


def column_length(column: QueryableAttribute[str | None]) -> int:
    """The size of a String column (a model attribute such as ``Article.url``)."""
    length: int = column.type.length
    return length


# Column sizes, read from the models so that the limits and the schema cannot drift apart.
# Every URL column is String(2000); the smallest wins should one of them ever shrink.
URL_MAX_CHARS = min(
    column_length(c)
    for c in (Article.url, Scan.url, Scan.final_url, Crawl.url, Watch.url, MatchRow.suspect_url)
)
TITLE_MAX_CHARS = column_length(Article.title)
PUBLISHER_MAX_CHARS = column_length(Article.publisher)
LICENSE_MAX_CHARS = column_length(Article.license)
CREDIT_MAX_CHARS = column_length(Article.required_credit)
# Aliases and partners are stored as JSON lists (no column size): an alias is a publisher's name, so
# it gets the publisher's limit; a partner is a domain name, at most 253 characters (RFC 1035).
ALIAS_MAX_CHARS = PUBLISHER_MAX_CHARS
PARTNER_MAX_CHARS = 253
# Entries of one list (aliases, partners): a licence has a handful of partners, not thousands; each
# one is tested against every suspect URL and credit, so the list is bounded.
MAX_LIST_ITEMS = 100
# Dates: a publication or a filter date outside these years is a typo (0202, 20021) or a probe
# (9999-12-31 overflowed "the day after" and timezone conversions into a 500), never real.
MIN_YEAR, MAX_YEAR = 1900, 2200
# JSON nesting: our documents are two levels deep (an object holding lists of strings). 64 leaves room
# for any reasonable client and is far below the depth at which json.loads recurses out of stack.
MAX_JSON_DEPTH = 64
# Longest value shown back in an error message.
SHOWN_CHARS = 200


def _show(value: str) -> str:
    """``value`` quoted for an error message, shortened."""
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…")


def _no_bad_characters(value: str, field: str) -> None:
    """Refuse NUL (PostgreSQL cannot store it) and lone surrogates (no encoding can store them)."""
    if "\x00" in value:
        raise InputError(f"{field} contains a NUL character (\\x00), which cannot be stored; remove it")
    refuse_lone_surrogates(value, field)


# -- URLs --------------------------------------------------------------------------------------------
# Characters never allowed raw inside a URL: C0 controls, DEL, C1 controls (a browser strips or
# rewrites them, so the link would not be the URL we checked).
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f]")


def http_url(value: Any, field: str = "url") -> str:
    """``value`` stripped, if it is an ``http://`` or ``https://`` URL with a host; else InputError.

    Refused: other schemes (``javascript:``, ``data:``, ``ftp:`` in any case), no host
    (``http:/x``, ``https://``), a bad port, whitespace or control characters inside (percent-encode
    them), more than :data:`URL_MAX_CHARS` characters.
    """
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    url = value.strip()
    if not url:
        raise InputError(f"{field} is empty")
    _no_bad_characters(url, field)
    if len(url) > URL_MAX_CHARS:
        raise InputError(f"{field} is longer than {URL_MAX_CHARS:,} characters ({len(url):,})")
    not_http = InputError(f"{field}: {_show(url)} is not an http:// or https:// URL")
    if _URL_FORBIDDEN.search(url) or any(c.isspace() for c in url):
        if not url.lower().startswith(("http://", "https://")):
            raise not_http
        raise InputError(
            f"{field}: {_show(url)} contains a space or a control character; "
            "percent-encode it (a space is %20)"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in 0-65535
        host = parts.hostname
    except ValueError:
        raise InputError(f"{field}: {_show(url)} is not a valid URL (bad host or port)") from None
    if parts.scheme.lower() not in ("http", "https") or not url.lower().startswith(("http://", "https://")):
        raise not_http
    if not host:
        raise InputError(f"{field}: {_show(url)} has no host name (like https://example.com/page)")
    return url


def canonical_url(url: str | None) -> str | None:
    """The key two URLs of the same article share: scheme and host lower-cased, no default port, no
    fragment, no ``utm_*`` parameters, no trailing slash (``https://Example.com:443/a/?utm_source=x#top``
    and ``https://example.com/a`` are one article). None for None or a blank string; a URL that does
    not parse is returned stripped, unchanged."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        host = f"{userinfo}@{host}"
    path = parts.path.rstrip("/")
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def optional_http_url(value: Any, field: str = "url") -> str | None:
    """None for None or a blank string, else :func:`http_url`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return http_url(value, field)


def is_http_url(value: Any) -> bool:
    """Whether :func:`http_url` accepts ``value`` (templates link only these)."""
    try:
        http_url(value)
    except InputError:
        return False
    return True


# -- text fields -------------------------------------------------------------------------------------
@overload
def text_field(
    value: Any, field: str, max_len: int, *, required: Literal[True], cut: bool = False
) -> str: ...
@overload
def text_field(
    value: Any, field: str, max_len: int, *, required: bool = False, cut: bool = False
) -> str | None: ...
def text_field(
    value: Any, field: str, max_len: int, *, required: bool = False, cut: bool = False
) -> str | None:
    """``value`` stripped; None when absent or blank (InputError if ``required``). Refused: not a
    string, a NUL, a lone surrogate, more than ``max_len`` characters (the database column's size);
    with ``cut``, a longer value is cut to ``max_len`` instead (titles only, see :func:`article`)."""
    if value is None:
        if required:
            raise InputError(f"{field} is empty")
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    _no_bad_characters(value, field)
    text = value.strip()
    if not text:
        if required:
            raise InputError(f"{field} is empty")
        return None
    if len(text) > max_len:
        if cut:
            return text[:max_len].rstrip()
        raise InputError(f"{field} is longer than {max_len:,} characters ({len(text):,})")
    return text


def search_text(value: Any, field: str, max_len: int) -> str | None:
    """A search query: stripped, refused with a NUL or a lone surrogate (PostgreSQL cannot compare
    them), cut to ``max_len`` characters (it is not stored, so nothing is lost); None when blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    _no_bad_characters(value, field)
    return value.strip()[:max_len].strip() or None


def text_list(values: Any, field: str, max_len: int) -> list[str]:
    """A list of short strings (aliases, partners), each checked by :func:`text_field`; blanks dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InputError(f"{field} must be a list of strings")
    if len(values) > MAX_LIST_ITEMS:
        raise InputError(f"{field}: at most {MAX_LIST_ITEMS} entries (got {len(values):,})")
    out = []
    for n, v in enumerate(values, start=1):
        checked = text_field(v, f"{field} entry {n}", max_len)
        if checked:
            out.append(checked)
    return out


# -- dates -------------------------------------------------------------------------------------------
_Date = TypeVar("_Date", date, datetime)


def date_in_range(value: _Date, field: str = "date") -> _Date:
    """``value`` if its year is :data:`MIN_YEAR` to :data:`MAX_YEAR`; a datetime comes back
    timezone-aware (UTC when it had no zone)."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InputError(f"{field}: the year {value.year} is outside {MIN_YEAR}-{MAX_YEAR}")
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def parse_datetime(value: str | None, field: str = "published_at") -> datetime | None:
    """An ISO 8601 date or date-time (``2021-07-06``, ``2021-07-06T10:00:00+07:00``) as an aware
    datetime in range, or None for None or a blank string."""
    if value is None or not str(value).strip():
        return None
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"{field}: {_show(value)} is not an ISO 8601 date (e.g. 2021-07-06 or 2021-07-06T10:00:00+07:00)"
        ) from None
    return date_in_range(parsed, field)


def parse_date(value: str | None, field: str = "date") -> date | None:
    """A calendar date like ``2026-11-27``, in range, or None for None or a blank string."""
    if value is None or not str(value).strip():
        return None
    try:
        parsed = date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{field} must be a date like 2026-11-27 (got {_show(str(value))})") from None
    return date_in_range(parsed, field)


# -- JSON --------------------------------------------------------------------------------------------
# A JSON string (escapes included; an unterminated one runs to the end) or a bracket. The string
# alternative is the unrolled loop with possessive quantifiers: linear, and no backtracking state
# kept per escape (the plain form took 1 s and 400 MB on a 12 MB string of escapes; this 0.03 s).
_JSON_TOKENS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` opens more than ``max_depth`` arrays or objects inside each other (brackets in
    strings do not count). Iterative: a 10 MB ``[[[[...`` costs one pass, no recursion."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()[0]
        if c in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif c in "]}":
            depth -= 1
    return False


def json_loads_bounded(raw: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(raw)``, refusing nesting deeper than ``max_depth`` before parsing. Bytes are
    decoded as JSON's own encoding detection says (UTF-8, or UTF-16/32). Every failure is an
    InputError naming what is wrong, never another exception."""
    if isinstance(raw, bytes | bytearray):
        encoding = json.detect_encoding(raw)
        try:
            raw = bytes(raw).decode(encoding)
        except UnicodeDecodeError:
            raise InputError(f"malformed JSON (not valid {encoding.upper()} text)") from None
    if json_depth_exceeds(raw, max_depth):
        raise InputError(f"malformed JSON (nested deeper than {max_depth} levels)")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # not reachable after the depth check; kept so no input can escape as a 500
        raise InputError(f"malformed JSON (nested deeper than {max_depth} levels)") from None
    except ValueError as exc:  # an integer of more than 4,300 digits (sys.get_int_max_str_digits)
        raise InputError(f"malformed JSON ({str(exc).split(':')[0].lower()})") from None


# -- whole records -----------------------------------------------------------------------------------
def article_text(a: ArticleIn, max_text_chars: int) -> str:
    """The text :func:`article` keeps of ``a`` (:func:`~checker.textio.check_text`), or InputError."""
    return check_text(a.text if isinstance(a.text, str) else "", max_text_chars, "text")


def article(a: ArticleIn, max_text_chars: int) -> ArticleIn:
    """``a`` with every field checked and cleaned (the registry stores exactly this): the text by
    :func:`~checker.textio.check_text`, the licence canonical, partners lower-cased and sorted,
    aliases with their whitespace collapsed, ``published_at`` aware. InputError names the field."""
    from checker.verdict import normalize_license

    text = article_text(a, max_text_chars)
    # A title is a label (an untitled text gets its first line, shortened): one longer than the column
    # is cut, as it always was. Every other field is refused when too long: a cut URL is another
    # address, a cut publisher or required credit changes what attribution looks for.
    title = text_field(a.title, "title", TITLE_MAX_CHARS, required=True, cut=True)
    license_text = text_field(a.license, "license", LICENSE_MAX_CHARS)
    try:
        license_id = normalize_license(license_text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    partners = sorted({p.lower() for p in text_list(list(a.partners), "partners", PARTNER_MAX_CHARS)})
    aliases = sorted({" ".join(x.split()) for x in text_list(list(a.aliases), "aliases", ALIAS_MAX_CHARS)})
    credit = text_field(a.required_credit, "required_credit", CREDIT_MAX_CHARS)
    published = a.published_at
    if published is not None:
        published = date_in_range(published, "published_at")
    return replace(
        a,
        title=title,
        text=text,
        url=optional_http_url(a.url, "url"),
        publisher=text_field(a.publisher, "publisher", PUBLISHER_MAX_CHARS),
        license=license_id,
        partners=tuple(partners),
        published_at=published,
        required_credit=" ".join(credit.split()) if credit else None,
        aliases=tuple(aliases),
    )


# -- match settings (checker.match_options) and time zones -------------------------------------------
# The largest minimum match size worth asking for: beyond a long article's length, nothing is reported.
MAX_MIN_MATCH_WORDS = 100_000
TIME_ZONE_MAX_CHARS = 64  # organisations.time_zone
# A domain: dot-separated labels of letters, digits and inner hyphens (IDN letters too), at least two.
_DOMAIN_RE = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W_](?:[\w-]{0,61}[^\W_])?")


def minimum_match_words(value: Any, field: str = "minimum match words") -> int | None:
    """The smallest match worth reporting, in words: None (the engine's default) for None or a blank
    string, else a whole number from the engine's own minimum (``MatchConfig.min_passage_words``) to
    :data:`MAX_MIN_MATCH_WORDS`. A smaller number is refused, not clamped: shorter passages are never
    found at all (they are what independent reports share), and a setting that silently did nothing
    would mislead."""
    from checker.thresholds import DEFAULT_MATCH_CONFIG

    floor = DEFAULT_MATCH_CONFIG.min_passage_words
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        _no_bad_characters(value, field)
        try:
            value = int(value.strip()) if len(value.strip()) <= 12 else None
        except ValueError:
            value = None
        if value is None:
            raise InputError(f"{field} must be a whole number of words (or empty for the default, {floor})")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field} must be a whole number of words, not {type(value).__name__}")
    if value < floor:
        raise InputError(
            f"{field}: {value} is below the engine's own minimum of {floor} words (shorter "
            f"passages are never reported); use {floor} or more, or leave it empty for the default"
        )
    if value > MAX_MIN_MATCH_WORDS:
        raise InputError(f"{field}: at most {MAX_MIN_MATCH_WORDS:,} words (got {value:,})")
    return value


def excluded_source(value: Any, field: str = "excluded source") -> str:
    """One excluded source, normalised: a domain (``Partner.Example.`` -> ``partner.example``; ``www.``,
    ``*.`` and a leading dot dropped, since a domain covers its subdomains anyway) or a URL prefix
    (``https://partner.example/syndication/``, or the same without its scheme; kept as
    :func:`canonical_url` writes it)."""
    text = text_field(value, field, URL_MAX_CHARS, required=True)
    if "://" in text or "/" in text:
        url = canonical_url(http_url(text if "://" in text else "https://" + text, field))
        assert url is not None  # None only for a blank URL, which http_url refuses
        return url
    domain = text.lower().rstrip(".")
    for lead in ("*.", ".", "www."):
        domain = domain.removeprefix(lead)
    if len(domain) > PARTNER_MAX_CHARS or not _DOMAIN_RE.fullmatch(domain):
        raise InputError(
            f"{field}: {_show(text)} is neither a domain (like partner.example, which also covers "
            "its subdomains) nor a URL (like https://partner.example/news)"
        )
    return domain


def excluded_source_list(values: Any, field: str = "excluded sources") -> list[str]:
    """A list of :func:`excluded_source` entries, blanks dropped, duplicates once, in the order given
    (at most :data:`MAX_LIST_ITEMS`; each is tested against every scanned URL)."""
    entries = text_list(values, field, URL_MAX_CHARS)
    return list(
        dict.fromkeys(excluded_source(v, f"{field} entry {n}") for n, v in enumerate(entries, start=1))
    )


def match_options(
    *, min_match_words: Any = None, exclude_quotes: Any = True, excluded_sources: Any = ()
) -> MatchOptions:
    """A :class:`checker.match_options.MatchOptions` with every setting checked (InputError names the
    bad one)."""
    from checker.match_options import MatchOptions

    if not isinstance(exclude_quotes, bool):
        raise InputError(
            f"quotations excluded must be yes or no (true or false), not {_show(str(exclude_quotes))}"
        )
    return MatchOptions(
        minimum_match_words(min_match_words), exclude_quotes, tuple(excluded_source_list(excluded_sources))
    )


def time_zone(value: Any, field: str = "time zone") -> str:
    """An IANA time zone name that this system knows (``Asia/Jakarta``, ``UTC``)."""
    from zoneinfo import available_timezones

    name = text_field(value, field, TIME_ZONE_MAX_CHARS, required=True)
    if name not in available_timezones():
        raise InputError(f"{field}: {_show(name)} is not a known time zone (like Asia/Jakarta or UTC)")
    return name


EMAIL_MAX_CHARS = 320
MAX_ALERT_EMAILS = 20
ALERT_FREQUENCIES = ("immediate", "daily")


def is_email(email: str) -> bool:
    """``local@domain.tld`` without spaces: the shape of an address, not a promise it receives mail."""
    local, at, domain = email.partition("@")
    return bool(
        local and at and "." in domain[1:-1] and "@" not in domain and not any(c.isspace() for c in email)
    )


def email_list(values: Any, field: str = "alert e-mail addresses") -> list[str]:
    """Distinct e-mail addresses (lower-cased), at most MAX_ALERT_EMAILS."""
    emails = [e.lower() for e in text_list(values, field, EMAIL_MAX_CHARS)]
    for email in emails:
        if not is_email(email):
            raise InputError(f"{field}: {_show(email)} is not an e-mail address")
    emails = list(dict.fromkeys(emails))
    if len(emails) > MAX_ALERT_EMAILS:
        raise InputError(f"{field}: at most {MAX_ALERT_EMAILS} addresses")
    return emails


def alert_frequency(value: Any, field: str = "alerts") -> str:
    if value not in ALERT_FREQUENCIES:
        raise InputError(f"{field}: {_show(str(value))} is not one of {', '.join(ALERT_FREQUENCIES)}")
    return cast(str, value)  # one of ALERT_FREQUENCIES
