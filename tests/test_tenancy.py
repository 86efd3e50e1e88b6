"""Organisations never blind each other (issue 12, point 1): with 5,000 near-copies of one agency
paragraph in organisation A, organisation B's own article with that paragraph is found in B's scans,
first, on both index backends. Before the index was partitioned by organisation (checker.partition),
the paragraph's keys were stop keys counted over both organisations and B's scan found nothing.

Also: the default organisation's adoption of organisation-less articles moves them to its partition."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from checker.models import Article, Organisation
from checker.orgs import org_id_for
from checker.records import ArticleIn
from checker.registry import Registry
from checker.settings import Settings
from tests.conftest import REDIS_URL, redis_connection

COPIES = 5_000  # well past the stop-key limit (MAX_POSTINGS_PER_KEY = 200)


def words(rng: np.random.Generator, n: int, vocabulary: list[str]) -> str:
    return " ".join(vocabulary[i] for i in rng.integers(0, len(vocabulary), n))


def sentences(text: str, every: int = 12) -> str:
    w = text.split()
    return " ".join(" ".join(w[i : i + every]).capitalize() + "." for i in range(0, len(w), every))


@pytest.fixture(params=["memory", "redis"])
def settings(request, tmp_path):
    if request.param == "memory":
        yield Settings.from_env({}, data_dir=tmp_path / "data")
        return
    client = redis_connection()
    prefix = f"test-tenancy-{uuid.uuid4().hex}"
    yield Settings.from_env(
        {"CHECKER_INDEX_URL": REDIS_URL, "CHECKER_INDEX_PREFIX": prefix}, data_dir=tmp_path / "data"
    )
    keys = list(client.scan_iter(match=f"{prefix}:*", count=10_000))
    for i in range(0, len(keys), 1_000):
        client.unlink(*keys[i : i + 1_000])
    client.close()


def test_another_organisations_copies_never_hide_an_organisations_own_article(settings) -> None:
    rng = np.random.default_rng(7)
    vocabulary = ["".join(rng.choice(list("abcdefghijklmnoprstuvwy"), 7)) for _ in range(20_000)]
    agency = sentences(words(rng, 130, vocabulary))  # the paragraph every outlet prints
    registry = Registry(settings)
    try:
        a, b = org_id_for(registry.Session, "Wire Mirror"), org_id_for(registry.Session, "Lingkar")
        mirrors = [
            ArticleIn(title=f"Copy {i}", text=f"{agency}\n\n{sentences(words(rng, 40, vocabulary))}")
            for i in range(COPIES)
        ]
        registry.register_many(mirrors, org_id=a)
        own_text = (
            f"{sentences(words(rng, 60, vocabulary))}\n\n{agency}\n\n{sentences(words(rng, 60, vocabulary))}"
        )
        (own,) = registry.register_many([ArticleIn(title="Lingkar's story", text=own_text)], org_id=b)

        suspect = f"{sentences(words(rng, 30, vocabulary))}\n\n{agency}"
        found = registry.scan(suspect, org_id=b)
        assert [m.article.id for m in found.matches][:1] == [own.id], found.verdict
        assert all(m.article.org_id == b for m in found.matches)
        # In A's own partition the paragraph is in 5,000 articles: a stop key there, as it should be
        # (boilerplate for A); and A's scan never sees B's article.
        theirs = registry.scan(suspect, org_id=a)
        assert own.id not in {m.article.id for m in theirs.matches}
    finally:
        registry.close()


def test_adopted_articles_move_to_the_default_organisations_partition(settings, seed_suspects) -> None:
    from checker.demo import register_demo_articles
    from tests.conftest import SEEDS

    registry = Registry(settings)
    try:
        register_demo_articles(registry, SEEDS)  # no organisation: partition 0
        copy = seed_suspects["full-copy"]["text"]
        assert registry.scan(copy).matches  # every partition
        default = org_id_for(registry.Session, None)  # adopts them
        with registry.Session() as session:
            assert session.query(Article).filter(Article.org_id.is_(None)).count() == 0
            assert session.get(Organisation, default).name == "Default"
        found = registry.scan(copy, org_id=default)
        assert found.matches and all(m.article.org_id == default for m in found.matches)
        other = org_id_for(registry.Session, "Beta Daily")
        assert registry.scan(copy, org_id=other).verdict == "no_reuse"
    finally:
        registry.close()
