"""Find direct quotations, as character ranges.

Every outlet covering a press conference carries the speaker's words, so text inside quotation marks is
not evidence of copying on its own (like iThenticate's "exclude quotes"). The matcher still aligns
quoted words, so a quotation inside a copied stretch of narrative stays part of the copied passage; it
only refuses passages whose words are (almost) all quoted.

A quotation is a *balanced* pair of marks on one line (a paragraph of extracted web text; a line of
re-wrapped text, where a quotation cut by the wrap is simply not recognised), at most
:data:`MAX_QUOTE_CHARS` long. Marks are matched left to right: an opening mark followed by another
opening mark before any closing one quotes nothing, and so does a closing mark with no opening one.
Text is never "quoted" because of a stray mark: in real pages a lone ``"`` once made 82% of a text
count as quoted and hid a 146-word copy.

Pairs: “…” „…“ „…” «…» »…« ‹…› 「…」 『…』 ‘…’ "…" and ”…” (some sites use ” at both ends). A mark
opens only where a word starts (not after a letter or digit, not before a space) and closes only where
a word ends, so apostrophes ("don’t", "’90s") are not quotes.
"""

from __future__ import annotations

import regex

# A quotation longer than this is more likely a stray mark than a quote: news quotes run to a few
# sentences (the longest in our seed corpus is ~300 characters).
MAX_QUOTE_CHARS = 1000

# opening mark -> closing marks
_PAIRS = {
    "\u201c": "\u201d\u201c",  # “…” (some CMSs close with a second “)
    "\u201e": "\u201c\u201d",  # „…“ and „…”
    "\u00ab": "\u00bb",  # «…»
    "\u00bb": "\u00ab",  # »…« (German)
    "\u2039": "\u203a",  # ‹…›
    "\u300c": "\u300d",  # 「…」
    "\u300e": "\u300f",  # 『…』
    "\u2018": "\u2019",  # ‘…’
    '"': '"',
    "\u201d": "\u201d",  # ”…” (some sites use the closing mark at both ends)
}
_ALL_MARKS = '"\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a\u300c\u300d\u300e\u300f\u2018\u2019'
_MARKS_RE = regex.compile(f"[{regex.escape(_ALL_MARKS)}]")
_WORD = regex.compile(r"[\p{L}\p{N}]")


_CLOSING = {c for closers in _PAIRS.values() for c in closers}
# Marks that also serve as apostrophes or at both ends of a quotation: their role depends on context.
# The others (« » ‹ › „ 「 」 『 』) say which end they are, spaced or not (French writes « ainsi »).
_AMBIGUOUS = set('"\u201c\u201d\u2018\u2019')


def _neighbours(text: str, at: int) -> tuple[str, str]:
    return text[at - 1] if at else " ", text[at + 1] if at + 1 < len(text) else " "


def _can_open(text: str, at: int) -> bool:
    """A mark opens when it starts a word: not after a letter or digit, not before a space."""
    before, after = _neighbours(text, at)
    mark = text[at]
    return mark in _PAIRS and (mark not in _AMBIGUOUS or (not _WORD.match(before) and not after.isspace()))


def _can_close(text: str, at: int) -> bool:
    """A mark closes when it ends a word: not before a letter or digit, not after a space."""
    before, after = _neighbours(text, at)
    mark = text[at]
    return mark in _CLOSING and (mark not in _AMBIGUOUS or (not _WORD.match(after) and not before.isspace()))


def _line_quotes(text: str, start: int, end: int) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    opener: int | None = None
    # The marks' places first, then the pairing: a pattern call does only the pattern's work (a line of
    # a million marks is 0.2 s of scanning and a second of pairing; a timeout on the scan, as the
    # linear-time tests put, should not count the pairing).
    for at in [m.start() for m in _MARKS_RE.finditer(text, start, end)]:
        mark = text[at]
        if opener is not None and mark in _PAIRS[text[opener]] and _can_close(text, at):
            if at - opener <= MAX_QUOTE_CHARS:
                found.append((opener, at + 1))
            opener = None
        elif _can_open(text, at):
            opener = at  # another opener before any closer: the first one was unbalanced
    return found


_BREAK_RE = regex.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines splits at


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint ``(start, end)`` ranges of ``text`` that lie inside quotation marks (marks
    included). Only lines holding a mark are looked at."""
    found: list[tuple[int, int]] = []
    if not any(m in text for m in _ALL_MARKS):  # str.__contains__ is a memchr: much faster than a regex scan
        return found
    mark = _MARKS_RE.search(text)
    while mark is not None:  # the first mark of a line, then the rest of that line
        after = _BREAK_RE.search(text, mark.start())
        end = after.start() if after else len(text)
        found.extend(_line_quotes(text, mark.start(), end))
        mark = _MARKS_RE.search(text, end)
    return found
