"""Find direct quotations, as character ranges.

Every outlet covering a press conference carries the speaker's words, so text inside quotation marks is
not evidence of copying on its own (like iThenticate's "exclude quotes"). The matcher still aligns
quoted words, so a quotation inside a copied stretch of narrative stays part of the copied passage; it
only refuses passages whose matched words are (almost) all quoted.

Recognised pairs: “…” „…“ „…” «…» ‹…› 「…」 『…』 "…" and ‘…’ (the last only when the opening mark
does not sit inside a word, so apostrophes are not taken for quotes).
"""

from __future__ import annotations

import regex

# A quotation longer than this is more likely an unbalanced mark than a quote: news quotes run to a
# few sentences (the longest in our seed corpus is ~300 characters).
MAX_QUOTE_CHARS = 1500

_PAIRS = [
    ("\u201c", "\u201d\u201c"),  # “…” (some CMSs close with a second “)
    ("\u201e", "\u201c\u201d"),  # „…“ and „…”
    ("\u00ab", "\u00bb"),  # «…»
    ("\u00bb", "\u00ab"),  # »…« (German)
    ("\u2039", "\u203a"),  # ‹…›
    ("\u300c", "\u300d"),  # 「…」
    ("\u300e", "\u300f"),  # 『…』
    ('"', '"'),
]
_QUOTE_RES = [
    regex.compile(rf"{regex.escape(o)}[^{regex.escape(c)}{regex.escape(o) if o != c else ''}]{{1,{MAX_QUOTE_CHARS}}}[{regex.escape(c)}]")
    for o, c in _PAIRS
]
_SINGLE_RE = regex.compile(rf"(?<![\p{{L}}\p{{N}}])\u2018[^\u2018\u2019]{{1,{MAX_QUOTE_CHARS}}}\u2019(?![\p{{L}}\p{{N}}])")


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint ``(start, end)`` ranges of ``text`` that lie inside quotation marks."""
    found: list[tuple[int, int]] = []
    for pattern in [*_QUOTE_RES, _SINGLE_RE]:
        found.extend(m.span() for m in pattern.finditer(text))
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
