"""Match settings per organisation (checker.match_options): the defaults change nothing, and each setting
hides what it says, saying so in the result."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker import validate
from checker.errors import InputError
from checker.match_options import DEFAULT_OPTIONS, MatchOptions, describe, source_covers
from checker.models import Organisation
from checker.orgs import get_or_create_org, match_options, match_options_for, update_settings
from checker.quotes import quoted_ranges
from checker.registry import Registry
from tests.conftest import SEEDS, read_jsonl

ARTICLES = read_jsonl(SEEDS / "articles.jsonl")
SUSPECTS = {s["id"]: s for s in read_jsonl(SEEDS / "suspects.jsonl")}
VACCINE, FLOOD = ARTICLES[0], ARTICLES[1]


def paragraphs(article: dict) -> list[str]:
    return [p for p in article["text"].split("\n") if len(p.split()) > 15]


# One copied flood paragraph (32 words) and three copied vaccine paragraphs (about 60 words), among
# sentences of the suspect's own.
TWO_SOURCES = "\n\n".join(
    [
        "Our weekly round-up starts with the coast, where the water has not gone down since Sunday night.",
        paragraphs(FLOOD)[1],
        "Meanwhile in Jakarta, the talks on medicines went on behind closed doors, as they often do.",
        *paragraphs(VACCINE)[1:4],
        "We will follow both stories and report again next week, with pictures from our readers.",
    ]
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The seed articles, registered once for the module (scans only read)."""
    from checker.demo import register_demo_articles
    from checker.settings import Settings

    reg = Registry(Settings.from_env({}, data_dir=tmp_path_factory.mktemp("options") / "data"))
    ids = register_demo_articles(reg, SEEDS)
    reg.ids = ids
    yield reg
    reg.close()


def passages_of(result) -> dict[int, list[int]]:
    return {m.article.id: [p.words for p in m.passages] for m in result.matches}


# -- the defaults change nothing ----------------------------------------------------------------------------
@pytest.mark.parametrize("suspect", sorted(SUSPECTS))
def test_default_and_no_op_settings_give_the_same_result_as_none(seeded, suspect):
    """MatchOptions() is today's engine; so are settings that cannot hide anything here (the engine's own
    minimum, quotations excluded as always, a source no suspect is on). Byte for byte, JSON included."""
    text, url = SUSPECTS[suspect]["text"], SUSPECTS[suspect]["url"]
    plain = json.dumps(seeded.scan(text, url).to_dict(), sort_keys=True)
    for options in (
        DEFAULT_OPTIONS,
        MatchOptions(min_match_words=15, excluded_sources=("elsewhere.example", "https://lingkar.co/x")),
    ):
        assert json.dumps(seeded.scan(text, url, options=options).to_dict(), sort_keys=True) == plain
    assert "excluded" not in json.loads(plain)


# -- min_match_words -------------------------------------------------------------------------------------
def test_a_minimum_hides_the_small_match_and_keeps_the_big_one(seeded):
    flood_id, vaccine_id = seeded.ids[1], seeded.ids[0]
    everything = passages_of(seeded.scan(TWO_SOURCES))
    assert set(everything) == {flood_id, vaccine_id}
    small, big = max(everything[flood_id]), max(everything[vaccine_id])
    assert small < 40 <= big, everything

    result = seeded.scan(TWO_SOURCES, options=MatchOptions(min_match_words=40))
    assert passages_of(result) == {vaccine_id: everything[vaccine_id]}
    [note] = result.excluded
    assert note.to_dict() == {
        "reason": "min_match_words",
        "article": note.article.to_dict(),
        "passages": 1,
        "words": small,
        "passage_words": [small],
        "minimum": 40,
        "whole_match": True,
    }
    assert note.article.id == flood_id
    assert f"({small} words) was hidden" in describe(note.to_dict()) and "minimum of 40 words" in describe(
        note.to_dict()
    )
    assert result.to_dict()["excluded"] == [note.to_dict()]


def test_a_minimum_drops_small_passages_from_a_match_and_recounts_it(seeded):
    """light-edit has a 60-word and a 171-word passage: at 100 the match keeps the large one, and its
    words and coverage are those of what is left."""
    text = SUSPECTS["light-edit"]["text"]
    full = seeded.scan(text).matches[0]
    sizes = sorted(p.words for p in full.passages)
    assert len(sizes) == 2 and sizes[0] < 100 <= sizes[1], sizes
    result = seeded.scan(text, options=MatchOptions(min_match_words=100))
    [m] = result.matches
    assert [p.words for p in m.passages] == [sizes[1]]
    assert m.words_matched == sizes[1] < full.words_matched
    assert m.suspect_coverage < full.suspect_coverage
    [note] = result.excluded
    assert (note.passage_words, note.whole_match) == ((sizes[0],), False)


