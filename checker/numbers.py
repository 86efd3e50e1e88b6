"""Shares as people read them, the same in the CLI, the alerts and the dashboard.

A share is printed as a whole percentage, except where rounding would hide what it measures: a
non-zero share that rounds to 0 is "<1%" (a copied paragraph inside a long text is a copy, not "0%"),
and a share short of the whole that rounds to 100 is ">99%" (an excerpt is not the whole text).
"""

from __future__ import annotations


def share(x: float | None) -> str:
    """``x`` (0..1) as "19%", "<1%" or ">99%"; "–" for None."""
    if x is None:
        return "–"
    shown = f"{x * 100:.0f}"
    if shown == "0" and x > 0:
        return "<1%"
    if shown == "100" and x < 1:
        return ">99%"
    return shown + "%"


def words_of(matched: int | None, total: int | None) -> str:
    """ " (120 of 1,920 words)" beside a share, or "" when the counts are unknown (older results)."""
    return f" ({matched:,} of {total:,} words)" if matched is not None and total else ""
