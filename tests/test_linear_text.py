"""Every regular expression that sees untrusted text runs in linear time (issue 9, finding 2).

A copier controls the suspect text (up to the page size cap), so a pattern that backtracks on some input
holds a worker for as long as the copier likes: the bare-domain pattern of attribution took time growing
with the cube of "a.a.a....1" (34 s at 20 KB), the "X reported" pattern with the square of "AAAA..."
(9 s at 20 KB). Each pattern and each function that runs patterns over a page is fed 1 MB adversarial
inputs here: the known bad shapes, and short strings that hypothesis draws from the alphabet that
matters to the pattern, repeated up to 1 MB.

The tests bound the work without timing it. Every compiled ``regex`` pattern of the modules under
test is replaced, for the test, by the same pattern with the ``regex`` module's ``timeout`` (PER_CALL
seconds: the linear patterns take milliseconds on 1 MB, the old cubic one would take days), and a whole
function gets a generous alarm (WHOLE seconds) that catches super-linear loops around the patterns and
the stdlib ``re`` patterns of the HTML helpers (``re`` has no timeout). Timings belong in
``python -m bench.regex``.

The rewritten scanners must also find exactly what the old patterns found: the old patterns are kept
below and compared with the new code on generated text (small inputs, where they are fast).
"""

from __future__ import annotations

import re
import signal
from contextlib import contextmanager
from functools import partial

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.regex import (
    OLD_CREDIT_PHRASE_RE,
    OLD_META_CHARSET_RE,
    OLD_NOSCRIPT_RE,
    OLD_REPORTED_RE,
    OLD_URL_RE,
)
from checker import attribution, boilerplate, quotes
from checker.normalize import normalize
from checker.records import ArticleRef
from worker import discover, extract, fetch, pages

MB = 1 << 20
PER_CALL = 5.0  # seconds for one pattern call on 1 MB
WHOLE = 60.0  # seconds for a whole function on 1 MB
MODULES = (attribution, boilerplate, quotes, extract, fetch, discover)
LINGKAR = ArticleRef(1, "Vaksin", "https://lingkar.co/vaksin-sputnik/", "Lingkar.co")
SOURCE = "JAKARTA, Lingkar.co – Pemerintah Indonesia ... Sumber: ANTARA"
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scale(unit: str | bytes, size: int = MB):
    """``unit`` repeated to exactly ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]


# The known bad shapes (and their neighbours), each 1 MB.
SHAPES = {
    "a.a.a.1": scale("a.") + "1",
    "AAAA": scale("A"),
    "A A A": scale("A "),
    "a-a-a-": scale("a-"),
    "((((": scale("("),
    "quotes": scale('"a" \u201cb\u201d \u00ab'),
    "source newlines": "source" + scale("\n"),
    "source: spaces": scale("Sumber: " + " " * 50 + "\n"),
    "dotted capitals": scale("A.B-C_D"),
    "www.www.": scale("www."),
    "a.http://": scale("a.http://"),
    "brackets of domains": scale("(lingkar.co) "),
    "x reported": scale("Xx reported "),
    "dilaporkan oleh": scale("dilaporkan oleh "),
    "mixed": scale("Sumber: A.b-c (x) \u201cy\u201d lingkar.co/a www.b.c AAA reported\n"),
}


class Bounded:
    """A compiled pattern whose every call carries a ``timeout``."""

    CALLS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "splititer")

    def __init__(self, pattern: regex.Pattern, timeout: float) -> None:
        self._pattern = pattern
        for name in self.CALLS:
            setattr(self, name, partial(getattr(pattern, name), timeout=timeout))

    def __getattr__(self, name):  # pattern, flags, groupindex ...
        return getattr(self._pattern, name)


@pytest.fixture
def bounded(monkeypatch):
    """Every compiled ``regex`` pattern of the modules under test runs with a PER_CALL timeout."""
    for module in MODULES:
        for name, value in list(vars(module).items()):
            if isinstance(value, regex.Pattern):
                monkeypatch.setattr(module, name, Bounded(value, PER_CALL))
    attribution.credit_mentions.cache_clear()
    yield
    attribution.credit_mentions.cache_clear()


@contextmanager
def within(seconds: float = WHOLE):
    """Raise TimeoutError in the middle of whatever runs longer than ``seconds`` (a generous bound)."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------------------------------
