"""The match page leads to the copy and the numbers read the same everywhere (issue 10, points 3 and 4),
server side: the passage list and its counts, copied runs split in the original, the suspect's URL as a
link out, one definition of coverage on the list, the scan page, the match page and the API, and a small
share that never reads "0%".

The texts are made up (syllable words, one paragraph = 60 distinct words), long enough that two copied
paragraphs lie far apart; the engine finds each copied paragraph as one verbatim passage.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from checker.models import MatchRow, PassageRow
from checker.records import ArticleIn
from tests import test_cli
from tests.web.conftest import PASSWORD
from web import accounts
from web.coverage import share
from web.passages import passage_runs

SYLLABLES = ("ka ri mo ta ne su lo pa bi de gu ha ji ke lu ma no pe ra si tu wa ya ze").split()
PARAGRAPH_WORDS = 60
SUSPECT_URL = "https://copier.example/news/1"
run = test_cli.run  # the console script as a subprocess (fixture)


def paragraphs(seed: int, count: int) -> list[str]:
    """``count`` paragraphs of made-up words, five sentences of twelve words each."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = [
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(PARAGRAPH_WORDS)
        ]
        sentences = [" ".join(words[i : i + 12]) for i in range(0, PARAGRAPH_WORDS, 12)]
        out.append(" ".join(s[0].upper() + s[1:] + "." for s in sentences))
    return out


ORIGINAL = paragraphs(1, 30)
OTHER = paragraphs(2, 300)
# Two paragraphs of the original, far apart in a long suspect (and far apart in the original).
FAR_APART = "\n\n".join(OTHER[:4] + [ORIGINAL[3]] + OTHER[4:26] + [ORIGINAL[25]] + OTHER[26:30])
# One paragraph of the suspect made of two paragraphs of the original that are far apart there.
STITCHED = "\n\n".join(OTHER[:4] + [ORIGINAL[3] + " " + ORIGINAL[20]] + OTHER[4:30])
# One copied paragraph inside a very long text: 60 of about 18,000 words.
NEEDLE = "\n\n".join(OTHER[:150] + [ORIGINAL[7]] + OTHER[150:])


@dataclass
class Copies:
    org: int
    far: int  # match ids
    stitched: int
    needle: int
    token: str


def add_copies(app) -> Copies:
    """An organisation with an editor (editor@copies.example), the original, and a scan of each copy."""
    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:
        org = accounts.get_or_create_org(session, "Copies Watch").id
        user = accounts.create_user(
            session, email="editor@copies.example", password=PASSWORD, role="editor", org_id=org
        )
        token = accounts.create_token(session, user)[1]
    registry.register(
        ArticleIn(title="The original", text="\n\n".join(ORIGINAL), url="https://original.example/a"),
        org_id=org,
    )
    ids = []
    for text in (FAR_APART, STITCHED, NEEDLE):
        scan_id = registry.record_scan(
            text, SUSPECT_URL, registry.scan(text, SUSPECT_URL, org_id=org), org_id=org
        )
        with registry.Session() as session:
            ids.append(session.query(MatchRow).filter_by(scan_id=scan_id).one().id)
    return Copies(org, *ids, token)


@pytest.fixture
def copies(app) -> Copies:
    return add_copies(app)


@pytest.fixture
def reader(client, copies):
    client.post("/login", data={"email": "editor@copies.example", "password": PASSWORD})
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def passage_items(html: str) -> list[str]:
    return re.findall(r'<a class="passage-link" href="#s\d+" data-passage="\d+">(.*?)</a></li>', html, re.S)


