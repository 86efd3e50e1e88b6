from __future__ import annotations

from datetime import datetime

import pytest

from checker.attribution import find_credits, host_of, host_within
from checker.records import ArticleRef
from checker.verdict import judge, normalize_license

LINGKAR = ArticleRef(
    1,
    "Vaksin",
    "https://lingkar.co/vaksin-sputnik/",
    "Lingkar.co",
    partners=("mitra-lingkar.example",),
    published_at=datetime(2021, 7, 6),
)
SOURCE = "JAKARTA, Lingkar.co – Pemerintah Indonesia ... Sumber: ANTARA"
BODY = "Pemerintah Indonesia saat ini tengah melakukan finalisasi nota kesepahaman.\n\n"


@pytest.mark.parametrize(
    "credit",
    [
        "Sumber: Lingkar.co",
        "Source: lingkar.co",
        "Dikutip dari Lingkar.co",
        "Dilansir dari LINGKAR.CO",
        "Artikel ini telah tayang di https://lingkar.co/vaksin-sputnik/",
        "Baca selengkapnya di lingkar.co/vaksin-sputnik",
        "Courtesy of Lingkar.co",
        "via Lingkar.co",
        "according to Lingkar.co, the government",
        "Lingkar.co reported on Tuesday",
        "JAKARTA (Lingkar.co) - pemerintah",
    ],
)
def test_credits_naming_the_publisher_count(credit) -> None:
    credits = find_credits(BODY + credit, LINGKAR, SOURCE)
    assert credits, credit
    assert BODY.__len__() <= credits[0].start and credits[0].text in credit


@pytest.mark.parametrize(
    "text",
    [
        "Sumber: ANTARA",  # the wire agency, not the original's publisher
        "Source: Reuters",
        "“Saya membaca Lingkar.co setiap pagi,” kata Retno.",  # inside a quotation: speech, not credit
        "Sumber: lingkar.co.evil.test",
        "JAKARTA, Lingkar.co – Pemerintah Indonesia",  # the original's own dateline, copied with the text
    ],
)
def test_non_credits(text) -> None:
    assert find_credits(BODY + text, LINGKAR, SOURCE) == []


def test_hyperlinks_from_the_page_count() -> None:
    assert find_credits(BODY, LINGKAR, SOURCE, links=["https://www.lingkar.co/vaksin-sputnik/"])
    assert not find_credits(BODY, LINGKAR, SOURCE, links=["https://lingkar.co.example/x"])


@pytest.mark.parametrize(
    "host,domain,inside",
    [
        ("mitra-lingkar.example", "mitra-lingkar.example", True),
        ("news.mitra-lingkar.example", "mitra-lingkar.example", True),
        ("mitra-lingkar.example.evil.test", "mitra-lingkar.example", False),
        ("evilmitra-lingkar.example", "mitra-lingkar.example", False),
        (None, "mitra-lingkar.example", False),
    ],
)
def test_partner_domains_match_by_label(host, domain, inside) -> None:
    assert host_within(host, domain) is inside


def test_host_of_handles_odd_urls() -> None:
    assert host_of("https://WWW.Lingkar.co:443/a") == "lingkar.co"
    assert host_of("lingkar.co/a") == "lingkar.co"
    assert host_of("http://[::1") is None
    assert host_of("") is None


def test_judge_rules() -> None:
    credit = find_credits(BODY + "Sumber: Lingkar.co", LINGKAR, SOURCE)
    assert judge(LINGKAR, "verbatim", [], "https://www.mitra-lingkar.example/x")[0] == "licensed"
    assert (
        judge(LINGKAR, "verbatim", [], "https://mitra-lingkar.example.evil.test/x")[0] == "unattributed_reuse"
    )
    assert judge(LINGKAR, "verbatim", credit, "https://other.example")[0] == "attributed_reuse"
    cc_by = ArticleRef(2, "t", "https://lingkar.co/a", "Lingkar.co", license="cc-by-4.0")
    assert judge(cc_by, "partial", credit, None)[0] == "licensed"
    assert judge(cc_by, "partial", [], None)[0] == "unattributed_reuse"
    nd = ArticleRef(3, "t", "https://lingkar.co/a", "Lingkar.co", license="cc-by-nd-4.0")
    verdict, _, why = judge(nd, "near_copy", credit, None)
    assert verdict == "unattributed_reuse" and "forbids modified" in why
    assert judge(nd, "verbatim", credit, None)[0] == "licensed"
    verdict, _, why = judge(LINGKAR, "verbatim", [], None, datetime(2021, 7, 1))
    assert verdict == "no_reuse" and "before the registered article" in why


def test_licences_are_validated() -> None:
    assert normalize_license("CC BY 4.0") == "cc-by-4.0"
    assert normalize_license(None) == "all-rights-reserved"
    with pytest.raises(ValueError, match="unknown licence"):
        normalize_license("public-ish")


LEDGER = ArticleRef(
    9, "Port strike", "https://www.dailyledger.example/port-strike", "The Daily Ledger", aliases=("Ledger",)
)


