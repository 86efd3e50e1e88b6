"""The similarity gates of reworded-passage alignment (checker.align), tested at the values the texts
themselves measure rather than at fixed numbers: a fragment pair less alike than
``min_fragment_similarity`` is never a passage as it stands (it is clustered again with a smaller gap),
and a passage found only by reworded sentences is kept only when its fragments reach
``min_reworded_similarity`` or it has ``sure_reworded_sentences`` seed sentences."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checker.align import (
    _accepted,
    align_passages,
    extend_seeds,
    fragment_similarity,
    reworded_passages,
    sentence_seeds,
    sentence_vectors,
    shared_lemmas,
    verbatim_runs,
)
from checker.fingerprint import DEFAULT_SCHEME
from checker.normalize import normalize
from checker.profile import Profile
from checker.thresholds import DEFAULT_MATCH_CONFIG
from tests.test_detection import ENGLISH_INDEPENDENT, ENGLISH_REWORDED, ENGLISH_SOURCE

CFG = DEFAULT_MATCH_CONFIG


def profile(text: str) -> Profile:
    doc = normalize(text)
    return Profile.build(doc, DEFAULT_SCHEME.shingle_size_for(doc))


@pytest.fixture(scope="module")
def pair() -> tuple[Profile, Profile]:
    return profile(ENGLISH_REWORDED), profile(ENGLISH_SOURCE)


def clusters(suspect: Profile, source: Profile, cfg=CFG):
    v = sentence_vectors(suspect, source, cfg, shared_lemmas(suspect, source))
    runs = verbatim_runs(suspect, source, cfg)
    seeds = sentence_seeds(suspect, source, v, runs, cfg)
    return seeds, v, extend_seeds(seeds, cfg.max_sentence_gap, suspect, source, v, cfg)


def test_every_cluster_reaches_the_fragment_similarity_it_reports(pair) -> None:
    suspect, source = pair
    _, v, found = clusters(suspect, source)
    assert found, "the reworded copy makes at least one cluster"
    for group, sim in found:
        i0, i1, j0, j1 = group[:, 0].min(), group[:, 0].max(), group[:, 1].min(), group[:, 1].max()
        assert sim == pytest.approx(fragment_similarity(suspect, source, v, i0, i1, j0, j1))
        assert sim >= CFG.min_fragment_similarity


def test_a_cluster_less_alike_than_the_gate_is_not_kept_as_it_stands(pair) -> None:
    suspect, source = pair
    seeds, v, found = clusters(suspect, source)
    (whole, sim), *_ = sorted(found, key=lambda c: -len(c[0]))
    stricter = replace(CFG, min_fragment_similarity=sim + 1e-6)
    again = extend_seeds(seeds, stricter.max_sentence_gap, suspect, source, v, stricter)
    as_before = {tuple(map(tuple, whole.tolist()))}
    assert not as_before & {tuple(map(tuple, g.tolist())) for g, _ in again}
    assert all(s >= stricter.min_fragment_similarity for _, s in again)
    # A gate no fragment pair can reach leaves nothing at all.
    impossible = replace(CFG, min_fragment_similarity=1.0 + 1e-6)
    assert extend_seeds(seeds, impossible.max_sentence_gap, suspect, source, v, impossible) == []


def test_a_reworded_only_passage_is_kept_at_its_fragments_similarity_and_not_above(pair) -> None:
    suspect, source = pair
    runs = verbatim_runs(suspect, source, CFG)
    spans = [s for s in reworded_passages(suspect, source, runs, CFG) if s.verbatim < CFG.min_passage_words]
    assert spans, "the reworded copy has a passage found by reworded sentences only"
    span = max(spans, key=lambda s: s.s1 - s.s0)
    sentences = len(span.seed_sentences())
    assert sentences >= CFG.min_reworded_sentences
    # Fewer seed sentences than "sure": the similarity gate decides, exactly at the measured value.
    unsure = replace(CFG, sure_reworded_sentences=sentences + 1)
    assert _accepted(span, suspect, replace(unsure, min_reworded_similarity=span.meaning))
    assert not _accepted(span, suspect, replace(unsure, min_reworded_similarity=span.meaning + 1e-6))
    # Enough seed sentences: kept however unlike the fragments (a long reworded stretch is evidence).
    sure = replace(CFG, sure_reworded_sentences=sentences, min_reworded_similarity=1.0 + 1e-6)
    assert _accepted(span, suspect, sure)
    # Too few seed sentences: rejected however alike.
    assert not _accepted(
        span, suspect, replace(CFG, min_reworded_sentences=sentences + 1, min_reworded_similarity=0.0)
    )


def test_the_gates_decide_what_align_passages_reports(pair) -> None:
    suspect, source = pair
    assert align_passages(suspect, source, CFG), "found with the default gates"
    closed = replace(CFG, min_fragment_similarity=1.0 + 1e-6, min_reworded_similarity=1.0 + 1e-6)
    assert align_passages(suspect, source, closed) == [], "no verbatim run, and every reworded gate shut"
    # An independent report of the same event stays below the gates with the defaults.
    assert align_passages(profile(ENGLISH_INDEPENDENT), source, CFG) == []