def text_of(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


# -- the passage list ------------------------------------------------------------------------------------
def test_the_passage_list_numbers_each_passage_with_its_words_similarity_and_excerpt(reader, copies):
    html = page(reader, f"/matches/{copies.far}")
    items = [text_of(i) for i in passage_items(html)]
    assert len(items) == 2
    for n, (item, paragraph) in enumerate(zip(items, (ORIGINAL[3], ORIGINAL[25])), start=1):
        assert item.startswith(f"{n} Passage {n}: 60 words · 100% similar"), item
        first_words = " ".join(paragraph.split()[:5])
        assert f"“{first_words}" in item and item.endswith("…”"), item
    # Counted as two, in words: not "1 passage(s)".
    assert re.search(r'<dd id="passage-count">2 passages</dd>', html)
    assert "passage(s)" not in html
    # Far apart: two runs, no run note.
    assert 'class="run"' not in html
    # Both passages start with their number as a badge linking to the other side.
    for n in (1, 2):
        assert f'<mark id="s{n}"><a class="pair passage-n" href="#o{n}" data-passage="{n}"' in html
        assert f'<mark id="o{n}"><a class="pair passage-n" href="#s{n}" data-passage="{n}"' in html
    # The panes the script scrolls, and the controls it shows (hidden without it).
    assert 'id="suspect-text"' in html and 'id="original-text"' in html
    assert "data-passage-nav hidden" in html and 'data-passage-step="1"' in html


def test_a_run_stitched_from_two_places_of_the_original_is_shown_as_one(reader, copies):
    html = page(reader, f"/matches/{copies.stitched}")
    run = re.search(r'<li class="run">(.*?)</li>\s*</ol>\s*</li>', html, re.S)
    assert run, "no copied run in the list"
    assert "One copied run in the suspect, from 2 places in the original" in run.group(1)
    assert len(passage_items(run.group(1) + "</li>")) == 2
    assert '<dd id="passage-count">2 passages, in 1 copied run</dd>' in html


def _row(s0: int, s1: int, t0: int, t1: int) -> PassageRow:
    return PassageRow(
        suspect_start=s0, suspect_end=s1, source_start=t0, source_end=t1, similarity=1.0, words=3
    )


def test_runs_are_computed_from_the_offsets_on_both_sides():
    suspect = "aaa bbb. ccc ddd eee fff ggg hhh"
    source = "AAA BBB. CCC DDD EEE FFF, GGG"
    # 1 and 2 touch in the suspect (". ") and in the source: one run, from one place, split at an edit.
    runs = passage_runs([_row(9, 16, 9, 16), _row(0, 7, 0, 7)], suspect, source)
    assert [[i.n for i in r.items] for r in runs] == [[1, 2]] and runs[0].source_places == 1
    assert [i.row.suspect_start for i in runs[0].items] == [0, 9]  # numbered in the suspect's order
    # Touching in the suspect, far apart in the source: one run from two places.
    runs = passage_runs([_row(0, 7, 0, 7), _row(9, 16, 17, 24)], suspect, source)
    assert len(runs) == 1 and runs[0].source_places == 2
    # A word between them in the suspect: two runs; but one run of the original (", ") copied to two places.
    runs = passage_runs([_row(0, 3, 17, 24), _row(25, 32, 26, 29)], suspect, source)
    assert len(runs) == 2
    assert [i.same_source_run for r in runs for i in r.items] == [(2,), (1,)]


def test_the_suspect_url_links_out_without_telling_where_from(reader, copies, app):
    link = f'<a href="{SUSPECT_URL}" rel="noopener noreferrer" target="_blank">{SUSPECT_URL}</a>'
    html = page(reader, f"/matches/{copies.far}")
    assert link in html
    assert '<a href="https://original.example/a" rel="noopener noreferrer" target="_blank">' in html
    scan_id = re.search(r'href="/scans/(\d+)"', html).group(1)
    assert link in page(reader, f"/scans/{scan_id}")
    # A stored URL that is not http(s) stays text.
    registry = app.extensions["checker.registry"]
    with registry.Session.begin() as session:
        from checker.models import Scan

        session.execute(
            update(Scan).where(Scan.id == int(scan_id)).values(url="javascript:alert(1)", final_url=None)
        )
    html = page(reader, f"/matches/{copies.far}")
    assert "javascript:alert(1)" in html and 'href="javascript:' not in html


# -- one definition of coverage --------------------------------------------------------------------------
def coverage_lines(html: str) -> list[str]:
    """The coverage cells' texts: "6% of the suspect (120 of 1,920 words)", "7% of the original (...)"."""
    return [
        text_of(c)
        for c in re.findall(
            r'<span class="cov" title="[^"]*">(.*?)</span>\s*(?=<span class="cov"|</)', html, re.S
        )
    ]


def row_linking(html: str, href: str) -> str:
    """The table row of ``html`` that links ``href``."""
    return next(row for row in html.split("<tr")[1:] if f'href="{href}"' in row).split("</tr>")[0] + "</tr>"


def test_one_definition_of_coverage_on_the_list_the_scan_the_match_the_api_and_the_csv(reader, copies):
    api = reader.get(
        f"/api/matches/{copies.far}", headers={"Authorization": f"Bearer {copies.token}"}
    ).get_json()
    words, suspect_words, source_words = api["words_matched"], api["suspect_words"], api["source_words"]
    assert words == 2 * 60 and suspect_words == 32 * 60 and source_words == 30 * 60
    assert api["suspect_coverage"] == round(words / suspect_words, 4)
    assert api["source_coverage"] == round(words / source_words, 4)  # verbatim: as many words on each side
    assert [p["words"] for p in api["passages"]] == [60, 60]
    expected = [
        f"{share(words / suspect_words)} of the suspect ({words} of {suspect_words:,} words)",
        f"{share(words / source_words)} of the original ({words} of {source_words:,} words)",
    ]
    assert expected == ["6% of the suspect (120 of 1,920 words)", "7% of the original (120 of 1,800 words)"]

    match_html = page(reader, f"/matches/{copies.far}")
    scan_id = re.search(r'href="/scans/(\d+)"', match_html).group(1)
    list_html = page(reader, "/matches")
    list_row = re.search(rf'<tr><td><a href="/matches/{copies.far}">.*?</tr>', list_html, re.S).group(0)
    article_id = re.search(r'href="/articles/(\d+)"', match_html).group(1)
    for where, html in (
        ("match page", match_html),
        ("scan page", page(reader, f"/scans/{scan_id}")),
        ("matches list", list_row),
        ("article page", row_linking(page(reader, f"/articles/{article_id}"), f"/matches/{copies.far}")),
        ("overview", row_linking(page(reader, "/"), f"/matches/{copies.far}")),
    ):
        assert coverage_lines(html)[:2] == expected, where
    # The CSV export: the same shares and counts.
    rows = csv.DictReader(io.StringIO(page(reader, "/exports/matches.csv")))
    row = next(r for r in rows if r["match_id"] == str(copies.far))
    assert (float(row["suspect_coverage"]), float(row["source_coverage"])) == (
        round(words / suspect_words, 4),
        round(words / source_words, 4),
    )
    assert (row["words_matched"], row["suspect_words"], row["source_words"]) == (
        str(words),
        str(suspect_words),
        str(source_words),
    )
    # The scan's own result (the API's scan) carries the same counts.
    result = reader.get(
        f"/api/scans/{scan_id}", headers={"Authorization": f"Bearer {copies.token}"}
    ).get_json()
    m = result["result"]["matches"][0]
    assert (m["words_matched"], m["suspect_words"], m["source_words"]) == (words, suspect_words, source_words)
    assert [p["words"] for p in m["passages"]] == [60, 60]


def test_the_definitions_are_on_the_pages(reader, copies):
    match_html = page(reader, f"/matches/{copies.far}")
    scan_id = re.search(r'href="/scans/(\d+)"', match_html).group(1)
    for html in (match_html, page(reader, f"/scans/{scan_id}")):
        legend = re.search(r'<details class="legend card">(.*?)</details>', html, re.S).group(1)
        assert "words matched ÷ words in the suspect" in legend and "words in the original" in legend
    header = re.search(r'<th title="([^"]+)">Coverage</th>', page(reader, "/matches")).group(1)
    assert "words in the suspect" in header and "words in the original" in header


def test_a_copied_paragraph_in_a_long_text_is_not_zero_percent(reader, copies):
    api = reader.get(
        f"/api/matches/{copies.needle}", headers={"Authorization": f"Bearer {copies.token}"}
    ).get_json()
    assert api["words_matched"] == 60 and api["suspect_words"] == 301 * 60
    assert 0 < api["suspect_coverage"] < 0.005
    line = f"<1% of the suspect (60 of {301 * 60:,} words)"
    match_html = page(reader, f"/matches/{copies.needle}")
    scan_id = re.search(r'href="/scans/(\d+)"', match_html).group(1)
    for where, html in (
        ("match page", match_html),
        ("scan page", page(reader, f"/scans/{scan_id}")),
        ("matches list", page(reader, "/matches")),
    ):
        assert line in [c.replace("&lt;", "<") for c in coverage_lines(html)], where
        assert "0% of the suspect" not in text_of(html).replace("100% of", ""), where


def test_shares_round_without_hiding_a_copy():
    assert [share(x) for x in (0, 0.0001, 0.004, 0.005, 0.0051, 0.19, 0.994, 0.995, 0.9999, 1)] == [
        "0%",
        "<1%",
        "<1%",
        "<1%",
        "1%",
        "19%",
        "99%",
        ">99%",
        ">99%",
        "100%",
    ]


def test_matches_stored_before_words_were_counted_show_their_shares(reader, copies, app):
    """Rows written before the word counts existed (NULL columns) still render, shares only."""
    with app.extensions["checker.registry"].Session.begin() as session:
        session.execute(
            update(MatchRow)
            .where(MatchRow.id == copies.far)
            .values(words_matched=None, suspect_words=None, source_words=None)
        )
        session.execute(update(PassageRow).where(PassageRow.match_id == copies.far).values(words=None))
    html = page(reader, f"/matches/{copies.far}")
    assert coverage_lines(html)[:2] == ["6% of the suspect", "7% of the original"]
    assert "100% similar" in html and "60 words" not in html
    api = reader.get(
        f"/api/matches/{copies.far}", headers={"Authorization": f"Bearer {copies.token}"}
    ).get_json()
    assert api["words_matched"] is None and api["suspect_coverage"] == 0.0625


def test_the_cli_prints_the_same_shares_and_words(run, tmp_path):
    """The CLI, the dashboard and the alerts print shares by one rule (checker.numbers.share)."""
    original, suspect = tmp_path / "original.txt", tmp_path / "suspect.txt"
    original.write_text("\n\n".join(ORIGINAL), "utf-8")
    suspect.write_text(NEEDLE, "utf-8")
    run("register", str(original), "--title", "The original")
    _, out, _ = run("scan", str(suspect), "--url", SUSPECT_URL)
    assert f"<1% of the suspect (60 of {301 * 60:,} words)" in out
    assert f"3% of the article’s {30 * 60:,} words" in out