@pytest.mark.parametrize(
    "credit,credited",
    [
        ("Source: The Daily Ledger", True),
        ("This article first appeared on dailyledger.example.", True),
        ("Originally published by The Daily Ledger.", True),
        ("The Daily Ledger reported on Monday that the port was closed.", True),
        ("According to the Ledger, the port was closed.", True),  # a known alias
        ("Republished from https://dailyledger.example/port-strike", True),
        ("Source: Reuters", False),
        ("Reuters reported that the Daily Ledger was wrong.", False),  # the credit goes to Reuters
        ("Source: The Daily Mirror", False),
        ('"I never read The Daily Ledger," the minister said.', False),
    ],
)
def test_english_credit_rules(credit, credited) -> None:
    body = "The port of Harbourville was closed on Monday after the strike.\n\n"
    assert bool(find_credits(body + credit, LEDGER, "The port of Harbourville ...")) is credited


@pytest.mark.parametrize(
    "credit,credited",
    [
        ("Disadur dari Lingkar.co", True),
        ("Demikian dilaporkan Lingkar.co pada Selasa.", True),
        ("Artikel ini sudah tayang di lingkar.co", True),
        ("Dikutip dari Kompas.com", False),
        ("Sumber: Antara, Lingkar", False),  # "Lingkar" alone is not an alias of Lingkar.co here
    ],
)
def test_indonesian_credit_rules(credit, credited) -> None:
    assert bool(find_credits(BODY + credit, LINGKAR, SOURCE)) is credited


def test_required_credit_text_is_a_licence_condition() -> None:
    from checker.attribution import has_required_credit

    art = ArticleRef(
        4,
        "t",
        "https://lingkar.co/a",
        "Lingkar.co",
        license="cc-by-4.0",
        required_credit="Sumber: Lingkar.co (CC BY 4.0)",
    )
    suspect = BODY + "Sumber: Lingkar.co"
    credits = find_credits(suspect, art, SOURCE)
    given = has_required_credit(suspect, art)
    verdict, licensed, why = judge(art, "partial", credits, None, required_credit_given=given)
    assert (verdict, licensed) == ("attributed_reuse", False) and "Sumber: Lingkar.co (CC BY 4.0)" in why
    suspect = BODY + "Sumber: Lingkar.co (CC BY 4.0)"
    assert has_required_credit(suspect, art)
    assert judge(art, "partial", find_credits(suspect, art, SOURCE), None)[0] == "licensed"


def test_cc0_permits_any_reuse_credited_or_not() -> None:
    cc0 = ArticleRef(
        6, "t", "https://lingkar.co/a", "Lingkar.co", license="cc0-1.0", published_at=datetime(2021, 7, 6)
    )
    credits = find_credits(BODY + "Sumber: Lingkar.co", cc0, SOURCE)
    for kind in ("verbatim", "near_copy", "partial", "paraphrase"):
        for given in (credits, []):
            verdict, licensed, why = judge(cc0, kind, given, "https://other.example/x")
            assert (verdict, licensed) == ("licensed", True) and "CC0" in why
    # The date rule still comes first: an earlier suspect is not a copy, whatever the licence.
    assert judge(cc0, "verbatim", [], None, datetime(2021, 7, 1))[0] == "no_reuse"


def test_cc_by_sa_needs_the_credit_and_says_share_alike_is_not_checked() -> None:
    sa = ArticleRef(7, "t", "https://lingkar.co/a", "Lingkar.co", license="cc-by-sa-4.0")
    credits = find_credits(BODY + "Sumber: Lingkar.co", sa, SOURCE)
    verdict, licensed, why = judge(sa, "near_copy", credits, None)
    assert (verdict, licensed) == ("licensed", True) and "share-alike" in why
    assert judge(sa, "near_copy", [], None)[:2] == ("unattributed_reuse", False)
    # A credit that is not the one the terms require is attributed reuse, not a licence.
    verdict, licensed, why = judge(sa, "verbatim", credits, None, required_credit_given=False)
    assert (verdict, licensed) == ("attributed_reuse", False) and "CC BY-SA 4.0" in why


def test_non_commercial_licence_with_credit_is_attributed_not_licensed() -> None:
    nc = ArticleRef(5, "t", "https://lingkar.co/a", "Lingkar.co", license="cc-by-nc-4.0")
    credits = find_credits(BODY + "Sumber: Lingkar.co", nc, SOURCE)
    verdict, _, why = judge(nc, "verbatim", credits, None)
    assert verdict == "attributed_reuse" and "non-commercial" in why
    assert judge(nc, "verbatim", [], None)[0] == "unattributed_reuse"


def test_credit_evidence_in_the_json_result(seeded, seed_suspects) -> None:
    text = seed_suspects["credited-copy"]["text"]
    match = seeded.scan(text).to_dict()["matches"][0]
    (credit,) = match["credits"]
    assert credit["text"] == "Sumber: Lingkar.co" and text[credit["start"] : credit["end"]] == credit["text"]
    assert match["attributed"] is True and match["verdict"] == "attributed_reuse" and match["explanation"]


def test_one_verdict_per_match_and_the_worst_overall(seeded, seed_suspects) -> None:
    # Credited copy of the seed + uncredited excerpt of the flood article.
    text = seed_suspects["credited-copy"]["text"] + "\n\n" + seed_suspects["flood-partial"]["text"]
    result = seeded.scan(text)
    verdicts = sorted(m.verdict for m in result.matches)
    assert verdicts == ["attributed_reuse", "unattributed_reuse"]
    assert result.verdict == "unattributed_reuse"


def test_a_suspect_published_first_is_not_a_copy(seeded, seed_suspects) -> None:
    result = seeded.scan(seed_suspects["full-copy"]["text"], published_at=datetime(2021, 7, 1))
    assert result.verdict == "no_reuse" and "before the registered article" in result.explanation
