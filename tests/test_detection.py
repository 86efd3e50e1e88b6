"""Detection properties: the verbatim guarantee, copies wherever they sit, reworded copies as one
passage, stray quotation marks and NUL characters, candidate evidence."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checker.candidates import rank_candidates
from checker.fingerprint import DEFAULT_SCHEME, fingerprint
from checker.index import Hits
from checker.index_memory import MemoryIndex
from checker.matcher import IndexedArticle, scan_text
from checker.normalize import normalize
from checker.records import ArticleRef
from checker.thresholds import DEFAULT_MATCH_CONFIG

# -- random articles -------------------------------------------------------------------------------------
SYLLABLES = ["ka", "ri", "mo", "tu", "le", "sa", "po", "ne", "di", "gu", "ba", "ve", "lo", "ma", "zi", "ru"]
FUNCTION_WORDS = ["dan", "yang", "di", "ke", "dari", "untuk", "the", "of", "and", "to", "in", "with"]


def vocabulary(rng: np.random.Generator, size: int = 3000) -> list[str]:
    words = {"".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5)))) for _ in range(size * 2)}
    return sorted(words)[:size]


VOCAB = vocabulary(np.random.default_rng(1))


def article_text(rng: np.random.Generator, vocab: list[str], sentences: int) -> str:
    """Paragraphs of 2-4 sentences of 8-25 words; a third of the words are function words."""
    paragraphs, current = [], []
    for _ in range(sentences):
        n = int(rng.integers(8, 26))
        words = [
            str(rng.choice(FUNCTION_WORDS)) if rng.random() < 0.3 else str(rng.choice(vocab))
            for _ in range(n)
        ]
        current.append(" ".join(words).capitalize() + ".")
        if len(current) >= rng.integers(2, 5):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


class Library:
    """Registered articles in a memory index, scanned through the matcher (no database)."""

    def __repr__(self) -> str:
        return f"Library({len(self.texts)} articles)"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.index = MemoryIndex(DEFAULT_SCHEME)
        self.articles = {}
        for n, text in enumerate(texts, 1):
            ref = ArticleRef(id=n, title=f"article {n}", url=f"https://news.example/{n}", publisher="News")
            self.articles[n] = IndexedArticle.build(ref, text)
            self.index.add([(n, fingerprint(self.articles[n].profile.doc).keys)])
        self.index.save()

    def scan(self, text: str):
        return scan_text(text, self.index, lambda ids: [self.articles[i] for i in ids])


def covered(ranges: list[tuple[int, int]], start: int, end: int, text: str) -> bool:
    """Every word character of ``text[start:end]`` lies inside one of ``ranges``."""
    inside = np.zeros(len(text), dtype=bool)
    for a, b in ranges:
        inside[a:b] = True
    return all(inside[i] for i in range(start, end) if text[i].isalnum())


@pytest.fixture(scope="module")
def library() -> Library:
    rng = np.random.default_rng(2026)
    lib = Library([article_text(rng, VOCAB, int(rng.integers(15, 40))) for _ in range(60)])
    return lib


@settings(
    max_examples=int(os.environ.get("GUARANTEE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    article=st.integers(0, 10**6),
    length=st.integers(0, 10**6),
    first=st.integers(0, 10**6),
    filler_seed=st.integers(0, 2**32 - 1),
    glue=st.tuples(st.sampled_from([" ", "\n\n", ", "]), st.sampled_from([" ", "\n\n", ". "])),
    extra=st.lists(st.integers(0, 10**6), max_size=3),
    order_seed=st.integers(0, 2**32 - 1),
)
def test_verbatim_guarantee(library, article, length, first, filler_seed, glue, extra, order_seed) -> None:
    """Any run of min_passage_words or more words copied verbatim from a registered article is
    reported, with offsets on both sides, wherever it sits in the suspect and whatever surrounds it:
    new text before and after (cut mid-sentence or not), other copied paragraphs of the same article
    in any order. (Draws are plain integers mapped onto the article, so every example is valid.)"""
    lib, texts, vocab = library, library.texts, VOCAB
    source_id = article % len(texts) + 1
    source = texts[source_id - 1]
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", source)]
    low = DEFAULT_MATCH_CONFIG.min_passage_words
    length = low + length % (min(60, len(words)) - low + 1)
    first = first % (len(words) - length + 1)
    run_start, run_end = words[first][0], words[first + length - 1][1]
    run = source[run_start:run_end]
    rng = np.random.default_rng(filler_seed)
    before = article_text(rng, vocab, int(rng.integers(0, 4)))
    after = article_text(rng, vocab, int(rng.integers(0, 4)))
    block = f"{before}{glue[0]}{run}{glue[1]}{after}"
    others = [p for p in source.split("\n\n") if run not in p and p not in run]
    copied = sorted({others[i % len(others)] for i in extra}) if others else []
    paragraphs = [block, *copied]
    np.random.default_rng(order_seed).shuffle(paragraphs)
    suspect = "\n\n".join(paragraphs)
    at = suspect.index(block) + len(before) + len(glue[0])
    assert suspect[at : at + len(run)] == run

    doc = normalize(suspect)
    inside = np.flatnonzero((doc.starts >= at) & (doc.ends <= at + len(run)))
    # The guarantee is about content words: a word left alone on a line can be boilerplate ("Untuk",
    # "Share"), and a run cut there may hold fewer than the minimum.
    assume(len(inside) >= DEFAULT_MATCH_CONFIG.min_passage_words)

    result = lib.scan(suspect)
    match = next((m for m in result.matches if m.article.id == source_id), None)
    assert match is not None, f"the copied run of {length} words was not found"
    # The run's content words must be inside the match's passages in the suspect, and at their own
    # place in the article. A word at either end of the run may instead continue an adjacent copied
    # passage that the article also follows with that word ("... in maporu. Di" in both texts): it is
    # reported, mapped there.
    offset = run_start - at
    for n, t in enumerate(inside.tolist()):
        start, end = int(doc.starts[t]), int(doc.ends[t])
        assert covered([(p.suspect_start, p.suspect_end) for p in match.passages], start, end, suspect)
        if 0 < n < len(inside) - 1:
            assert covered(
                [(p.source_start, p.source_end) for p in match.passages], start + offset, end + offset, source
            )
    assert result.verdict == "unattributed_reuse"


SEED_PARAGRAPHS = ("Kunjungan tersebut", "Menlu Sergey juga")
FILLER = (
    "Pemerintah kota mengumumkan jadwal baru untuk pasar malam di alun-alun. Warga diminta datang lebih "
    "awal karena tempat parkir terbatas."
)


def seed_paragraph(text: str, start: str) -> str:
    at = text.index(start)
    return text[at : text.index("\n", at)]


@pytest.mark.parametrize("layout", ["first", "second", "in order", "reversed", "between new text"])
def test_two_short_seed_paragraphs_are_found_whatever_their_neighbours(seeded, seed_articles, layout) -> None:
    """The case from issue 8: two verbatim paragraphs of the seed (25 and 28 words) were missed
    depending on their order."""
    original = seed_articles[0]["text"]
    p1, p2 = (seed_paragraph(original, s) for s in SEED_PARAGRAPHS)
    copied = {
        "first": [p1],
        "second": [p2],
        "in order": [p1, p2],
        "reversed": [p2, p1],
        "between new text": [p1, p2],
    }[layout]
    parts = [FILLER, p1, FILLER, p2, FILLER] if layout == "between new text" else copied
    text = "\n\n".join(parts)
    result = seeded.scan(text)
    assert result.verdict == "unattributed_reuse"
    match = result.matches[0]
    assert match.article.url == seed_articles[0]["url"]
    for paragraph in copied:
        at = text.index(paragraph)
        assert covered(
            [(p.suspect_start, p.suspect_end) for p in match.passages], at, at + len(paragraph), text
        )
    assert len(match.passages) == len(copied)  # one passage per copied paragraph


def test_a_stray_quotation_mark_does_not_hide_a_copy(seeded, seed_articles) -> None:
    original = seed_articles[0]["text"]
    copied = "\n\n".join(seed_paragraph(original, s) for s in SEED_PARAGRAPHS)
    text = f'Catatan redaksi: kutipan "tanpa penutup di sini.\n\n{copied}\n\nAkhir "tulisan.'
    result = seeded.scan(text)
    assert result.verdict == "unattributed_reuse"
    assert sum(p.suspect_end - p.suspect_start for p in result.matches[0].passages) >= 0.9 * len(copied)


def test_stray_nul_characters_are_scanned_with_offsets_into_the_original(seeded, seed_articles) -> None:
    original = seed_articles[0]["text"]
    copied = "\n\n".join(seed_paragraph(original, s) for s in SEED_PARAGRAPHS)
    text = "\x00Berita hari ini\x00\n\n" + copied.replace("tersebut", "tersebut\x00", 1) + "\x00"
    result = seeded.scan(text)
    assert result.verdict == "unattributed_reuse"
    first = result.matches[0].passages[0]
    assert text[first.suspect_start : first.suspect_start + 18] == "Kunjungan tersebut"
    assert original[first.source_start : first.source_start + 18] == "Kunjungan tersebut"


ENGLISH_SOURCE = (
    "The city council approved a new budget on Tuesday that doubles spending on public libraries. "
    "Council members said the money will pay for longer opening hours and new computers in every branch. "
    "The mayor, who proposed the plan in March, called the vote a victory for families across the city. "
    "Critics argued that the council should have spent the money on repairing roads and bridges instead. "
    "The budget also sets aside two million dollars for a reading program in primary schools. "
    "Library staff will receive training to help older residents use online services."
)
ENGLISH_REWORDED = (
    "On Tuesday the municipal council passed a fresh budget which doubles the money spent on the city's "
    "public libraries. According to council members, the funds will cover extended opening hours and new "
    "computers at each branch. The mayor, who put forward the proposal in March, described the vote as a "
    "win for families throughout the city. Opponents said the council ought to have used the money to "
    "repair bridges and roads. Two million dollars of the budget are also reserved for a reading programme "
    "in primary schools. Staff at the libraries will be trained to help elderly residents use services online."
)
ENGLISH_INDEPENDENT = (
    "Libraries across the city will stay open longer next year. The council vote on Tuesday ended months "
    "of debate, with the mayor's allies in the majority. Road repairs, which opponents wanted funded first, "
    "remain on hold. Parents we spoke to outside the central branch welcomed the news, and teachers hope the "
    "school reading scheme will start in the autumn."
)


def test_a_reworded_copy_is_one_paraphrase_passage_and_an_independent_report_is_not_reuse() -> None:
    lib = Library([ENGLISH_SOURCE])
    result = lib.scan(ENGLISH_REWORDED)
    assert result.verdict == "unattributed_reuse"
    (match,) = result.matches
    assert match.kind == "paraphrase"
    assert len(match.passages) == 1
    assert match.suspect_coverage > 0.9 and match.source_coverage > 0.9
    assert lib.scan(ENGLISH_INDEPENDENT).verdict == "no_reuse"


def test_reordered_paragraphs_are_separate_passages_in_suspect_order() -> None:
    rng = np.random.default_rng(5)
    vocab = vocabulary(rng)
    paragraphs = [
        " ".join(" ".join(rng.choice(vocab, size=15)).capitalize() + "." for _ in range(3)) for _ in range(4)
    ]
    source = "\n\n".join(paragraphs)
    suspect = "\n\n".join(reversed(paragraphs))
    lib = Library([source])
    (match,) = lib.scan(suspect).matches
    assert len(match.passages) == len(paragraphs)
    assert [p.suspect_start for p in match.passages] == sorted(p.suspect_start for p in match.passages)
    for p in match.passages:
        assert suspect[p.suspect_start : p.suspect_end] == source[p.source_start : p.source_end]


# -- candidate evidence ----------------------------------------------------------------------------------
def hits(pairs: list[tuple[int, int]]) -> Hits:
    ids, positions = zip(*pairs) if pairs else ((), ())
    return Hits(np.asarray(ids, dtype=np.int64), np.asarray(positions, dtype=np.int64))


def test_one_exact_key_makes_a_candidate_but_one_sentence_sketch_does_not() -> None:
    key_sentence = np.array([-1, -1, 0, 0, 5, 7, 8])  # two exact keys, then sketch keys of sentences
    ranked = rank_candidates(hits([(1, 0), (2, 2), (2, 3), (3, 4), (3, 5)]), key_sentence)
    # Article 2: two keys of one sentence. Article 3: sentences 5 and 7, two apart: supported.
    assert [(c.article_id, c.exact, c.sentences) for c in ranked] == [(3, 0, 2), (1, 1, 0)]


def test_sentence_hits_far_apart_are_chance() -> None:
    key_sentence = np.array([0, 10, 20, 30])
    assert rank_candidates(hits([(4, 0), (4, 1), (4, 2), (4, 3)]), key_sentence) == []


def test_candidates_are_ranked_by_evidence_and_bounded() -> None:
    key_sentence = np.array([-1] * 10)
    pairs = [(article, key) for article in range(1, 6) for key in range(article)]
    ranked = rank_candidates(hits(pairs), key_sentence)
    assert [c.article_id for c in ranked] == [5, 4, 3, 2, 1]
