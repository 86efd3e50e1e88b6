"""Detection quality on a fixed sample of the PAN 2013 text-alignment development split (../shared):
every source registered, sample suspects scanned through the registry, scored with the official PAN
measures (``bench/panmeasures.py``). Floors sit below the full split's numbers (``python -m bench.pan``,
README) by a margin for the sample's size: a regression guard, not the measurement."""

from __future__ import annotations

import pytest

from bench.pan import load_pairs, read_text, register_sources
from bench.panmeasures import Annotation, score
from checker.registry import Registry
from tests.conftest import PAN13_DEV, shared_corpus

# Every 8th suspect: ~90 suspects, ~260 listed pairs of all five categories.
SAMPLE_EVERY = 8


@pytest.fixture(scope="module")
def pan_run(tmp_path_factory):
    from checker.settings import Settings

    corpus = shared_corpus(PAN13_DEV, "02-no-obfuscation/pairs")
    pairs = load_pairs(corpus)
    suspects = sorted({p.suspect for p in pairs})[::SAMPLE_EVERY]
    chosen = set(suspects)
    pairs = [p for p in pairs if p.suspect in chosen]
    settings = Settings.from_env({}, data_dir=tmp_path_factory.mktemp("pan"))
    with Registry(settings) as registry:
        names = sorted(path.name for path in (corpus / "src").glob("*.txt"))
        # One source is a binary stream (13% control characters): refused, as it should be.
        source_of, refused = register_sources(
            registry, names, {n: read_text(corpus / "src" / n) for n in names}
        )
        assert len(refused) <= 1, refused
        detections: dict[tuple[str, str], list[Annotation]] = {}
        for name in suspects:
            for m in registry.scan(read_text(corpus / "susp" / name)).matches:
                key = (name, source_of[m.article.id])
                detections[key] = [
                    Annotation(key, (p.suspect_start, p.suspect_end), (p.source_start, p.source_end))
                    for p in m.passages
                ]
    return pairs, detections


def scores(pairs, detections, category=None):
    chosen = [p for p in pairs if category in (None, p.category)]
    return score(
        [c for p in chosen for c in p.cases],
        [d for p in chosen for d in detections.get((p.suspect, p.source), [])],
    )


@pytest.mark.parametrize(
    ("category", "floor"),
    [
        (None, 0.80),
        ("verbatim", 0.93),
        ("random", 0.75),
        ("translation", 0.75),
        ("summary", 0.2),
    ],
)
def test_plagdet_floors(pan_run, category, floor) -> None:
    pairs, detections = pan_run
    s = scores(pairs, detections, category)
    assert s.plagdet >= floor, f"{category or 'overall'}: {s}"


def test_every_verbatim_pair_is_found_and_no_unrelated_pair_flagged(pan_run) -> None:
    pairs, detections = pan_run
    missed = [p for p in pairs if p.category == "verbatim" and not detections.get((p.suspect, p.source))]
    assert missed == []
    alarms = [p for p in pairs if not p.cases and detections.get((p.suspect, p.source))]
    assert len(alarms) <= 1, alarms
    assert scores(pairs, detections).precision >= 0.9
