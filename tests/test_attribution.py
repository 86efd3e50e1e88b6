from __future__ import annotations

from datetime import datetime

import pytest

from checker.attribution import find_credits, host_of, host_within
from checker.records import ArticleRef
from checker.verdict import judge, normalize_license

LINGKAR = ArticleRef(1, "Vaksin", "https://lingkar.co/vaksin-sputnik/", "Lingkar.co",
                     partners=("mitra-lingkar.example",), published_at=datetime(2021, 7, 6))
SOURCE = "JAKARTA, Lingkar.co – Pemerintah Indonesia ... Sumber: ANTARA"
BODY = "Pemerintah Indonesia saat ini tengah melakukan finalisasi nota kesepahaman.\n\n"


@pytest.mark.parametrize("credit", [
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
])
def test_credits_naming_the_publisher_count(credit) -> None:
    credits = find_credits(BODY + credit, LINGKAR, SOURCE)
    assert credits, credit
    assert BODY.__len__() <= credits[0].start and credits[0].text in credit


@pytest.mark.parametrize("text", [
    "Sumber: ANTARA",  # the wire agency, not the original's publisher
    "Source: Reuters",
    "“Saya membaca Lingkar.co setiap pagi,” kata Retno.",  # inside a quotation: speech, not credit
    "Sumber: lingkar.co.evil.test",
    "JAKARTA, Lingkar.co – Pemerintah Indonesia",  # the original's own dateline, copied with the text
])
def test_non_credits(text) -> None:
    assert find_credits(BODY + text, LINGKAR, SOURCE) == []


def test_hyperlinks_from_the_page_count() -> None:
    assert find_credits(BODY, LINGKAR, SOURCE, links=["https://www.lingkar.co/vaksin-sputnik/"])
    assert not find_credits(BODY, LINGKAR, SOURCE, links=["https://lingkar.co.example/x"])


@pytest.mark.parametrize("host,domain,inside", [
    ("mitra-lingkar.example", "mitra-lingkar.example", True),
    ("news.mitra-lingkar.example", "mitra-lingkar.example", True),
    ("mitra-lingkar.example.evil.test", "mitra-lingkar.example", False),
    ("evilmitra-lingkar.example", "mitra-lingkar.example", False),
    (None, "mitra-lingkar.example", False),
])
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
    assert judge(LINGKAR, "verbatim", [], "https://mitra-lingkar.example.evil.test/x")[0] == "unattributed_reuse"
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
