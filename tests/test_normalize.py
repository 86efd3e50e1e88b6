from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.boilerplate import boilerplate_ranges, line_kind
from checker.normalize import fold, normalize
from checker.quotes import quoted_ranges
from tests.conftest import SEEDS

# Text drawn from every Unicode category, plus the characters that stress normalisation: ligatures,
# full-width forms, the German sharp s, dotted capital I, combining marks, CJK and Thai.
tricky = st.sampled_from(list("ﬁﬂÅÅßİıＡｂ１½²é\u0301\u0928\u093f中文字ไทย“”\"«» \n\t.,-'’"))
texts = st.lists(
    st.one_of(st.characters(), tricky, st.sampled_from(["Baca juga: ", "Bagikan\n", "word "])), max_size=200
).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_offsets_map_back_to_the_same_characters(text: str) -> None:
    doc = normalize(text, drop_boilerplate=False)
    assert len(doc.tokens) == len(doc.starts) == len(doc.ends) == len(doc.quoted)
    prev_end = 0
    for token, start, end in zip(doc.tokens, doc.starts.tolist(), doc.ends.tolist()):
        assert prev_end <= start < end <= len(text)
        original = text[start:end]
        # The token is the normalised form of exactly these characters.
        assert token == fold(original) or token == "".join(
            ch for ch in fold(original) if ch.isalnum() or unicodedata.category(ch)[0] in "LNM"
        )
        prev_end = end


@settings(max_examples=200, deadline=None)
@given(texts)
def test_boilerplate_removal_keeps_offsets(text: str) -> None:
    full = normalize(text, drop_boilerplate=False)
    kept = normalize(text)
    spans = set(zip(full.starts.tolist(), full.ends.tolist()))
    # Dropping boilerplate only removes tokens; the rest keep their exact spans.
    assert set(zip(kept.starts.tolist(), kept.ends.tolist())) <= spans


def test_case_width_and_punctuation_do_not_matter() -> None:
    a = normalize("The MINISTER said: “Ｖａｃｃｉｎｅｓ for all!”")
    b = normalize("the minister said vaccines for all")
    assert a.tokens == b.tokens


def test_seed_boilerplate_is_dropped_but_body_kept() -> None:
    text = (SEEDS / "000_9f16820795ab45db.txt").read_text("utf-8")
    doc = normalize(text)
    joined = " ".join(doc.tokens)
    for gone in [
        "bagikan",
        "ijin dulu baru copas",
        "pemerintah mulai salurkan bst",
        "galuh sekar kinanthi",
        "sumber antara",
    ]:
        assert gone not in joined
    # The caption appears twice on the page: both copies are dropped.
    assert (
        "finalisasi nota kesepahaman mou kerja sama kesehatan untuk memproduksi vaksin covid 19 selasa"
        not in joined
    )
    for kept in ["retno menambahkan bahwa sejak awal pandemi", "menlu sergey juga menyambut baik inisiatif"]:
        assert kept in joined
    start = text.index("Retno menambahkan")
    i = int((doc.starts == start).nonzero()[0][0])
    assert doc.tokens[i] == "retno" and text[doc.starts[i] : doc.ends[i]] == "Retno"


def test_line_kinds() -> None:
    assert line_kind("  • Bagikan") == "share"
    assert line_kind("Baca juga:") == "read_also_label"
    assert line_kind("Baca Juga: Jokowi Minta Bansos Segera Tersalurkan") == "read_also"
    assert line_kind("Read more: Minister visits Moscow") == "read_also"
    assert line_kind("Editor: Galuh Sekar Kinanthi") == "staff"
    assert line_kind("Sumber: ANTARA") == "credit"
    assert line_kind("error: Ijin Dulu baru Copas BOSS !!") == "notice"
    assert line_kind("Retno menambahkan bahwa sejak awal pandemi kedua negara telah bekerja sama.") is None
    # A long paragraph that starts like a label is prose.
    long = "Sumber: " + "kata " * 30
    assert line_kind(long) is None


def test_read_also_label_takes_the_next_line_as_headline() -> None:
    text = "Paragraf satu tentang vaksin.\n\nBaca juga:\nJudul Artikel Lain Yang Ditautkan\n\nParagraf dua."
    ranges = boilerplate_ranges(text)
    dropped = "".join(text[a:b] for a, b in ranges)
    assert "Judul Artikel Lain" in dropped and "Paragraf dua" not in dropped


def test_scripts_without_spaces_become_character_tokens() -> None:
    doc = normalize("日本語のテキストです。ภาษาไทยไม่มีช่องว่าง English words")
    assert doc.tokens[:3] == ["日", "本", "語"]
    assert "english" in doc.tokens and "words" in doc.tokens
    assert doc.char_tokens
    assert not normalize("plain English text here").char_tokens


def test_quotations_are_marked() -> None:
    text = 'Dia berkata, “Semua kerja sama akan mengikuti panduan,” ujar Menlu. Lalu "kutipan lain" juga.'
    doc = normalize(text)
    quoted = [t for t, q in zip(doc.tokens, doc.quoted.tolist()) if q]
    assert quoted == ["semua", "kerja", "sama", "akan", "mengikuti", "panduan", "kutipan", "lain"]
    assert quoted_ranges("don’t ‘quote’ me") == [(6, 13)]


@pytest.mark.parametrize(
    ("text", "quotes"),
    [
        ('a "stray mark here and\nnext "line" ok', ['"line"']),  # a mark left open quotes nothing
        ("“unbalanced then “balanced one” end", ["“balanced one”"]),  # the later opener wins
        ('he said "no" and "yes"', ['"no"', '"yes"']),
        ("„Hallo“ und »Welt« sagte er", ["„Hallo“", "»Welt«"]),
        ("« Bonjour » dit-il", ["« Bonjour »"]),
        ("It’s the ’90s, don’t", []),  # apostrophes
        ("「日本語」です", ["「日本語」"]),
        ("“" + "word " * 300 + "”", []),  # longer than a quotation runs
    ],
)
def test_quotations_are_balanced_pairs_on_one_line(text, quotes) -> None:
    assert [text[a:b] for a, b in quoted_ranges(text)] == quotes
