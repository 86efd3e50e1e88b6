"""checker.phrases: which phrases of an article discovery sends to a search engine."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.boilerplate import boilerplate_ranges
from checker.normalize import normalize
from checker.phrases import MAX_WORDS, MIN_WORDS, clean_phrase, phrase_key, pick_phrases
from checker.quotes import quoted_ranges
from checker.words import words_of
from tests.conftest import REAL_PAGES, SEEDS, shared_corpus

NEWS = (
    "Pemerintah Kabupaten Pekalongan menetapkan status tanggap darurat banjir selama empat belas hari ke depan.\n\n"
    "Kepala Pelaksana Badan Penanggulangan Bencana Daerah Kabupaten Pekalongan, Sugeng Riyadi, mengatakan air "
    "merendam 3.412 rumah di tujuh desa pesisir sejak Sabtu malam.\n\n"
    "\u201cKami sudah mendirikan dapur umum dan posko kesehatan di setiap desa yang terdampak,\u201d kata Sugeng "
    "kepada wartawan di Kajen.\n\n"
    "Baca juga: Harga Cabai Rawit di Pasar Johar Tembus Rp80.000 per Kilogram\n\n"
    "Selain merendam permukiman, banjir rob juga memutus akses jalan kabupaten yang menghubungkan Kecamatan "
    "Wonokerto dengan Kecamatan Tirto sepanjang dua kilometer.\n\n"
    "Sekretaris Daerah Hendro Wibisono menyatakan tanggul laut darurat sepanjang delapan ratus meter akan "
    "dibangun bersama Balai Besar Wilayah Sungai Pemali Juana.\n"
)


def own_words(phrase: str, text: str) -> bool:
    """The phrase's words are the text's own content tokens (boilerplate dropped), contiguous, none of
    them inside a quotation, at one place at least."""
    doc = normalize(text)
    tokens, want = doc.tokens, words_of(phrase)
    return any(
        tokens[i : i + len(want)] == want and not doc.quoted[i : i + len(want)].any()
        for i in range(len(tokens) - len(want) + 1)
    )


def occurs(phrase: str, text: str) -> bool:
    """The phrase's words occur, in order and contiguous, among the text's words."""
    want, have = words_of(phrase), words_of(text)
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


def test_phrases_are_distinctive_article_text_spread_over_it() -> None:
    phrases = pick_phrases(NEWS, 3)
    assert len(phrases) == 3
    for p in phrases:
        assert MIN_WORDS <= len(words_of(p)) <= MAX_WORDS and occurs(p, NEWS)
        assert '"' not in p and "\u201c" not in p
    joined = " ".join(phrases)
    # Not the quotation, not the "Baca juga" line (boilerplate).
    assert "dapur umum" not in joined and "Cabai" not in joined
    # Spread: one from the start, one from the middle, one from the end.
    positions = [NEWS.index(p.split()[0] + " " + p.split()[1]) for p in phrases]
    assert positions == sorted(positions)
    assert positions[0] < len(NEWS) / 3 and positions[-1] > 2 * len(NEWS) / 3
    # Names and numbers weigh more than function words: the chosen phrases carry them.
    assert any("Sugeng" in p or "3.412" in p for p in phrases)


def test_same_text_same_phrases_and_keys_ignore_case_and_punctuation() -> None:
    assert pick_phrases(NEWS, 3) == pick_phrases(NEWS, 3)
    assert phrase_key("Kepala  Pelaksana, BPBD!") == phrase_key("kepala pelaksana bpbd")
    assert phrase_key("kepala pelaksana bpbd") != phrase_key("kepala pelaksana bpbd jateng")
    assert len(phrase_key("x")) == 64
    assert clean_phrase(' a \u201cb\u201d\n c "d" don\u2019t ') == "a b c d don\u2019t"


def test_quotations_stopwords_and_short_texts_give_nothing() -> None:
    assert pick_phrases("", 3) == [] and pick_phrases(NEWS, 0) == []
    assert pick_phrases("Banjir rob merendam rumah warga.", 3) == []  # under MIN_WORDS
    quote = "\u201cKami sudah mendirikan dapur umum dan posko kesehatan di setiap desa terdampak banjir rob,\u201d katanya."
    assert pick_phrases(quote, 3) == []
    stopwords = "dan yang itu juga dari untuk dengan ini akan pada tidak ada dalam oleh sudah saya. " * 3
    assert pick_phrases(stopwords, 3) == []


def test_seed_articles() -> None:
    for line in (SEEDS / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        text = article["text"]
        phrases = pick_phrases(text, 3)
        assert len(phrases) == 3, article["title"]
        for p in phrases:
            assert own_words(p, text) and MIN_WORDS <= len(words_of(p)) <= MAX_WORDS, p
        # Quotations and boilerplate lines are never where a phrase comes from.
        quoted = " ".join(text[s:e] for s, e in quoted_ranges(text))
        assert quoted and boilerplate_ranges(text)
        assert not any(occurs(p, quoted) for p in phrases)


def test_real_pages_corpus() -> None:
    """Texts of real news pages (../shared): every page with enough running text gives phrases that
    are its own words, quickly."""
    corpus = shared_corpus(REAL_PAGES, "index.json")
    from worker.extract import extract_page

    checked = 0
    for page in sorted(corpus.glob("page0[01]*.html")):
        text = extract_page(page.read_bytes().decode("utf-8", "replace")).main_text
        phrases = pick_phrases(text, 3)
        if len(words_of(text)) > 300:
            assert phrases, page.name
            checked += 1
        for p in phrases:
            assert own_words(p, text) and MIN_WORDS <= len(words_of(p)) <= MAX_WORDS, (page.name, p)
    assert checked >= 5


words = st.sampled_from(
    "banjir rob merendam rumah warga pesisir kabupaten pekalongan sejak sabtu "
    "malam dan yang di ke dari 3.412 Sugeng Riyadi mengatakan".split()
)
sentence = st.lists(words, min_size=1, max_size=25).map(lambda ws: " ".join(ws))
separators = st.sampled_from([". ", ".\n\n", ", ", " \u201c", "\u201d ", "\n", "! "])
texts = st.lists(st.tuples(sentence, separators), max_size=30).map(
    lambda parts: "".join(a + b for a, b in parts)
)


@settings(max_examples=150, deadline=None)
@given(texts, st.integers(min_value=0, max_value=6))
def test_phrase_properties(text: str, count: int) -> None:
    phrases = pick_phrases(text, count)
    assert phrases == pick_phrases(text, count)  # deterministic
    assert len(phrases) <= count
    assert len({phrase_key(p) for p in phrases}) == len(phrases)  # no phrase twice
    for p in phrases:
        assert p == clean_phrase(p) and '"' not in p and "\n" not in p
        assert MIN_WORDS <= len(words_of(p)) <= MAX_WORDS
        assert own_words(p, text), p


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=1, max_value=4))
def test_any_text_is_safe(text: str, count: int) -> None:
    phrases = pick_phrases(text, count)
    assert len(phrases) <= count
    for p in phrases:
        assert p and p == clean_phrase(p)
        assert phrase_key(p) == phrase_key(p.upper()) or p.upper().lower() != p.lower()
