"""The PAN text-alignment measures (Potthast et al., "An Evaluation Framework for Plagiarism Detection",
COLING 2010), at character level, macro-averaged over cases, as the pan13-dev README defines them.

A *case* and a *detection* are both a pair of character ranges, one in the suspect and one in the source,
for one (suspect, source) document pair. ``|x|`` counts the characters of both ranges together.

- recall = mean over cases s of |s ∩ (union of detections overlapping s)| / |s|
- precision = mean over detections r of |r ∩ (union of cases overlapping r)| / |r|
- granularity = mean, over cases detected at all, of the number of detections overlapping the case
- plagdet = F1(precision, recall) / log2(1 + granularity)

A detection overlaps a case when their suspect ranges intersect and their source ranges intersect (both
in the same document pair). As in PAN's own evaluator, with neither cases nor detections precision and
recall are 1; with only one of them, both are 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Range = tuple[int, int]  # [start, end)


@dataclass(frozen=True, slots=True)
class Annotation:
    """A case or a detection: ``pair`` names the document pair, ranges are ``[start, end)``."""

    pair: tuple[str, str]
    suspect: Range
    source: Range

    @property
    def size(self) -> int:
        return (self.suspect[1] - self.suspect[0]) + (self.source[1] - self.source[0])


def _overlaps(a: Annotation, b: Annotation) -> bool:
    return (
        a.pair == b.pair
        and a.suspect[0] < b.suspect[1]
        and b.suspect[0] < a.suspect[1]
        and a.source[0] < b.source[1]
        and b.source[0] < a.source[1]
    )


def _covered(target: Range, ranges: Iterable[Range]) -> int:
    """Characters of ``target`` inside the union of ``ranges``."""
    clipped = sorted((max(s, target[0]), min(e, target[1])) for s, e in ranges)
    total, reach = 0, target[0]
    for s, e in clipped:
        s = max(s, reach)
        if e > s:
            total += e - s
            reach = e
    return total


def _share(a: Annotation, others: list[Annotation]) -> float:
    if a.size == 0:
        return 0.0
    inside = _covered(a.suspect, [o.suspect for o in others]) + _covered(a.source, [o.source for o in others])
    return inside / a.size


def _by_pair(items: list[Annotation]) -> dict[tuple[str, str], list[Annotation]]:
    out: dict[tuple[str, str], list[Annotation]] = {}
    for item in items:
        out.setdefault(item.pair, []).append(item)
    return out


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    granularity: float
    cases: int
    detections: int

    @property
    def plagdet(self) -> float:
        p, r = self.precision, self.recall
        if p + r == 0:
            return 0.0
        return (2 * p * r / (p + r)) / math.log2(1 + self.granularity)


def score(cases: list[Annotation], detections: list[Annotation]) -> Scores:
    if not cases and not detections:
        return Scores(1.0, 1.0, 1.0, 0, 0)
    if not cases or not detections:
        return Scores(0.0, 0.0, 1.0, len(cases), len(detections))
    cases_at, detections_at = _by_pair(cases), _by_pair(detections)
    recalls, counts = [], []
    for case in cases:
        overlapping = [d for d in detections_at.get(case.pair, ()) if _overlaps(case, d)]
        recalls.append(_share(case, overlapping))
        if overlapping:
            counts.append(len(overlapping))
    precisions = []
    for det in detections:
        overlapping = [c for c in cases_at.get(det.pair, ()) if _overlaps(det, c)]
        precisions.append(_share(det, overlapping))
    granularity = sum(counts) / len(counts) if counts else 1.0
    return Scores(
        sum(precisions) / len(precisions),
        sum(recalls) / len(recalls),
        granularity,
        len(cases),
        len(detections),
    )
