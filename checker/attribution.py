"""Does the suspect credit the registered article? Credit lines, datelines, links, with offsets.

A credit counts only when it names *this* article's publisher or domain ("Sumber: ANTARA" on a copy of
Lingkar.co's story credits the wire agency, not Lingkar.co), lies outside quotation marks (a name
inside a quote is speech, not credit), and was added by the copier: a mention that the registered
article itself carries (its own dateline "JAKARTA, Lingkar.co –", a caption "(ANTARA/LINGKAR.CO)") was
copied along with the text and credits nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import regex

from checker.quotes import quoted_ranges
from checker.records import ArticleRef, Credit

# Every pattern here runs over the whole suspect, which a copier controls (up to the page size cap), so
# each one runs in linear time: possessive quantifiers (``*+``, ``++``) where the pattern must not
# backtrack, starts limited to where a match can begin, and links found by a scan instead of one
# pattern with nested repetition (which took time growing with the cube of a run like "a.a.a.1").
# tests/test_linear_text.py feeds each one 1 MB adversarial inputs; ``python -m bench.regex`` times them.

# Phrases that introduce a credited source, Indonesian and English. The credited name follows.
_CREDIT_LEAD = (
    r"sumber|source|sources|dikutip\s+dari|mengutip|dilansir\s+dari|dilansir|melansir|disadur\s+dari|"
    r"artikel\s+ini\s+telah\s+tayang\s+di|artikel\s+ini\s+sudah\s+tayang\s+di|telah\s+tayang\s+di|"
    r"courtesy\s+of|via|according\s+to|originally\s+published\s+(?:in|on|at|by)|"
    r"this\s+article\s+(?:first\s+)?appeared\s+(?:in|on)|republished\s+from|reprinted\s+from|"
    r"credit|kredit|foto|photo"
)
# The spaces around the optional colon are possessive: "source" followed by a long run of newlines
# used to be split between the two in every possible way (quadratic) before failing.
CREDIT_PHRASE_RE = regex.compile(
    rf"\b(?:{_CREDIT_LEAD})\b\s*+[:\-–—]?\s*+(?P<name>[^\n]{{1,120}})", regex.IGNORECASE
)
# "Reuters reported", "dilaporkan Kompas", "X melaporkan". A name starts at its word's first capital
# letter; the match starts at the word's start (``(?<![\w.\-])``, or where the last match ended:
# ``\G``) and skips the letters before that capital possessively, so a long run of capitals or of
# words is read once, not once per position. The name is group "name" (its span is the credit's
# span); "by" marks the second form.
REPORTED_RE = regex.compile(
    r"(?:(?<![\w.\-])|\G)(?:(?!\p{Lu})[\w.\-])*+"
    r"(?P<name>[\p{Lu}][\w.\-]*+(?:\s++[\p{Lu}][\w.\-]*+){0,3})\s++(?:reported|reports|melaporkan|memberitakan)\b"
    r"|(?P<by>\b(?:dilaporkan|diberitakan))\s++(?:oleh\s++)?(?P<name>[\w.\-]++(?:\s++[\w.\-]++){0,3})",
)
# Agency datelines and bylines in brackets: "(ANTARA)", "(Lingkar.co)", "- Lingkar.co -".
BRACKET_RE = regex.compile(r"\((?P<name>[^()\n]{2,60})\)")

# Links in the text: "https://..." or "www..." up to a space, quote or bracket; or a bare domain
# ("lingkar.co", "news.example.com/path"): dot-separated labels of [a-z0-9-] and a last label starting
# with 2-24 letters, at a word boundary. :func:`url_spans` finds exactly what the single pattern
#   (?:https?://|www\.)[^\s<>"'()\[\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/[^\s<>"'()\[\]]*)?
# finds (tests/test_linear_text.py checks this on generated text), in one pass.
_URL_CHARS = r"[^\s<>\"'()\[\]]"
_SCHEME_START_RE = regex.compile(rf"(?:https?://|www\.)(?={_URL_CHARS})", regex.IGNORECASE)
_URL_REST_RE = regex.compile(rf"{_URL_CHARS}++")
# A run of dot-separated labels (the most a bare domain could span), read once.
_LABEL_RUN_RE = regex.compile(r"[a-z0-9-]++(?:\.[a-z0-9-]++)*+", regex.IGNORECASE)
# The last dot of a run that two letters follow (searched from the right: ``(?r)``).
_LAST_TLD_DOT_RE = regex.compile(r"(?r)\.(?=[a-z]{2})", regex.IGNORECASE)
_DOMAIN_START_RE = regex.compile(r"\b[a-z0-9-]", regex.IGNORECASE)
_TLD_PATH_RE = regex.compile(rf"[a-z]{{2,24}}+(?:/{_URL_CHARS}*+)?", regex.IGNORECASE)


def url_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every link written in ``text``, left to right, not overlapping.

    A bare domain from a given start runs to the *last* dot of its label run that two letters follow
    (then those letters and an optional path), so one run holds at most one bare domain, and whether
    a start works depends only on the run: each run is looked at once. Scheme links ("http://",
    "www.") win where both could start at the same place, as in the alternation above."""
    spans: list[tuple[int, int]] = []
    pos = 0
    # The runs' spans first, then the walk: a pattern call does only the pattern's work (see quotes.py).
    runs = iter([m.span() for m in _LABEL_RUN_RE.finditer(text)])
    run = next(runs, None)
    domain: tuple[int, int] | None = None  # (start, last dot) of the next bare domain at or after pos
    scheme = _SCHEME_START_RE.search(text)
    while True:
        if domain is not None and domain[0] < pos:
            domain = None  # overtaken: look again in the same run, from pos
        while domain is None and run is not None:
            lo, hi = max(run[0], pos), run[1]
            if lo < hi:
                dot = _LAST_TLD_DOT_RE.search(text, lo, hi)
                if dot is not None:
                    start = _DOMAIN_START_RE.search(text, lo, dot.start())
                    if start is not None:
                        domain = (start.start(), dot.start())
                        break
            run = next(runs, None)
        if scheme is not None and scheme.start() < pos:
            scheme = _SCHEME_START_RE.search(text, pos)
        if scheme is not None and (domain is None or scheme.start() <= domain[0]):
            start, end = scheme.start(), _URL_REST_RE.match(text, scheme.end()).end()
        elif domain is not None:
            start, end = domain[0], _TLD_PATH_RE.match(text, domain[1] + 1).end()
        else:
            return spans
        spans.append((start, end))
        pos = end


