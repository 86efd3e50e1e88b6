"""Align a suspect with one candidate article: which passages were reused, where, how closely.

Steps (token indices, then mapped to character offsets):

1. **Seeds**: every pair ``(i, j)`` where the suspect's shingle ``i`` equals the article's shingle ``j``
   (one sort and two ``searchsorted`` calls).
2. **Runs**: seeds on one diagonal ``j - i`` with small gaps form a run (a substituted word breaks the
   diagonal for ``k`` shingles but not its offset).
3. **Chains**: runs in suspect order are joined when they are close in both texts and nearly on the same
   diagonal (an inserted or dropped word shifts it by one); reordered sentences become separate passages.
4. **Extend** each passage edge token by token over exact matches, tolerating one substitution.
5. **Verify** with rapidfuzz's Indel similarity over the two token sequences and keep passages with
   enough matched words outside quotation marks (quotations shared by independent reports are not
   reuse on their own, but stay inside a copied stretch of narrative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from checker.config import DEFAULT_MATCH_CONFIG, MatchConfig
from checker.fingerprint import Fingerprint
from checker.index import expand_ranges
from checker.normalize import Document


@dataclass(frozen=True, slots=True)
class TokenPassage:
    """A reused passage in token indices (inclusive) with its verification figures."""

    suspect_first: int
    suspect_last: int
    source_first: int
    source_last: int
    matched: int  # suspect tokens covered by shared shingles
    matched_unquoted: int
    similarity: float

    @property
    def suspect_len(self) -> int:
        return self.suspect_last - self.suspect_first + 1


def find_seeds(suspect: np.ndarray, source: np.ndarray, max_repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)`` with ``suspect[i] == source[j]``, sorted by diagonal then ``i``."""
    if not len(suspect) or not len(source):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(source, kind="stable")
    ordered = source[order]
    lo = np.searchsorted(ordered, suspect, side="left")
    hi = np.searchsorted(ordered, suspect, side="right")
    hi = np.where(hi - lo > max_repeats, lo, hi)
    pos, i = expand_ranges(lo, hi)
    j = order[pos].astype(np.int64)
    by_diagonal = np.lexsort((i, j - i))
    return i[by_diagonal], j[by_diagonal]


def diagonal_runs(i: np.ndarray, j: np.ndarray, max_gap: int) -> np.ndarray:
    """Group seeds (sorted by diagonal, then ``i``) into runs: rows ``(i0, i1, j0, j1, seeds)``."""
    if not len(i):
        return np.empty((0, 5), dtype=np.int64)
    d = j - i
    breaks = np.flatnonzero((np.diff(d) != 0) | (np.diff(i) > max_gap)) + 1
    first = np.concatenate([[0], breaks])
    last = np.concatenate([breaks - 1, [len(i) - 1]])
    return np.stack([i[first], i[last], j[first], j[last], last - first + 1], axis=1)


def chain_runs(runs: np.ndarray, k: int, cfg: MatchConfig) -> list[list[int]]:
    """Join runs into chains; returns ``[i0, i1, j0, j1]`` shingle ranges. One pass over runs (not
    shingles), each run attached to the open chain it continues best, or opening a new one."""
    chains: list[list[int]] = []
    for i0, i1, j0, j1, _ in runs[np.argsort(runs[:, 0], kind="stable")].tolist():
        best, best_cost = None, None
        for chain in chains[-8:]:  # only recent chains can continue (runs arrive in suspect order)
            di, dj = i0 - chain[1], j0 - chain[3]
            if -k < di <= cfg.max_chain_gap and -k < dj <= cfg.max_chain_gap and abs(di - dj) <= cfg.max_chain_shift:
                cost = abs(di - dj) + max(di, 0)
                if best_cost is None or cost < best_cost:
                    best, best_cost = chain, cost
        if best is None:
            chains.append([i0, i1, j0, j1])
        else:
            best[1], best[3] = max(best[1], i1), max(best[3], j1)
    return chains