# attribution: every pattern, the mentions and the credits of a whole suspect

ATTRIBUTION_PATTERNS = ("CREDIT_PHRASE_RE", "REPORTED_RE", "BRACKET_RE")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ATTRIBUTION_PATTERNS)
def test_attribution_patterns_on_adversarial_megabytes(bounded, name, shape) -> None:
    with within():
        for _ in getattr(attribution, name).finditer(SHAPES[shape]):
            pass


@pytest.mark.parametrize("shape", SHAPES)
def test_credit_mentions_on_adversarial_megabytes(bounded, shape) -> None:
    """All the patterns together, links included, and the quotation ranges they are checked against."""
    with within():
        attribution.credit_mentions(SHAPES[shape])


@pytest.mark.parametrize(
    "unit", ["(Lingkar.co) x ", "Sumber: Lingkar.co\n", "lingkar.co/a ", "Lingkar.co reported "]
)
def test_many_credits_cost_a_sort_not_every_pair(bounded, unit) -> None:
    """A page repeating a credit 50,000 times: each is evidence, and nesting is decided in one sweep."""
    with within():
        credits = attribution.find_credits(scale(unit), LINGKAR, SOURCE)
    assert len(credits) > 10_000


ATTRIBUTION_ALPHABET = st.sampled_from(
    [
        "a",
        "A",
        "1",
        ".",
        "-",
        "_",
        "/",
        ":",
        " ",
        "\n",
        "(",
        ")",
        '"',
        "\u201c",
        "\u201d",
        "é",
        "co",
        "www.",
        "http://",
        "Sumber",
        "source",
        "reported",
        "dilaporkan",
        "oleh",
        "Lingkar",
    ]
)


@FEW
@given(st.lists(ATTRIBUTION_ALPHABET, min_size=1, max_size=30).map("".join))
def test_credit_mentions_on_generated_megabytes(unit) -> None:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in list(vars(attribution).items()):
            if isinstance(value, regex.Pattern):
                mp.setattr(attribution, name, Bounded(value, PER_CALL))
        attribution.credit_mentions.cache_clear()
        with within():
            attribution.find_credits(scale(unit), LINGKAR, SOURCE)
    attribution.credit_mentions.cache_clear()


# The patterns as they were before the rewrite (bench/regex.py keeps them for its baseline): the reference
# for what must still be found.

PIECES = st.sampled_from(
    [
        "a",
        "b",
        "Z",
        "1",
        "-",
        ".",
        "..",
        "/",
        ":",
        " ",
        "\n",
        "é",
        "_",
        "(",
        '"',
        "co",
        "www.",
        "http://",
        "https://",
        "ſ",
        "K",
        "x.co",
        "abcdefghijklmnopqrstuvwxyzabc",
        "Reuters",
        " reported",
        " dilaporkan",
        " oleh ",
        "Sumber",
        "source\n",
        "A",
    ]
)
TEXTS = st.lists(PIECES, max_size=16).map("".join)
MANY = settings(max_examples=3000, deadline=None)


@MANY
@given(TEXTS)
def test_links_are_found_as_the_old_pattern_found_them(text) -> None:
    assert attribution.url_spans(text) == [m.span() for m in OLD_URL_RE.finditer(text)]


@MANY
@given(TEXTS)
def test_reported_names_are_found_as_before(text) -> None:
    def mentions(pattern):
        return [
            (m.start("name") if not m.group("by") else m.start(), m.end(), m.group("name"))
            for m in pattern.finditer(text)
        ]

    assert mentions(attribution.REPORTED_RE) == mentions(OLD_REPORTED_RE)


@MANY
@given(TEXTS)
def test_credit_lines_are_found_as_before(text) -> None:
    """Same spans and names wherever the name could name anyone (has a letter or digit); a name of
    spaces and punctuation never matches a publisher, and only there may the two differ."""

    def named(pattern):
        return [
            (m.span(), m.group("name"))
            for m in pattern.finditer(text)
            if any(ch.isalnum() for ch in m.group("name"))
        ]

    assert named(attribution.CREDIT_PHRASE_RE) == named(OLD_CREDIT_PHRASE_RE)


