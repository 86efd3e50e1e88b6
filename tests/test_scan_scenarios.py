"""The seed scenarios end to end through the registry: verdicts, kinds, passages and offsets."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from checker.records import KINDS, VERDICTS

SCENARIOS = [
    "full-copy",
    "partial-copy",
    "light-edit",
    "credited-copy",
    "credited-by-link",
    "credited-to-other",
    "close-rewrite",
    "read-also-noise",
    "independent-report",
    "shared-quotes-only",
    "partner-copy",
    "unrelated",
    "flood-partial",
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_seed_scenario_verdict(seeded, seed_suspects, seed_articles, name) -> None:
    suspect = seed_suspects[name]
    result = seeded.scan(suspect["text"], suspect["url"])
    assert result.verdict == suspect["expect_verdict"], result.explanation
    if suspect["expect_article"]:
        assert result.matches[0].article.url == suspect["expect_article"]
    else:
        assert result.matches == ()
    for m in result.matches:
        assert m.kind in KINDS and m.verdict in VERDICTS
        assert 0 <= m.suspect_coverage <= 1 and 0 <= m.source_coverage <= 1 and 0 <= m.score <= 1


def test_kinds_of_the_seed_copies(seeded, seed_suspects) -> None:
    kinds = {
        n: seeded.scan(seed_suspects[n]["text"]).matches[0].kind
        for n in ("full-copy", "light-edit", "partial-copy", "close-rewrite")
    }
    assert kinds == {
        "full-copy": "verbatim",
        "light-edit": "near_copy",
        "partial-copy": "partial",
        "close-rewrite": "paraphrase",
    }


@pytest.mark.parametrize("name", ["partial-copy", "flood-partial"])
def test_partial_copy_passages_cover_the_copied_paragraphs(seeded, seed_suspects, name) -> None:
    suspect = seed_suspects[name]
    text = suspect["text"]
    first, last = suspect["copied_paragraphs"][0], suspect["copied_paragraphs"][-1]
    block = (text.index(first), text.index(last) + len(last))
    match = seeded.scan(text).matches[0]
    covered = set()
    for p in match.passages:
        covered.update(range(p.suspect_start, p.suspect_end))
    outside = [i for i in covered if not block[0] <= i < block[1]]
    assert len(outside) < 80
    inside = [i for i in range(*block) if not text[i].isspace()]
    missed = [i for i in inside if i not in covered]
    assert len(missed) <= 0.02 * len(inside)


def test_offsets_point_at_the_same_words_in_both_texts(seeded, seed_suspects, seed_articles) -> None:
    source = seed_articles[0]["text"]
    for name in ("full-copy", "partial-copy", "light-edit", "read-also-noise"):
        text = seed_suspects[name]["text"]
        for p in seeded.scan(text).matches[0].passages:
            a, b = text[p.suspect_start : p.suspect_end], source[p.source_start : p.source_end]
            assert a.split()[0].strip('“”"(').lower() == b.split()[0].strip('“”"(').lower()
            assert fuzz.ratio(a, b) / 100 >= p.similarity - 0.15


def test_quotes_inside_copied_narrative_stay_in_the_passage(seeded, seed_suspects, seed_articles) -> None:
    text = seed_suspects["full-copy"]["text"]
    quote = "Semua kerja sama akan mengikuti panduan"
    at = text.index(quote)
    match = seeded.scan(text).matches[0]
    assert any(p.suspect_start <= at < p.suspect_end for p in match.passages)


def test_shared_quotations_alone_are_not_reuse_but_copied_narrative_is(
    seeded, seed_suspects, seed_articles
) -> None:
    src = seed_articles[0]["text"]
    quote = src[src.index("“Semua kerja") : src.index("Dunia,”") + len("Dunia,”")]
    narrative = src[src.index("Pihaknya juga") : src.index("(WHO).") + 6]
    only_quote = f"Dalam jumpa pers, Retno menyampaikan {quote} kata dia kepada wartawan di Jakarta."
    assert seeded.scan(only_quote).verdict == "no_reuse"
    assert seeded.scan(f"{narrative}\n\n{only_quote}").verdict == "unattributed_reuse"


def test_no_reuse_for_empty_registry(registry, seed_suspects) -> None:
    assert registry.scan(seed_suspects["full-copy"]["text"]).verdict == "no_reuse"


def test_multiple_originals_each_get_a_match(seeded, seed_suspects) -> None:
    text = seed_suspects["partial-copy"]["text"] + "\n\n" + seed_suspects["flood-partial"]["text"]
    result = seeded.scan(text)
    assert len(result.matches) == 2
    assert result.verdict == "unattributed_reuse"
