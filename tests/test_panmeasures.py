"""The PAN measures on cases small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from bench.panmeasures import Annotation, score

PAIR = ("susp", "src")


def case(s0, s1, t0, t1, pair=PAIR) -> Annotation:
    return Annotation(pair, (s0, s1), (t0, t1))


def test_a_perfect_detection() -> None:
    s = score([case(0, 100, 0, 100)], [case(0, 100, 0, 100)])
    assert (s.precision, s.recall, s.granularity, s.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_half_a_case_found_in_two_pieces() -> None:
    # 50 of 100 characters on each side found, in two detections that lie inside the case.
    s = score([case(0, 100, 0, 100)], [case(0, 25, 0, 25), case(50, 75, 50, 75)])
    assert s.recall == pytest.approx(0.5) and s.precision == pytest.approx(1.0)
    assert s.granularity == 2
    f1 = 2 * 0.5 / 1.5
    assert s.plagdet == pytest.approx(f1 / math.log2(3))


def test_a_detection_twice_as_long_as_its_case() -> None:
    s = score([case(0, 100, 0, 100)], [case(0, 200, 0, 200)])
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1.0)


def test_overlap_needs_both_sides_and_the_same_pair() -> None:
    cases = [case(0, 100, 0, 100)]
    assert score(cases, [case(0, 100, 500, 600)]).recall == 0  # suspect side only
    assert score(cases, [case(0, 100, 0, 100, pair=("susp", "other"))]).recall == 0


def test_empty_sides() -> None:
    assert score([], []).plagdet == 1.0
    assert score([], [case(0, 10, 0, 10)]).plagdet == 0.0
    assert score([case(0, 10, 0, 10)], []).plagdet == 0.0