def test_a_minimum_above_every_passage_leaves_no_reuse_and_says_why(seeded):
    result = seeded.scan(SUSPECTS["partial-copy"]["text"], options=MatchOptions(min_match_words=1000))
    assert result.verdict == "no_reuse" and not result.matches
    assert [n.whole_match for n in result.excluded] == [True]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 30), min_size=1, max_size=6), minimum=st.integers(15, 120))
def test_property_a_minimum_only_hides_and_accounts_for_what_it_hides(seeded, picks, minimum):
    """Whatever the copy and the minimum: every reported passage is at least the minimum, every
    passage reported without it is either reported or named in a note, and nothing new appears."""
    pool = paragraphs(VACCINE) + paragraphs(FLOOD)
    text = "\n\n".join(pool[i % len(pool)] for i in picks)
    before = passages_of(seeded.scan(text))
    result = seeded.scan(text, options=MatchOptions(min_match_words=minimum))
    after = passages_of(result)
    hidden = {n.article.id: list(n.passage_words) for n in result.excluded}
    assert all(w >= minimum for ws in after.values() for w in ws)
    for article_id, words in before.items():
        assert sorted(after.get(article_id, []) + hidden.get(article_id, [])) == sorted(words)
    assert set(after) <= set(before)


# -- quotations --------------------------------------------------------------------------------------------
def test_quotations_count_when_the_organisation_says_so(seeded):
    suspect = SUSPECTS["shared-quotes-only"]
    assert seeded.scan(suspect["text"], suspect["url"]).verdict == "no_reuse"
    result = seeded.scan(suspect["text"], suspect["url"], options=MatchOptions(exclude_quotes=False))
    assert result.verdict != "no_reuse"
    [m] = result.matches
    quotes = quoted_ranges(suspect["text"])
    for p in m.passages:  # what is reported now is built on the quotations the two texts share
        inside = sum(max(0, min(p.suspect_end, e) - max(p.suspect_start, s)) for s, e in quotes)
        assert inside >= 0.4 * (p.suspect_end - p.suspect_start)


# -- excluded sources --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "entry, url, covered",
    [
        ("partner.example", "https://partner.example/a", True),
        ("partner.example", "https://news.partner.example/a", True),
        ("partner.example", "http://WWW.Partner.Example/a", True),
        ("partner.example", "https://partner.example.evil.test/a", False),
        ("partner.example", "https://notpartner.example/a", False),
        ("https://mirror.example/synd", "https://mirror.example/synd/2021/a", True),
        ("https://mirror.example/synd", "http://www.mirror.example/synd", True),
        ("https://mirror.example/synd", "https://mirror.example/syndicate/a", False),
        ("https://mirror.example/synd", "https://mirror.example/news/a", False),
        ("https://mirror.example/synd", "https://sub.mirror.example/synd/a", False),
    ],
)
def test_what_an_excluded_source_covers(entry, url, covered):
    assert source_covers(validate.excluded_source(entry), url) is covered


def test_a_suspect_on_an_excluded_source_reports_no_match(seeded):
    suspect = SUSPECTS["full-copy"]  # on portal-copas.example
    options = MatchOptions(excluded_sources=("other.example", "portal-copas.example"))
    result = seeded.scan(suspect["text"], "https://berita.portal-copas.example/x", options=options)
    assert (result.verdict, result.matches) == ("no_reuse", ())
    assert "excluded source (portal-copas.example)" in result.explanation
    assert result.to_dict()["excluded"] == [
        {
            "reason": "excluded_source",
            "source": "portal-copas.example",
            "matches": 1,
            "articles": [article_ref(seeded, 0)],
        }
    ]
    # Elsewhere, the same text is reported as before.
    assert (
        seeded.scan(
            suspect["text"], suspect["url"], options=MatchOptions(excluded_sources=("other.example",))
        ).verdict
        == "unattributed_reuse"
    )


def article_ref(reg: Registry, n: int) -> dict:
    """The result's ``article`` of the ``n``-th seed article."""
    a = reg.get_article(reg.ids[n])
    return {"id": a.id, "title": a.title, "url": a.url, "publisher": a.publisher}


