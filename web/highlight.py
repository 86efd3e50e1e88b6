"""Render a text with its copied passages in ``<mark>``, each linked to its counterpart by anchors."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    anchor: str  # this mark's id
    target: str | None = None  # the id of the counterpart passage (in the other text)
    label: str = ""


def highlight(text: str, spans: list[Span]) -> Markup:
    """``text`` escaped, with each span wrapped in ``<mark id=anchor>`` followed by a link to its target.

    Overlapping spans (several matches of one scan can cover the same words) are clipped so each
    character is marked at most once."""
    parts: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        start, end = max(span.start, pos, 0), min(span.end, len(text))
        if end <= start:
            continue
        parts.append(str(escape(text[pos:start])))
        parts.append(f'<mark id="{escape(span.anchor)}">{escape(text[start:end])}</mark>')
        if span.target:
            parts.append(f'<a class="pair" href="#{escape(span.target)}" title="See the other side">'
                         f'{escape(span.label or "↔")}</a>')
        pos = end
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))


def excerpt(text: str | None, start: int, end: int) -> str:
    return (text or "")[max(0, start):max(0, end)]
