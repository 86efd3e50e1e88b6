"""Render a text with its copied passages in ``<mark>``, each linked to its counterpart by anchors."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    anchor: str  # this mark's id
    target: str | None = None  # the id of the counterpart passage (in the other text)
    label: str = ""  # the passage's number, shown as a badge at the start of the mark


def highlight(text: str, spans: list[Span]) -> Markup:
    """``text`` escaped, with each span wrapped in ``<mark id=anchor>``. A labelled span starts with its
    number as a badge (a link to its counterpart when it has a target, ``data-passage`` for the page's
    script), so a passage is found by eye and not by a superscript after its last word.

    Overlapping spans (several matches of one scan can cover the same words) are clipped so each
    character is marked at most once."""
    parts: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        start, end = max(span.start, pos, 0), min(span.end, len(text))
        if end <= start:
            continue
        parts.append(str(escape(text[pos:start])))
        badge = _badge(span) if span.label else ""
        parts.append(f'<mark id="{escape(span.anchor)}">{badge}{escape(text[start:end])}</mark>')
        pos = end
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))


def _badge(span: Span) -> str:
    """The passage number at the start of its mark: a link to the other side's copy of the passage."""
    label = escape(span.label)
    if not span.target:
        return f'<span class="passage-n" data-passage="{label}">{label}</span>'
    title = escape(_("Passage %(n)s: see it in the other text", n=span.label))
    return (
        f'<a class="pair passage-n" href="#{escape(span.target)}" data-passage="{label}" title="{title}">'
        f"{label}</a>"
    )


def marked_texts(suspect: str, original: str, passages) -> tuple[Markup, Markup]:
    """Both texts of a match with passage n (in the given order, from 1) marked as ``s<n>`` / ``o<n>``,
    each badge linking to its counterpart: the match page's and the evidence report's marks."""
    numbered = list(enumerate(passages, start=1))
    return (
        highlight(
            suspect, [Span(p.suspect_start, p.suspect_end, f"s{n}", f"o{n}", f"{n}") for n, p in numbered]
        ),
        highlight(
            original, [Span(p.source_start, p.source_end, f"o{n}", f"s{n}", f"{n}") for n, p in numbered]
        ),
    )


def excerpt(text: str | None, start: int, end: int) -> str:
    return (text or "")[max(0, start) : max(0, end)]
