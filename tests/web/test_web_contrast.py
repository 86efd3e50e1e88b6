"""WCAG AA contrast (at least 4.5:1 for text) of the dashboard's status and badge colours and chart
labels, computed from web/static/style.css itself (its hex colours and :root variables)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "web" / "static" / "style.css").read_text("utf-8")
AA = 4.5


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """``(selectors, declarations)`` of every rule outside @media blocks' nesting (flat parse)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decls = {}
        for part in body.split(";"):
            if ":" in part:
                name, value = part.split(":", 1)
                decls[name.strip()] = value.strip()
        out.append(([s.strip() for s in selectors.split(",")], decls))
    return out


RULES = rules(CSS)
ROOT = next(d for sel, d in RULES if ":root" in sel)


def prop(selector: str, name: str) -> str:
    """The value of ``name`` in the last rule naming ``selector``, var() and shorthand resolved."""
    values = [d[name] for sel, d in RULES if selector in sel and name in d]
    assert values, f"no {name} for {selector}"
    value = values[-1]
    var = re.fullmatch(r"var\((--[\w-]+)\)", value)
    return ROOT[var.group(1)] if var else value


def luminance(colour: str) -> float:
    hexa = colour.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", hexa), colour
    channels = [int(hexa[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    dark, light = sorted((luminance(a), luminance(b)))
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula():
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#b7791f", "#fff") == pytest.approx(3.64, abs=0.01)  # the old "queued" amber


CARD, PAGE = ROOT["--card"], ROOT["--bg"]

TEXT_ON = [
    # (what, text colour, background)
    ("queued status", prop(".status.queued", "color"), CARD),
    ("running status", prop(".status.running", "color"), CARD),
    ("failed status", prop(".status.failed", "color"), CARD),
    ("done status", prop(".status.done", "color"), CARD),
    ("failure reason", prop(".reason.failed", "color"), CARD),
    ("chart labels", prop(".chart .label", "fill"), CARD),
    ("muted text on the page", prop(".muted", "color"), PAGE),
    ("muted text on a table header", prop(".muted", "color"), prop("th", "background")),
    (
        "unattributed badge",
        prop(".badge.unattributed_reuse", "color"),
        prop(".badge.unattributed_reuse", "background"),
    ),
    (
        "attributed badge",
        prop(".badge.attributed_reuse", "color"),
        prop(".badge.attributed_reuse", "background"),
    ),
    ("licensed badge", prop(".badge.licensed", "color"), prop(".badge.licensed", "background")),
    ("plain badge", ROOT["--fg"], prop(".badge", "background")),
    ("count on an attributed bar", "#fff", prop(".mix .attributed_reuse", "background")),
    ("count on an unattributed bar", "#fff", prop(".mix .unattributed_reuse", "background")),
    ("count on a licensed bar", "#fff", prop(".mix .licensed", "background")),
    ("current nav link", prop("header.top nav a[aria-current]", "color"), prop("header.top", "background")),
]


@pytest.mark.parametrize("what, fg, bg", TEXT_ON, ids=[t[0] for t in TEXT_ON])
def test_text_colours_meet_wcag_aa(what, fg, bg):
    assert contrast(fg, bg) >= AA, f"{what}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"
