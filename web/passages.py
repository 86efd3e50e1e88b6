"""The match page's passage list: each passage numbered, with its words, similarity and an excerpt,
and the copied runs it belongs to.

The engine reports a passage per aligned stretch. An editor thinks in copied runs: a paragraph of the
suspect stitched together from two places of the original is one copy "from 2 places in the original",
and a paragraph of the original cut in two and spread over the suspect is one run "copied to 2 places".
Two passages are one run on a side when only a few spaces or punctuation marks lie between them there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checker.models import PassageRow

# Two passages are contiguous in a text when at most this many characters, none of them part of a word,
# separate them (". ", ",\n", " – ").
MAX_JOIN_GAP = 5
_NO_WORD = re.compile(r"[\W_]*")
EXCERPT_CHARS = 90


@dataclass(frozen=True, slots=True)
class PassageItem:
    """One passage as the list shows it; ``n`` is its number in the suspect's order (1-based), the one
    its badges in both texts carry."""

    n: int
    row: PassageRow
    excerpt: str
    # Numbers of the other passages that continue the same run of the original while lying elsewhere
    # in the suspect (empty for most passages).
    same_source_run: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """Passages contiguous in the suspect (one copied run there), and from how many separate places of
    the original they come (1: contiguous in the original too, the aligner only split it at an edit)."""

    items: tuple[PassageItem, ...]
    source_places: int


def contiguous(text: str, end: int, start: int) -> bool:
    """True when ``text[end:start]`` is a short gap with no word character (or the spans touch/overlap)."""
    if start <= end:
        return True
    return start - end <= MAX_JOIN_GAP and _NO_WORD.fullmatch(text[end:start]) is not None


def snippet(text: str, start: int, end: int, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``text[start:end]`` on one line, cut at a word boundary near ``limit`` characters."""
    part = " ".join(text[max(0, start) : max(0, end)].split())
    if len(part) <= limit:
        return part
    cut = part.rfind(" ", 0, limit)
    return part[: cut if cut > limit // 2 else limit].rstrip(" .,;:") + "…"


def _chains(rows: list[PassageRow], text: str, start, end) -> list[list[int]]:
    """Indices of ``rows`` cut into chains of contiguous passages, in the order of ``start`` on one side."""
    order = sorted(range(len(rows)), key=lambda i: (start(rows[i]), end(rows[i])))
    chains: list[list[int]] = []
    for i in order:
        if chains and contiguous(text, end(rows[chains[-1][-1]]), start(rows[i])):
            chains[-1].append(i)
        else:
            chains.append([i])
    return chains


def passage_runs(rows: list[PassageRow], suspect_text: str, source_text: str) -> list[Run]:
    """The passages (in the suspect's order, numbered from 1) grouped into the suspect's copied runs."""
    rows = sorted(rows, key=lambda p: (p.suspect_start, p.suspect_end))
    in_suspect = _chains(rows, suspect_text, lambda p: p.suspect_start, lambda p: p.suspect_end)
    in_source = _chains(rows, source_text, lambda p: p.source_start, lambda p: p.source_end)
    suspect_run_of = {i: k for k, chain in enumerate(in_suspect) for i in chain}
    source_run_of = {i: k for k, chain in enumerate(in_source) for i in chain}
    # A run of the original whose passages lie in different runs of the suspect was split by the copier.
    elsewhere: dict[int, tuple[int, ...]] = {}
    for chain in in_source:
        if len({suspect_run_of[i] for i in chain}) > 1:
            for i in chain:
                elsewhere[i] = tuple(j + 1 for j in chain if suspect_run_of[j] != suspect_run_of[i])
    items = [
        PassageItem(i + 1, p, snippet(suspect_text, p.suspect_start, p.suspect_end), elsewhere.get(i, ()))
        for i, p in enumerate(rows)
    ]
    return [
        Run(tuple(items[i] for i in chain), len({source_run_of[i] for i in chain})) for chain in in_suspect
    ]