def _extend(a: list[int], b: list[int], a_pos: int, b_pos: int, step: int, limit: int) -> int:
    """How many tokens the alignment edge at ``(a_pos, b_pos)`` extends in direction ``step`` over
    equal tokens, stepping over one substituted token when the token after it matches again."""
    n, skipped, best = 0, False, 0
    while n < limit:
        ai, bi = a_pos + step * (n + 1), b_pos + step * (n + 1)
        if not (0 <= ai < len(a) and 0 <= bi < len(b)):
            break
        if a[ai] == b[bi]:
            n += 1
            best = n
        elif not skipped:
            skipped, n = True, n + 1
        else:
            break
    return best


def align_passages(
    suspect: Document,
    suspect_fp: Fingerprint,
    source: Document,
    source_fp: Fingerprint,
    cfg: MatchConfig = DEFAULT_MATCH_CONFIG,
) -> list[TokenPassage]:
    """Reused passages of ``source`` in ``suspect``, verified, in suspect order, not overlapping."""
    if suspect_fp.shingle_size != source_fp.shingle_size:
        return []
    k = suspect_fp.shingle_size
    i, j = find_seeds(suspect_fp.shingles, source_fp.shingles, cfg.max_seed_repeats)
    if not len(i):
        return []
    chains = chain_runs(diagonal_runs(i, j, cfg.max_run_gap), k, cfg)
    # Words covered by at least one shared shingle, for the matched-word counts.
    covered = np.zeros(len(suspect) + 1, dtype=np.int64)
    np.add.at(covered, i, 1)
    np.add.at(covered, np.minimum(i + k, len(suspect)), -1)
    matched_mask = np.cumsum(covered[:-1]) > 0
    matched_cum = np.concatenate([[0], np.cumsum(matched_mask)])
    unquoted_cum = np.concatenate([[0], np.cumsum(matched_mask & ~suspect.quoted)])

    a = suspect_fp.token_hashes.tolist()
    b = source_fp.token_hashes.tolist()
    candidates: list[TokenPassage] = []
    for i0, i1, j0, j1 in chains:
        s_first, s_last = i0, min(i1 + k - 1, len(a) - 1)
        t_first, t_last = j0, min(j1 + k - 1, len(b) - 1)
        if matched_cum[s_last + 1] - matched_cum[s_first] < cfg.min_passage_words // 2:
            continue  # cheap reject before any extension or fuzzy scoring
        back = _extend(a, b, s_first, t_first, -1, cfg.max_edge_extension)
        fwd = _extend(a, b, s_last, t_last, +1, cfg.max_edge_extension)
        s_first, t_first, s_last, t_last = s_first - back, t_first - back, s_last + fwd, t_last + fwd
        matched = int(matched_cum[s_last + 1] - matched_cum[s_first]) + back + fwd
        unquoted = int(unquoted_cum[s_last + 1] - unquoted_cum[s_first])
        if not suspect.quoted[s_first : s_first + back].any():
            unquoted += back
        if not suspect.quoted[s_last - fwd + 1 : s_last + 1].any():
            unquoted += fwd
        if unquoted < cfg.min_passage_words:
            continue
        similarity = Indel.normalized_similarity(a[s_first : s_last + 1], b[t_first : t_last + 1])
        if similarity < cfg.min_passage_similarity:
            continue
        candidates.append(TokenPassage(s_first, s_last, t_first, t_last, matched, unquoted, similarity))
    return _without_overlaps(candidates)


def _without_overlaps(passages: list[TokenPassage]) -> list[TokenPassage]:
    """Keep the best-supported passage where two claim the same suspect words."""
    kept: list[TokenPassage] = []
    for p in sorted(passages, key=lambda p: (-p.matched, p.suspect_first)):
        if all(p.suspect_last < q.suspect_first or p.suspect_first > q.suspect_last for q in kept):
            kept.append(p)
    return sorted(kept, key=lambda p: p.suspect_first)