def compact(name: str) -> str:
    """Letters and digits only, case-folded: "Lingkar.co" and "LINGKAR CO" both give "lingkarco"."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def host_of(url: str | None) -> str | None:
    """The lower-case host of ``url`` without a leading ``www.``, or None."""
    if not url:
        return None
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def host_within(host: str | None, domain: str | None) -> bool:
    """True when ``host`` is ``domain`` or one of its subdomains (label-wise, so that
    ``partner.example.evil.test`` is not within ``partner.example``)."""
    if not host or not domain:
        return False
    domain = domain.lower().strip().rstrip(".")
    domain = domain[4:] if domain.startswith("www.") else domain
    return host == domain or host.endswith("." + domain)


def aliases(article: ArticleRef) -> set[str]:
    """Compact names that identify the article's publisher: its name and its site's domain."""
    names = set()
    for name in (article.publisher, *article.aliases):
        if name and len(compact(name)) >= 3:
            names.add(compact(name))
    host = host_of(article.url)
    if host:
        names.add(compact(host))
    return names


def alias_pattern(alias: str) -> regex.Pattern:
    """Matches ``alias`` written with any spacing or punctuation between its letters ("Lingkar.co",
    "LINGKAR CO"), as a whole name: not inside a longer word or a longer domain
    ("lingkar.co.evil.test" does not name lingkar.co)."""
    body = r"[\s.\-_]?".join(regex.escape(ch) for ch in alias)
    return regex.compile(
        rf"(?<![\p{{L}}\p{{N}}.])({body})(?![\p{{L}}\p{{N}}]|\.[\p{{L}}\p{{N}}])", regex.IGNORECASE
    )


def names_article(name: str, patterns: Sequence[regex.Pattern]) -> bool:
    return any(p.search(name) for p in patterns)


def _inside(ranges: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    """True when ``start..end`` lies in one of the sorted, disjoint ``ranges`` (``starts`` are their
    starts): a binary search, as a page may hold many quotations and many mentions."""
    i = bisect_right(starts, start) - 1
    return i >= 0 and end <= ranges[i][1]


def _normal(s: str) -> str:
    return " ".join(s.casefold().split())


@lru_cache(maxsize=16)
def credit_mentions(suspect_text: str) -> tuple[tuple[int, int, str, str], ...]:
    """Every place outside quotation marks that could credit someone: ``(start, end, name, reason)``.
    Depends on the suspect only, so a scan computes it once for all its candidate articles."""
    quotes = quoted_ranges(suspect_text)
    quote_starts = [a for a, _ in quotes]
    found = []
    for pattern, reason in (
        (CREDIT_PHRASE_RE, "credit line"),
        (REPORTED_RE, "reported by"),
        (BRACKET_RE, "dateline"),
    ):
        for m in list(pattern.finditer(suspect_text)):
            # "X reported": the mention is the name and the verb, not the word's lower-case head.
            start = m.start("name") if pattern is REPORTED_RE and not m.group("by") else m.start()
            if not _inside(quotes, quote_starts, start, m.end()):
                found.append((start, m.end(), m.group("name"), reason))
    for start, end in url_spans(suspect_text):
        if not _inside(quotes, quote_starts, start, end):
            found.append((start, end, suspect_text[start:end], "link in text"))
    return tuple(found)


@lru_cache(maxsize=4096)
def _alias_patterns(article: ArticleRef) -> tuple[regex.Pattern, ...]:
    return tuple(alias_pattern(a) for a in sorted(aliases(article)))


def has_required_credit(suspect_text: str, article: ArticleRef) -> bool:
    """True when the article needs no particular credit wording, or the suspect carries it
    (case, spacing and punctuation aside)."""
    if not article.required_credit:
        return True
    return compact(article.required_credit) in compact(suspect_text)


def find_credits(
    suspect_text: str, article: ArticleRef, source_text: str, links: Iterable[str] = ()
) -> list[Credit]:
    """Evidence in ``suspect_text`` (and its page's ``links``) that it credits ``article``."""
    names = _alias_patterns(article)
    if not names:
        return []
    source_normal = None
    copied: dict[str, bool] = {}  # a mention's normal form -> found in the source (a page may repeat one)
    article_host = host_of(article.url)
    credits: list[Credit] = []
    for start, end, name, reason in credit_mentions(suspect_text):
        if reason == "link in text":
            if not (article_host and host_within(host_of(name), article_host)):
                continue
        elif not names_article(name, names):
            continue
        if source_normal is None:
            source_normal = _normal(source_text)
        mention = _normal(suspect_text[start:end])
        if mention not in copied:
            copied[mention] = mention in source_normal
        if copied[mention]:
            continue  # copied together with the article, not added by the copier
        credits.append(Credit(suspect_text[start:end], start, end, reason))
    for link in links:
        if article_host and host_within(host_of(link), article_host):
            credits.append(Credit(link, -1, -1, "hyperlink"))

    # One piece of evidence per place: a URL inside a credit line is reported once, as the line.
    unique = {(c.start, c.end, c.text): c for c in credits}
    nested = _nested_spans({(c.start, c.end) for c in credits if c.start >= 0})
    return sorted(
        (c for c in unique.values() if (c.start, c.end) not in nested), key=lambda c: (c.start, c.end)
    )


def _nested_spans(spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The spans that lie inside another (different) span: one sweep in start order, longest first,
    so a page with many credits costs a sort, not a comparison of every pair."""
    nested, reach = set(), -1  # reach: the furthest end of the spans before this one
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if end <= reach:
            nested.add((start, end))
        reach = max(reach, end)
    return nested