# -- checked input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected", [(None, None), ("", None), ("  ", None), ("15", 15), (" 40 ", 40), (200, 200)]
)
def test_minimum_match_words_accepted(value, expected):
    assert validate.minimum_match_words(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        (14, "below the engine's own minimum of 15 words"),
        ("3", "below the engine's own minimum"),
        (-1, "below"),
        ("ten", "whole number"),
        ("1e3", "whole number"),
        ("9" * 40, "whole number"),
        (True, "whole number"),
        (2.5, "whole number"),
        (10**9, "at most"),
        ("1\x00", "NUL"),
    ],
)
def test_minimum_match_words_refused_with_a_reason(value, message):
    with pytest.raises(InputError, match=message):
        validate.minimum_match_words(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Partner.Example.", "partner.example"),
        ("*.partner.example", "partner.example"),
        ("www.partner.example", "partner.example"),
        ("berita.co.id", "berita.co.id"),
        ("bücher.example", "bücher.example"),
        ("https://Mirror.Example/synd/?utm_source=x#top", "https://mirror.example/synd"),
        ("mirror.example/synd", "https://mirror.example/synd"),
    ],
)
def test_excluded_sources_are_normalised(value, expected):
    assert validate.excluded_source(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "localhost",
        "com",
        "exa mple.com",
        "partner.example:99999",
        "-bad.example",
        "a\x00b.example",
        "\ud800.example",
        "x" * 300 + ".example",
        "http://",
        "ftp://files.example/x",
        "<script>",
        "partner..example",
        42,
    ],
)
def test_hostile_excluded_sources_are_refused(value):
    with pytest.raises(InputError):
        validate.excluded_source(value)


def test_excluded_source_lists_are_bounded_and_deduplicated():
    assert validate.excluded_source_list(["a.example", "", "A.example", "b.example"]) == [
        "a.example",
        "b.example",
    ]
    with pytest.raises(InputError, match="at most 100"):
        validate.excluded_source_list([f"s{n}.example" for n in range(101)])
    with pytest.raises(InputError, match="entry 2"):
        validate.excluded_source_list(["a.example", "not a domain"])


@pytest.mark.parametrize(
    "zone, ok",
    [
        ("Asia/Jakarta", True),
        ("UTC", True),
        ("Mars/Base", False),
        ("../../etc/passwd", False),
        ("", False),
        ("Asia/Jakarta\x00", False),
    ],
)
def test_time_zones(zone, ok):
    if ok:
        assert validate.time_zone(zone) == zone
    else:
        with pytest.raises(InputError):
            validate.time_zone(zone)


# -- the organisation's settings, stored -------------------------------------------------------------------
def test_an_organisations_settings_are_what_its_scans_use(storage_settings):
    """Stored on the row (SQLite and PostgreSQL), read back as MatchOptions, applied by Registry.scan when
    no options are given; another organisation keeps the defaults."""
    from checker.demo import register_demo_articles

    with Registry(storage_settings) as reg:
        with reg.Session.begin() as session:
            org = get_or_create_org(session, "Options Org")
            other = get_or_create_org(session, "Other Org")
            assert match_options(org) == DEFAULT_OPTIONS
            changed = update_settings(
                org, min_match_words="40", excluded_sources=["Partner.Example"], exclude_quotes=False
            )
            assert changed == ["min_match_words", "exclude_quotes", "excluded_sources"]
            org_id, other_id = org.id, other.id
        with reg.Session() as session:
            assert match_options_for(session, org_id) == MatchOptions(40, False, ("partner.example",))
            assert match_options_for(session, other_id) == DEFAULT_OPTIONS
            assert match_options_for(session, None) == DEFAULT_OPTIONS
        register_demo_articles(reg, SEEDS, org_id=org_id)
        register_demo_articles(reg, SEEDS, org_id=other_id)
        assert [n.minimum for n in reg.scan(TWO_SOURCES, org_id=org_id).excluded] == [40]
        assert len(reg.scan(TWO_SOURCES, org_id=other_id).matches) == 2
        assert (
            reg.scan(SUSPECTS["full-copy"]["text"], "https://www.partner.example/a", org_id=org_id).matches
            == ()
        )


def test_bad_settings_change_nothing(settings):
    with Registry(settings) as reg, reg.Session.begin() as session:
        org = get_or_create_org(session, "Careful")
        update_settings(org, min_match_words=30, excluded_sources=["keep.example"], time_zone="Asia/Jakarta")
        for bad in (
            {"min_match_words": 3},
            {"excluded_sources": ["ok.example", "javascript:x"]},
            {"time_zone": "Nowhere/Land"},
            {"exclude_quotes": "maybe"},
            {"min_match_words": 50, "time_zone": "Nowhere/Land"},
        ):
            with pytest.raises(InputError):
                update_settings(org, **bad)
            assert (org.min_match_words, org.excluded_sources, org.time_zone, org.exclude_quotes) == (
                30,
                ["keep.example"],
                "Asia/Jakarta",
                True,
            )


def test_a_row_edited_past_the_checks_fails_the_scan_with_the_reason(settings):
    with Registry(settings) as reg:
        with reg.Session.begin() as session:
            org = get_or_create_org(session, "Hand Edited")
            org.min_match_words = 3  # below the floor: no form or command writes this
            org_id = org.id
        with pytest.raises(InputError, match="match settings of Hand Edited are invalid"):
            reg.scan(SUSPECTS["full-copy"]["text"], org_id=org_id)
        with reg.Session() as session:
            assert session.get(Organisation, org_id).min_match_words == 3
