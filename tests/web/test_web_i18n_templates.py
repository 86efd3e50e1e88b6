"""Every word a template shows goes through the translation catalogue: the text a template writes
outside Jinja expressions and ``{% trans %}`` blocks holds no English words. (The catalogue's own test,
test_web_i18n.py, checks that every extracted message is translated; this one finds the strings that
were never marked for extraction, which would stay English on an Indonesian page.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
# The PDF report is rendered for the reader's language too; plain-text letters are whole per-language files.
PAGES = sorted(p for p in TEMPLATES.rglob("*.html"))
# Words that are the same in every language: formats and digests.
SAME_IN_EVERY_LANGUAGE = {"CSV", "JSON", "JSONL", "SHA", "PDF", "API", "URL", "HTTP"}

STRIP = [
    re.compile(r"\{%-?\s*trans\b.*?endtrans\s*-?%\}", re.S),  # translated blocks
    re.compile(r"\{#.*?#\}", re.S),  # comments
    re.compile(r"\{\{.*?\}\}", re.S),  # expressions (gettext calls among them)
    re.compile(r"\{%.*?%\}", re.S),  # statements
    re.compile(r"<(code|pre|style|script)\b[^>]*>.*?</\1>", re.S),  # code, examples, styles
    re.compile(r"<[^>]*>", re.S),  # tags and their attributes (placeholders and titles are expressions)
    re.compile(r"&[a-z]+;|&#\d+;"),  # entities
]


# Attributes people read: tooltips, labels for screen readers, image descriptions. (Placeholders here are
# examples of data, "https://" or "partner.example", the same in every language.)
READ_ATTRIBUTES = re.compile(r"""\b(?:title|aria-label|alt)=("[^"]*"|'[^']*')""")


def shown_words(template: str) -> list[str]:
    """The words ``template`` writes as literal text, in its content and in attributes people read."""
    attributes = " ".join(m.group(1)[1:-1] for m in READ_ATTRIBUTES.finditer(template))
    words = []
    for text in (template, attributes):
        for pattern in STRIP:
            text = pattern.sub(" ", text)
        words += [w for w in re.findall(r"[^\W\d_][^\W\d_'’-]+", text) if w not in SAME_IN_EVERY_LANGUAGE]
    return words


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_show_no_untranslated_words(path):
    assert shown_words(path.read_text("utf-8")) == []


def test_the_check_finds_an_unmarked_string():
    assert shown_words("<dt>Evidence</dt><dd>{{ _('Evidence report') }} · SHA-256</dd>") == ["Evidence"]
    assert shown_words("{% trans %}Kept{% endtrans %}<a title=\"{{ _('x') }}\">{{ n }}</a>") == []
    assert shown_words('<input placeholder="https://" aria-label="Search">') == ["Search"]
