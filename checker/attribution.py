"""Does the suspect credit the registered article? Credit lines, datelines, links, with offsets.

A credit counts only when it names *this* article's publisher or domain ("Sumber: ANTARA" on a copy of
Lingkar.co's story credits the wire agency, not Lingkar.co), lies outside quotation marks (a name
inside a quote is speech, not credit), and was added by the copier: a mention that the registered
article itself carries (its own dateline "JAKARTA, Lingkar.co –", a caption "(ANTARA/LINGKAR.CO)") was
copied along with the text and credits nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import regex

from checker.quotes import quoted_ranges
from checker.records import ArticleRef, Credit

# Phrases that introduce a credited source, Indonesian and English. The credited name follows.
_CREDIT_LEAD = (
    r"sumber|source|sources|dikutip\s+dari|mengutip|dilansir\s+dari|dilansir|melansir|disadur\s+dari|"
    r"artikel\s+ini\s+telah\s+tayang\s+di|artikel\s+ini\s+sudah\s+tayang\s+di|telah\s+tayang\s+di|"
    r"courtesy\s+of|via|according\s+to|originally\s+published\s+(?:in|on|at|by)|"
    r"this\s+article\s+(?:first\s+)?appeared\s+(?:in|on)|republished\s+from|reprinted\s+from|"
    r"credit|kredit|foto|photo"
)
CREDIT_PHRASE_RE = regex.compile(rf"\b(?:{_CREDIT_LEAD})\b\s*[:\-–—]?\s*(?P<name>[^\n]{{1,120}})", regex.IGNORECASE)
# "Reuters reported", "dilaporkan Kompas", "X melaporkan".
REPORTED_RE = regex.compile(
    r"(?P<name>[\p{Lu}][\w.\-]*(?:\s+[\p{Lu}][\w.\-]*){0,3})\s+(?:reported|reports|melaporkan|memberitakan)\b"
    r"|\b(?:dilaporkan|diberitakan)\s+(?:oleh\s+)?(?P<name>[\w.\-]+(?:\s+[\w.\-]+){0,3})",
)
# Agency datelines and bylines in brackets: "(ANTARA)", "(Lingkar.co)", "- Lingkar.co -".
BRACKET_RE = regex.compile(r"\((?P<name>[^()\n]{2,60})\)")
URL_RE = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/[^\s<>\"'()\[\]]*)?", regex.IGNORECASE
)


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
    return regex.compile(rf"(?<![\p{{L}}\p{{N}}.])({body})(?![\p{{L}}\p{{N}}]|\.[\p{{L}}\p{{N}}])", regex.IGNORECASE)


def names_article(name: str, patterns: list[regex.Pattern]) -> bool:
    return any(p.search(name) for p in patterns)


def _inside(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


def _normal(s: str) -> str:
    return " ".join(s.casefold().split())


@lru_cache(maxsize=16)
def credit_mentions(suspect_text: str) -> tuple[tuple[int, int, str, str], ...]:
    """Every place outside quotation marks that could credit someone: ``(start, end, name, reason)``.
    Depends on the suspect only, so a scan computes it once for all its candidate articles."""
    quotes = quoted_ranges(suspect_text)
    found = []
    for pattern, reason in ((CREDIT_PHRASE_RE, "credit line"), (REPORTED_RE, "reported by"), (BRACKET_RE, "dateline")):
        for m in pattern.finditer(suspect_text):
            if not _inside(quotes, m.start(), m.end()):
                found.append((m.start(), m.end(), m.group("name"), reason))
    for m in URL_RE.finditer(suspect_text):
        if not _inside(quotes, m.start(), m.end()):
            found.append((m.start(), m.end(), m.group(), "link in text"))
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
        if _normal(suspect_text[start:end]) in source_normal:
            continue  # copied together with the article, not added by the copier
        credits.append(Credit(suspect_text[start:end], start, end, reason))
    for link in links:
        if article_host and host_within(host_of(link), article_host):
            credits.append(Credit(link, -1, -1, "hyperlink"))

    # One piece of evidence per place: a URL inside a credit line is reported once, as the line.
    def nested(c: Credit) -> bool:
        return c.start >= 0 and any(
            o.start <= c.start and c.end <= o.end and (o.start, o.end) != (c.start, c.end) for o in credits
        )

    unique = {(c.start, c.end, c.text): c for c in credits if not nested(c)}
    return sorted(unique.values(), key=lambda c: (c.start, c.end))