# --------------------------------------------------------------------------------------------------
# boilerplate and quotations: line patterns, bounded lines


@pytest.mark.parametrize("shape", SHAPES)
def test_boilerplate_on_adversarial_megabytes(bounded, shape) -> None:
    with within():
        boilerplate.boilerplate_ranges(SHAPES[shape])
        boilerplate.line_kind(SHAPES[shape])


@pytest.mark.parametrize(
    "line",
    [
        "!" * MB,
        "-" * (MB - 7) + "editor",
        "baca" + " " * MB,
        "a-" * (MB // 2),
        "ikuti" + "\t" * MB + "x",
        "copy" + " " * MB,
    ],
)
def test_long_lines_are_not_boilerplate(bounded, line) -> None:
    with within():
        assert boilerplate.line_kind(line) is None
        assert boilerplate.boilerplate_ranges(line) == []


@FEW
@given(
    st.lists(
        st.sampled_from(
            [
                "Baca",
                " juga",
                ":",
                "-",
                "!",
                " ",
                "\n",
                "Editor",
                "a",
                "'",
                "Sumber",
                "copy",
                "paste",
                "error",
            ]
        ),
        min_size=1,
        max_size=20,
    ).map("".join)
)
def test_boilerplate_on_generated_megabytes(unit) -> None:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in list(vars(boilerplate).items()):
            if isinstance(value, regex.Pattern):
                mp.setattr(boilerplate, name, Bounded(value, PER_CALL))
        with within():
            boilerplate.boilerplate_ranges(scale(unit))


@pytest.mark.parametrize(
    "text", [SHAPES["quotes"], SHAPES["mixed"], scale('"\n'), scale("\u201c"), scale("a\u2019")]
)
def test_quotations_on_adversarial_megabytes(bounded, text) -> None:
    with within():
        quotes.quoted_ranges(text)


# --------------------------------------------------------------------------------------------------
# the HTML side: <noscript> blocks, charsets, XML declarations, whole pages

# HTML arrives whole, up to the fetcher's size cap (5 MB): the helpers that read it are fed that much.
PAGE = fetch.FetchOptions().max_bytes
HTML_SHAPES = {
    "open noscripts": scale("<noscript>", PAGE),
    "unclosed noscript tags": scale("<noscript", PAGE),
    "noscripts and one close": scale("<noscript x", PAGE) + "></noscript>",
    "noscript blocks": scale("<noscript>a</noscript>", PAGE),
    "spaces": scale(" \u00a0\t", PAGE),
    "a.a.a.1 in a paragraph": "<p>" + scale("a.") + "1</p>",
}


@pytest.mark.parametrize("shape", HTML_SHAPES)
def test_noscript_and_text_cleanup_on_adversarial_megabytes(bounded, shape) -> None:
    with within():
        extract._flatten_noscript(HTML_SHAPES[shape])
        extract._clean_lines(HTML_SHAPES[shape])


@pytest.mark.parametrize("shape", ["unclosed noscript tags", "a.a.a.1 in a paragraph"])
def test_whole_page_extraction_on_adversarial_megabytes(bounded, shape) -> None:
    with within():
        extract.extract_page(HTML_SHAPES[shape], "https://copier.example/page")


@pytest.mark.parametrize(
    "body",
    [
        b"<meta charset=" + scale(b" ", PAGE),
        scale(b"<meta", PAGE),
        b"<meta " + scale(b"charset", PAGE),
        scale(b"<meta charset= '", PAGE),
        scale(b"<meta http-equiv=x ", PAGE),
    ],
)
def test_charset_declarations_on_adversarial_megabytes(bounded, body) -> None:
    """declared_charsets reads only the first 8 KB (which bounded the old pattern too: 0.4 s at
    worst); meta_charset itself is linear on a whole page."""
    with within():
        fetch.declared_charsets(body, None)
        fetch.declared_charsets(b"<?xml " + body, None, "application/xml")
        fetch.meta_charset(body)


@pytest.mark.parametrize("text", [" " * MB + "<?xml", "<?xml" + scale("?") + "<a/>", scale("<?xml ")])
def test_xml_declarations_on_adversarial_megabytes(bounded, text) -> None:
    with within():
        discover._parse_xml(text)


@MANY
@given(
    st.lists(
        st.sampled_from(
            [
                "<noscript",
                ">",
                "</noscript",
                "</noscript>",
                "</NOSCRIPT >",
                " ",
                "a",
                "<NoScript>",
                "<noscripts>",
                "\n",
                "</noscript\n>",
                "<",
                "/",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_noscript_blocks_are_found_as_before(html) -> None:
    old = [(m.start(), m.start(1), m.end(1), m.end()) for m in OLD_NOSCRIPT_RE.finditer(html)]
    assert extract._noscript_blocks(html) == old


@MANY
@given(
    st.lists(
        st.sampled_from(
            [
                b"<meta",
                b"<META",
                b" ",
                b"charset",
                b"CharSet",
                b"=",
                b"'",
                b'"',
                b"utf-8",
                b">",
                b"a",
                b"\n",
                b"x=",
                b"<",
            ]
        ),
        max_size=14,
    ).map(b"".join)
)
def test_meta_charsets_are_found_as_before(head) -> None:
    old = OLD_META_CHARSET_RE.search(head)
    assert fetch.meta_charset(head) == (old.group(1) if old else None)


def test_suspect_text_looks_up_every_line_in_one_pass() -> None:
    """The text scanned from a page is its main text plus the visible lines the main text lacks. A
    page of the size cap, half article and half short lines found nowhere in it: looking each line up
    in the main text took lines x text (the old code: over a minute here), Aho-Corasick takes one pass."""
    import random

    rnd = random.Random(9)

    def words(n: int) -> str:
        return " ".join(f"w{rnd.randrange(10**6)}" for _ in range(n))

    def short_line() -> str:  # short lines: the most lines, each a search through the whole text
        return " ".join(
            f"{chr(97 + rnd.randrange(26))}{rnd.randrange(10)}" for _ in range(pages.MIN_EXTRA_LINE_WORDS)
        )

    main = words(PAGE // 16)  # ~2.5 MB
    lines = [short_line() for _ in range(PAGE // 2 // 24)]  # ~2.5 MB of lines
    page = extract.ExtractedPage(url="https://copier.example/", main_text=main, visible_text="\n".join(lines))
    with within():
        text = pages.suspect_text(page)
    assert text.count("\n\n") == len(lines)  # each line is missing from the main text, so it is added


@MANY
@given(
    st.text(st.sampled_from(list("ab Σσé\u0301\n\r\x0b\x0c\x1c\x85\u2028\u2029\t.,'\"-«»中文ﬁ")), max_size=60)
)
def test_line_tokens_are_each_lines_own(text) -> None:
    """One normalisation of the whole text, cut at the line breaks, gives what each line alone gives."""
    assert pages.line_tokens(text) == [
        (line, normalize(line, drop_boilerplate=False).tokens) for line in text.splitlines()
    ]


@MANY
@given(
    st.lists(st.sampled_from("abc"), max_size=14),
    st.lists(st.lists(st.sampled_from("abc"), min_size=1, max_size=5), max_size=6),
)
def test_lines_are_found_in_the_main_text_as_before(text, patterns) -> None:
    joined = " " + " ".join(text) + " "
    assert pages.occurring(text, patterns) == [" " + " ".join(p) + " " in joined for p in patterns]


# --------------------------------------------------------------------------------------------------
# checker.validate: e-mail addresses (the login form's field; the old pattern was quadratic on "a@....")

OLD_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@pytest.mark.parametrize("email", ["a@" + "." * MB + " ", "a@" + "a." * (MB // 2) + "@", "@" * MB, "a" * MB])
def test_email_check_on_adversarial_megabytes(email) -> None:
    from checker.validate import is_email

    with within():
        assert not is_email(email)


@MANY
@given(
    st.lists(st.sampled_from(["a", "b", ".", "@", " ", "\t", "é", "..", "x.co"]), max_size=12).map("".join)
)
def test_email_check_agrees_with_the_old_pattern(email) -> None:
    from checker.validate import is_email

    assert is_email(email) == bool(OLD_EMAIL_RE.match(email))
