"""checker.validate: the one validator every way in goes through (units, and properties with hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker import validate
from checker.errors import InputError
from checker.models import Article, Scan
from checker.records import ArticleIn


# -- URLs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "https://example.com/a?b=c#d",
        "HTTPS://EXAMPLE.COM/",
        "HtTp://example.com:8080/x",
        "  https://example.com/padded  ",
        "https://[2001:db8::1]/",
        "https://bücher.example/straße",
        "https://example.com/" + "a" * (validate.URL_MAX_CHARS - 20),
    ],
)
def test_http_urls_are_accepted(url):
    assert validate.http_url(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", "not an http"),
        ("JaVaScRiPt:alert(1)", "not an http"),
        ("  javascript:alert(document.cookie)//http://x", "not an http"),
        ("data:text/html,<script>alert(1)</script>", "not an http"),
        ("DATA:text/html;base64,PHNjcmlwdD4=", "not an http"),
        ("vbscript:msgbox", "not an http"),
        ("ftp://example.com/", "not an http"),
        ("file:///etc/passwd", "not an http"),
        ("//example.com/x", "not an http"),
        ("example.com", "not an http"),
        ("java\tscript:alert(1)", "not an http"),
        ("http:example.com", "not an http"),
        ("https://", "no host"),
        ("http:///path", "no host"),
        ("http://:80/", "no host"),
        ("http://example.com:99999/", "port"),
        ("http://[::1/", "not a valid URL"),
        ("http://exa mple.com/", "space"),
        ("http://example.com/\x00", "NUL"),
        ("http://example.com/a\nb", "control"),
        ("http://example.com/\x7f", "control"),
        ("http://example.com/\u0085x", "control"),
        ("http://example.com/\ud800", "surrogate"),
        ("https://example.com/" + "a" * validate.URL_MAX_CHARS, "longer than"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(InputError, match=message):
        validate.http_url(url)


@pytest.mark.parametrize("value", [None, 3, b"http://example.com", ["http://example.com"]])
def test_a_url_must_be_a_string(value):
    with pytest.raises(InputError, match="must be a string"):
        validate.http_url(value, "url")


def test_optional_url_and_field_name_in_the_message():
    assert validate.optional_http_url(None) is None and validate.optional_http_url("  ") is None
    with pytest.raises(InputError, match=r"^site URL: 'javascript:x' is not an http"):
        validate.optional_http_url("javascript:x", "site URL")


# Any text, and text behind the prefixes that reach the deeper checks (host, port, brackets).
URL_LIKE = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda p, rest: p + rest,
        st.sampled_from(
            ["http://", "https://", "HTTPS://", "http:", "http:///", "http://[", "javascript:", "//"]
        ),
        st.text(max_size=120),
    ),
)


@given(URL_LIKE)
@settings(max_examples=1000, deadline=None)
def test_any_string_is_an_http_url_or_an_input_error(s):
    """Never another exception; what passes is an http(s) URL with a host, storable on every backend."""
    try:
        url = validate.http_url(s)
    except InputError as exc:
        assert str(exc)
        return
    from urllib.parse import urlsplit

    assert url.lower().startswith(("http://", "https://")) and urlsplit(url).hostname
    assert len(url) <= validate.URL_MAX_CHARS and "\x00" not in url and not any(c.isspace() for c in url)
    url.encode("utf-8")  # no lone surrogate


@given(
    st.sampled_from(["javascript", "data", "vbscript", "file", "ftp", "blob", "about"]), st.text(max_size=50)
)
def test_other_schemes_are_refused_in_any_case(scheme, rest):
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(scheme))
    for s in (scheme, scheme.upper(), mixed):
        with pytest.raises(InputError):
            validate.http_url(f"{s}:{rest}")


def test_limits_are_the_columns_sizes():
    assert validate.URL_MAX_CHARS == Article.__table__.c.url.type.length == Scan.__table__.c.url.type.length
    assert validate.TITLE_MAX_CHARS == Article.__table__.c.title.type.length
    assert validate.PUBLISHER_MAX_CHARS == Article.__table__.c.publisher.type.length
    assert validate.LICENSE_MAX_CHARS == Article.__table__.c.license.type.length
    assert validate.CREDIT_MAX_CHARS == Article.__table__.c.required_credit.type.length


# -- text fields -----------------------------------------------------------------------------------
def test_text_field():
    assert validate.text_field("  Lingkar  ", "publisher", 300) == "Lingkar"
    assert (
        validate.text_field(None, "publisher", 300) is None
        and validate.text_field(" ", "publisher", 300) is None
    )
    assert validate.text_field("x" * 300, "publisher", 300) == "x" * 300
    assert validate.text_field("x" * 301, "title", 300, cut=True) == "x" * 300
    for value, message in [
        ("x" * 301, "longer than 300"),
        ("a\x00b", "NUL"),
        ("a\ud800b", "lone surrogate"),
        ("\udfff", "U\\+DFFF at character 1"),
        (5, "must be a string"),
    ]:
        with pytest.raises(InputError, match=message):
            validate.text_field(value, "publisher", 300)
    with pytest.raises(InputError, match="publisher is empty"):
        validate.text_field("  ", "publisher", 300, required=True)


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_string_is_a_storable_text_field_or_an_input_error(s):
    try:
        out = validate.text_field(s, "field", 300)
    except InputError:
        return
    assert out is None or (len(out) <= 300 and "\x00" not in out and out == out.strip())
    if out is not None:
        out.encode("utf-8")


def test_text_list():
    assert validate.text_list(["a", " ", "b "], "aliases", 10) == ["a", "b"]
    assert (
        validate.text_list("one", "aliases", 10) == ["one"] and validate.text_list(None, "aliases", 10) == []
    )
    for value, message in [
        ([1], "list of strings"),
        (["x" * 11], "aliases entry 1 is longer"),
        (["ok", "\ud800"], "aliases entry 2 contains a lone surrogate"),
        (["a"] * (validate.MAX_LIST_ITEMS + 1), "at most"),
    ]:
        with pytest.raises(InputError, match=message):
            validate.text_list(value, "aliases", 10)


def test_search_text_is_cut_not_refused_but_never_holds_a_nul():
    assert validate.search_text(" q " + "x" * 300, "q", 200) == ("q " + "x" * 300)[:200]
    assert validate.search_text("  ", "q", 200) is None
    with pytest.raises(InputError, match="NUL"):
        validate.search_text("a\x00", "q", 200)


# -- dates -----------------------------------------------------------------------------------------
def test_dates_in_range_and_aware():
    assert validate.parse_datetime("2021-07-06") == datetime(2021, 7, 6, tzinfo=UTC)
    assert validate.parse_datetime("2021-07-06T10:00:00+07:00").utcoffset() == timedelta(hours=7)
    assert validate.parse_datetime(" ") is None and validate.parse_date(None) is None
    assert validate.parse_date("2026-11-27") == date(2026, 11, 27)
    assert validate.parse_date(f"{validate.MAX_YEAR}-12-31") == date(validate.MAX_YEAR, 12, 31)
    for bad, message in [("9999-12-31", "outside"), ("0001-01-01", "outside"), ("yesterday", "ISO 8601")]:
        with pytest.raises(InputError, match=message):
            validate.parse_datetime(bad)
    for bad, message in [
        ("9999-12-31", "outside 1900-2200"),
        ("1899-12-31", "outside"),
        ("2026-13-01", "a date like"),
    ]:
        with pytest.raises(InputError, match=message):
            validate.parse_date(bad, "until")


@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())))
def test_a_datetime_in_range_converts_to_utc_without_overflow(value):
    try:
        checked = validate.date_in_range(value, "published_at")
    except InputError:
        assert not validate.MIN_YEAR <= value.year <= validate.MAX_YEAR
        return
    assert checked.tzinfo is not None
    checked.astimezone(UTC)
    checked + timedelta(days=1)


# -- JSON ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw", ["[" * 100_000, '{"a":' * 100_000, "[" * 65 + "]" * 65, '{"a": ' + "[" * 70 + "]" * 70 + "}"]
)
def test_deep_json_is_refused_without_recursing(raw):
    with pytest.raises(InputError, match="nested deeper than 64"):
        validate.json_loads_bounded(raw)


def test_json_within_the_depth_and_brackets_inside_strings():
    assert validate.json_loads_bounded("[" * 64 + "]" * 64) is not None
    text = "[[[[" * 1000 + '\\"' + "{{{" * 1000
    assert validate.json_loads_bounded(json.dumps({"text": text})) == {"text": text}
    assert validate.json_loads_bounded(b'{"a": 1}') == {"a": 1}
    assert validate.json_loads_bounded('{"a": "b"}'.encode("utf-16")) == {"a": "b"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "malformed JSON"),
        ("1" * 5000, "malformed JSON"),
        (b"\xff\xfe\x00", "malformed JSON"),
        ('"unterminated ' + "[" * 100, "malformed JSON"),
        ("", "malformed JSON"),
    ],
)
def test_malformed_json_is_an_input_error(raw, message):
    with pytest.raises(InputError, match=message):
        validate.json_loads_bounded(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_json_round_trip_matches_json_loads(value):
    raw = json.dumps(value)
    assert validate.json_loads_bounded(raw) == json.loads(raw)


@given(st.text(alphabet='[]{}":,\\ a1', max_size=400))
@settings(max_examples=500, deadline=None)
def test_any_text_parses_or_is_an_input_error(raw):
    try:
        validate.json_loads_bounded(raw)
    except InputError:
        pass


# -- whole articles --------------------------------------------------------------------------------
def test_article_is_cleaned():
    a = validate.article(
        ArticleIn(
            title=" T ",
            text="some text here and there, with one stray\x00NUL",
            url=" https://x.example/a ",
            publisher=" P ",
            license="CC-BY-4.0",
            partners=("B.example", "a.example", " "),
            published_at=datetime(2021, 7, 6),
            required_credit=" Sumber:   P ",
            aliases=("Harian  P", " "),
        ),
        1000,
    )
    assert (a.title, a.url, a.publisher, a.license, a.partners, a.required_credit, a.aliases) == (
        "T",
        "https://x.example/a",
        "P",
        "cc-by-4.0",
        ("a.example", "b.example"),
        "Sumber: P",
        ("Harian P",),
    )
    assert a.text == "some text here and there, with one stray\ufffdNUL" and a.published_at.tzinfo is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "javascript:alert(1)"}, "url: 'javascript:alert"),
        ({"url": "DATA:text/html,x"}, "not an http"),
        ({"title": "a\x00b"}, "title contains a NUL"),
        ({"publisher": "p" * 301}, "publisher is longer than 300"),
        ({"publisher": "\ud800"}, "publisher contains a lone surrogate"),
        ({"text": "text \ud800"}, "text contains a lone"),
        ({"license": "custom:" + "x" * 300}, "license is longer"),
        ({"required_credit": "c" * 501}, "required_credit"),
        ({"aliases": ("\ud83d",)}, "aliases entry 1"),
        ({"partners": ("p\x00",)}, "partners entry 1 contains a NUL"),
        ({"published_at": datetime(9999, 12, 31, 23)}, "outside"),
        ({"title": " "}, "title is empty"),
    ],
)
def test_article_refusals_name_the_field(change, message):
    from dataclasses import replace

    with pytest.raises(InputError, match=message):
        validate.article(replace(ArticleIn(title="T", text="some text"), **change), 1000)
