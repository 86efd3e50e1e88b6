"""Align a suspect with one candidate article: which passages were reused, where, how closely.

Two detectors look at the pair, and their findings are merged into one passage per copied stretch.

**Verbatim runs** (token level; exact boundaries):

1. *Seeds*: every pair ``(i, j)`` where the suspect's word shingle ``i`` equals the article's shingle
   ``j`` (one sort and two ``searchsorted`` calls).
2. *Runs*: seeds on one diagonal ``j - i`` with small gaps (a substituted word breaks ``k`` shingles).
3. *Chains*: runs joined when close in both texts and nearly on the same diagonal (an inserted or
   dropped word shifts it by one); reordered sentences become separate chains.
4. *Edges* extended token by token over equal tokens, tolerating one substitution.

*Guarantee*: a run of ``min_passage_words`` or more consecutive tokens that both texts share verbatim,
none of them inside quotation marks in the suspect, yields ``min_passage_words - k + 1`` consecutive
seeds on one diagonal, hence a chain covering it with that many unquoted matched tokens, which is kept
(unless every shingle of the run occurs more than ``max_seed_repeats`` times in the article). When
passages claim the same suspect words, a word goes to a passage that holds it in a verbatim run, so the
run's words stay reported at their place in the article; only a word at either end of the run may go to
an adjacent copied passage that the article follows with the same word.

**Reworded passages** (sentence level), after Sanchez-Perez, Sidorov and Gelbukh, "A winning approach
to text alignment for text reuse detection at PAN 2014" (and "Adaptive algorithm for plagiarism
detection", 2014), the best published text-alignment system of PAN 2013-2014:

1. *Seeds*: sentence pairs whose tf-isf cosine (lemma counts weighted by inverse *sentence* frequency
   over both texts' sentences, so words every sentence carries weigh nothing) and whose Dice
   coefficient over content-lemma sets both reach ``seed_similarity`` (0.33 in the paper). Sentences
   shared verbatim are seeds too.
2. *Extension*: seeds are clustered, splitting wherever two consecutive seeds are more than
   ``max_sentence_gap`` sentences apart in the suspect, then in the source, recursively; a cluster
   whose two fragments are less similar than ``min_fragment_similarity`` is clustered again with a
   smaller gap.
3. *Summaries*: when the suspect fragments are much shorter than the source fragments (a summary
   condenses), seeds are clustered again with the larger ``summary_sentence_gap``.

**Then**: passages are merged with the verbatim runs they overlap; an edge sentence that is a verbatim
copy is trimmed to the shared words (a copied paragraph rarely starts at the edge of the heading glued
to it); each suspect word goes to one passage (:func:`_resolve_overlaps`). A reworded
passage must have ``min_passage_words`` unquoted words on each side and enough evidence: seeds in at
least ``min_reworded_sentences`` suspect sentences, and fragments at least ``min_reworded_similarity``
alike unless there are ``sure_reworded_sentences`` of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz.distance import Indel

from checker.arrays import expand_ranges
from checker.profile import Profile
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TokenPassage:
    """A reused passage in token indices (inclusive) with its verification figures.

    ``similarity`` is the surface similarity of the two token sequences (rapidfuzz Indel: 1.0 for a
    verbatim copy, about 0.4-0.6 for a machine paraphrase); ``meaning`` the tf-isf cosine of the two
    fragments (how much of the content survives, whatever the wording)."""

    suspect_first: int
    suspect_last: int
    source_first: int
    source_last: int
    similarity: float
    meaning: float

    @property
    def suspect_len(self) -> int:
        return self.suspect_last - self.suspect_first + 1


# ---------------------------------------------------------------------------------------------------------
# verbatim runs


def find_seeds(suspect: np.ndarray, source: Profile, max_repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)`` with ``suspect[i] == source.shingles[j]``, sorted by diagonal then ``i``."""
    if not len(suspect) or not len(source.shingles):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order, ordered = source.shingle_order, source.sorted_shingles
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
            if (
                -k < di <= cfg.max_chain_gap
                and -k < dj <= cfg.max_chain_gap
                and abs(di - dj) <= cfg.max_chain_shift
            ):
                cost = abs(di - dj) + max(di, 0)
                if best_cost is None or cost < best_cost:
                    best, best_cost = chain, cost
        if best is None:
            chains.append([i0, i1, j0, j1])
        else:
            best[1], best[3] = max(best[1], i1), max(best[3], j1)
    return chains


def _extend(
    a: list[int], b: list[int], a_pos: int, b_pos: int, step: int, limit: int, taken: np.ndarray
) -> int:
    """How many tokens the alignment edge at ``(a_pos, b_pos)`` extends in direction ``step`` over
    equal tokens, stepping over one substituted token when the token after it matches again. It stops
    at a suspect token that a shared shingle covers: that token belongs to another run."""
    n, skipped, best = 0, False, 0
    while n < limit:
        ai, bi = a_pos + step * (n + 1), b_pos + step * (n + 1)
        if not (0 <= ai < len(a) and 0 <= bi < len(b)) or taken[ai]:
            break
        if a[ai] == b[bi]:
            n += 1
            best = n
        elif not skipped:
            skipped, n = True, n + 1
        else:
            break
    return best


@dataclass(frozen=True, slots=True)
class _Run:
    """A verbatim run: inclusive token ranges on a diagonal, and its matched suspect words."""

    s0: int
    s1: int
    t0: int
    t1: int
    words: int

    def clipped(self, a: int, b: int) -> _Run | None:
        """The part on suspect tokens ``a..b`` (a run is a diagonal: its source range shifts alike)."""
        lo, hi = max(self.s0, a), min(self.s1, b)
        if lo > hi:
            return None
        if (lo, hi) == (self.s0, self.s1):
            return self
        return _Run(
            lo, hi, min(self.t0 + lo - self.s0, self.t1), max(self.t1 - (self.s1 - hi), self.t0), hi - lo + 1
        )


_NO_SEEDS = np.empty((0, 2), dtype=np.int64)


@dataclass(slots=True)
class _Span:
    """A passage being assembled: inclusive token ranges on both sides and its evidence, the verbatim
    runs and the seed sentence pairs ``(suspect sentence, source sentence)`` inside it."""

    s0: int
    s1: int
    t0: int
    t1: int
    runs: list[_Run] = field(default_factory=list)
    seeds: np.ndarray = field(default_factory=lambda: _NO_SEEDS)
    meaning: float = 1.0  # tf-isf cosine of the two fragments

    @property
    def verbatim(self) -> int:
        return sum(r.words for r in self.runs)

    def seed_sentences(self) -> np.ndarray:
        """The distinct suspect sentences of its seeds."""
        return np.unique(self.seeds[:, 0])

    def overlaps(self, run: _Run) -> bool:
        return self.s0 <= run.s1 and run.s0 <= self.s1 and self.t0 <= run.t1 and run.t0 <= self.t1


def covered_by(starts: np.ndarray, n_tokens: int, k: int) -> np.ndarray:
    """Tokens (of ``n_tokens``) inside one of the shingles of ``k`` tokens starting at ``starts``."""
    covered = np.zeros(n_tokens + 1, dtype=np.int64)
    np.add.at(covered, starts, 1)
    np.add.at(covered, np.minimum(starts + k, n_tokens), -1)
    return np.cumsum(covered[:-1]) > 0


def shared_coverage(a: np.ndarray, b: np.ndarray, n_tokens: int, k: int) -> np.ndarray:
    """Tokens (of ``n_tokens``) covered by a shingle of ``a`` that also occurs in ``b``."""
    return covered_by(np.flatnonzero(np.isin(a, b)), n_tokens, k)


def verbatim_runs(suspect: Profile, source: Profile, cfg: MatchConfig) -> list[_Run]:
    """Chains of shared shingles with at least ``min_passage_words`` unquoted matched words."""
    k = suspect.shingle_size
    i, j = find_seeds(suspect.shingles, source, cfg.max_seed_repeats)
    if not len(i):
        return []
    chains = chain_runs(diagonal_runs(i, j, cfg.max_run_gap), k, cfg)
    matched = covered_by(i, len(suspect.doc), k)
    matched_cum = np.concatenate([[0], np.cumsum(matched)])
    unquoted_cum = np.concatenate([[0], np.cumsum(matched & ~suspect.doc.quoted)])
    a = suspect.doc.hashes.tolist()
    b = source.doc.hashes.tolist()
    out = []
    for i0, i1, j0, j1 in chains:
        s_first, s_last = i0, min(i1 + k - 1, len(a) - 1)
        t_first, t_last = j0, min(j1 + k - 1, len(b) - 1)
        if matched_cum[s_last + 1] - matched_cum[s_first] < cfg.min_passage_words // 2:
            continue  # cheap reject before any extension
        back = _extend(a, b, s_first, t_first, -1, cfg.max_edge_extension, matched)
        fwd = _extend(a, b, s_last, t_last, +1, cfg.max_edge_extension, matched)
        s_first, t_first, s_last, t_last = s_first - back, t_first - back, s_last + fwd, t_last + fwd
        unquoted = int(unquoted_cum[s_last + 1] - unquoted_cum[s_first])
        unquoted += int((~suspect.doc.quoted[s_first : s_first + back]).sum())
        unquoted += int((~suspect.doc.quoted[s_last - fwd + 1 : s_last + 1]).sum())
        if unquoted >= cfg.min_passage_words:
            words = int(matched_cum[s_last + 1] - matched_cum[s_first]) + back + fwd
            out.append(_Run(s_first, s_last, t_first, t_last, words))
    return out


# ---------------------------------------------------------------------------------------------------------
# reworded passages


# The dense sentence matrices of one pair hold at most this many cells (8 bytes each: 64 MB). A news
# article has ~30 sentences and shares a few hundred lemmas with a related one; PAN's longest suspect
# (6,000 words, 300 sentences) against a long source stays under 2M cells; two whole books do not.
MAX_SENTENCE_MATRIX_CELLS = 8_000_000


@dataclass(frozen=True, slots=True)
class _Vectors:
    """tf-isf sentence vectors of a suspect and a source, and the seed measures of every sentence pair.

    Only lemmas both texts hold contribute to dot products, so the vectors are kept dense over that
    shared vocabulary (tens to a few thousand lemmas) and each sentence's norm is computed over all of
    its lemmas. Attributes: ``suspect``/``source``: ``(sentences, shared)`` weighted counts;
    ``*_pair_weight``: the weighted count of each (sentence, lemma) pair of the profile (for fragment
    norms); ``cosine``, ``dice``: ``(suspect sentences, source sentences)``."""

    suspect: np.ndarray
    source: np.ndarray
    suspect_pair_weight: np.ndarray
    source_pair_weight: np.ndarray
    cosine: np.ndarray
    dice: np.ndarray


def shared_lemmas(suspect: Profile, source: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lemmas both texts hold, and their indices in each profile's ``lemmas``."""
    return np.intersect1d(suspect.lemmas, source.lemmas, assume_unique=True, return_indices=True)


def sentence_vectors(
    suspect: Profile, source: Profile, cfg: MatchConfig, shared: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> _Vectors:
    """tf-isf weighted sentence vectors and the cosine and content Dice of every sentence pair;
    ``shared`` is :func:`shared_lemmas` of the pair."""
    lemmas, in_s, in_t = shared
    n = suspect.n_sentences + source.n_sentences

    def weights(
        p: Profile, own: np.ndarray, other: Profile, other_idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # Inverse sentence frequency over the sentences of both texts (Sanchez-Perez et al.).
        sf = p.lemma_sentences.astype(np.float64)
        sf[own] += other.lemma_sentences[other_idx]
        w = np.log(n / np.maximum(sf, 1))
        stop = np.bincount(p.pair_lemma_index[p.pair_stop], minlength=len(p.lemmas)) > 0
        w[stop] *= cfg.stopword_weight
        pair_weight = p.pair_count * w[p.pair_lemma_index]
        column = np.full(len(p.lemmas), -1, dtype=np.int64)
        column[own] = np.arange(len(lemmas))
        cols = column[p.pair_lemma_index]
        on = cols >= 0
        dense = np.zeros((p.n_sentences, len(lemmas)))
        dense[p.pair_sentence[on], cols[on]] = pair_weight[on]
        content = np.zeros((p.n_sentences, len(lemmas)))
        keep = on & ~p.pair_stop
        content[p.pair_sentence[keep], cols[keep]] = 1.0
        norms = np.sqrt(np.bincount(p.pair_sentence, weights=pair_weight**2, minlength=p.n_sentences))
        return pair_weight, dense, content, norms

    pw_s, ws, cs, ns = weights(suspect, in_s, source, in_t)
    pw_t, wt, ct, nt = weights(source, in_t, suspect, in_s)
    cosine = (ws @ wt.T) / np.maximum(ns[:, None] * nt[None, :], 1e-12)
    dice = 2 * (cs @ ct.T) / np.maximum(suspect.content_size[:, None] + source.content_size[None, :], 1)
    return _Vectors(ws, wt, pw_s, pw_t, cosine, dice)


def _fragment_norm(p: Profile, pair_weight: np.ndarray, first: int, last: int) -> float:
    """Norm of the summed tf-isf vectors of sentences ``first..last`` of ``p``."""
    lo, hi = np.searchsorted(p.pair_sentence, [first, last + 1])
    summed = np.bincount(p.pair_lemma_index[lo:hi], weights=pair_weight[lo:hi], minlength=len(p.lemmas))
    return float(np.sqrt(summed @ summed))


def fragment_similarity(
    suspect: Profile, source: Profile, v: _Vectors, i0: int, i1: int, j0: int, j1: int
) -> float:
    """Cosine of the summed vectors of suspect sentences ``i0..i1`` and source sentences ``j0..j1``."""
    dot = float(v.suspect[i0 : i1 + 1].sum(axis=0) @ v.source[j0 : j1 + 1].sum(axis=0))
    norms = _fragment_norm(suspect, v.suspect_pair_weight, i0, i1) * _fragment_norm(
        source, v.source_pair_weight, j0, j1
    )
    return dot / norms if norms else 0.0


def _split(seeds: np.ndarray, axis: int, gap: int) -> list[np.ndarray]:
    ordered = seeds[np.argsort(seeds[:, axis], kind="stable")]
    return np.split(ordered, np.flatnonzero(np.diff(ordered[:, axis]) > gap) + 1)


def cluster_seeds(seeds: np.ndarray, gap: int) -> list[np.ndarray]:
    """Split ``(i, j)`` seeds wherever consecutive ones are more than ``gap`` apart in the suspect,
    then in the source, until no group splits any more."""
    done, work = [], [seeds]
    while work:
        group = work.pop()
        parts = [q for p in _split(group, 0, gap) for q in _split(p, 1, gap)]
        if len(parts) == 1:
            done.append(parts[0])
        else:
            work.extend(parts)
    return done


def _without_repeats(seeds: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """Where a sentence matches several sentences of the other text about equally well (the article
    repeats a sentence, or the suspect does), keep the match nearest the cluster's diagonal: the
    repeat elsewhere is not part of this passage."""
    if len(seeds) < 2:
        return seeds
    diagonal = np.median(seeds[:, 1] - seeds[:, 0])
    for axis in (0, 1):
        score = cosine[seeds[:, 0], seeds[:, 1]]
        distance = np.abs(seeds[:, 1] - seeds[:, 0] - diagonal)
        order = np.lexsort((distance, -np.round(score, 2), seeds[:, axis]))
        seeds, score = seeds[order], score[order]
        first = np.ones(len(seeds), dtype=bool)
        first[1:] = seeds[1:, axis] != seeds[:-1, axis]
        best = np.maximum.reduceat(score, np.flatnonzero(first))[np.cumsum(first) - 1]
        # Drop only the equally good repeats; a clearly weaker second match (a summary sentence
        # condensing two source sentences) stays.
        keep = first | (score < best - 0.05)
        seeds = seeds[keep]
    return seeds


def extend_seeds(
    seeds: np.ndarray, gap: int, suspect: Profile, source: Profile, v: _Vectors, cfg: MatchConfig
) -> list[tuple[np.ndarray, float]]:
    """Clusters of seeds whose fragments are similar enough, with that similarity."""
    out = []
    for group in cluster_seeds(seeds, gap):
        group = _without_repeats(group, v.cosine)
        sim = fragment_similarity(
            suspect, source, v, group[:, 0].min(), group[:, 0].max(), group[:, 1].min(), group[:, 1].max()
        )
        if sim >= cfg.min_fragment_similarity:
            out.append((group, sim))
        elif gap > 0 and len(group) > 1:
            out.extend(extend_seeds(group, gap - 1, suspect, source, v, cfg))
    return out


def sentence_seeds(
    suspect: Profile, source: Profile, v: _Vectors, runs: list[_Run], cfg: MatchConfig
) -> np.ndarray:
    """``(i, j)`` sentence pairs that are seeds: similar enough, or joined by a verbatim run."""
    similar = (v.cosine >= cfg.seed_similarity) & (v.dice >= cfg.seed_similarity)
    # A sentence that is mostly a quotation is the speaker's, not the writer's: not a seed.
    similar[suspect.quoted_share > 0.5, :] = False
    pairs = [np.argwhere(similar)]
    s_of, t_of = suspect.doc.sentences.of_token, source.doc.sentences.of_token
    for r in runs:
        tokens = np.arange(r.s0, r.s1 + 1)
        shift = r.t0 - r.s0
        pairs.append(np.stack([s_of[tokens], t_of[np.clip(tokens + shift, r.t0, r.t1)]], axis=1))
    seeds = np.concatenate(pairs).astype(np.int64)
    if not len(seeds):
        return seeds.reshape(0, 2)
    width = max(source.n_sentences, 1)
    distinct_pairs = np.unique(seeds[:, 0] * width + seeds[:, 1])  # one exact key per pair, sorted
    return np.stack(np.divmod(distinct_pairs, width), axis=1)


def reworded_passages(suspect: Profile, source: Profile, runs: list[_Run], cfg: MatchConfig) -> list[_Span]:
    """Sentence-level passages (see the module docstring), as token spans. Pairs of texts too large
    for the dense sentence matrices (two books) get none: their verbatim runs are still found."""
    if not suspect.n_sentences or not source.n_sentences:
        return []
    shared = shared_lemmas(suspect, source)
    cells = max(
        suspect.n_sentences * source.n_sentences, (suspect.n_sentences + source.n_sentences) * len(shared[0])
    )
    if cells > MAX_SENTENCE_MATRIX_CELLS:
        LOGGER.info("pair too large for reworded passages (%d matrix cells); verbatim runs only", cells)
        return []
    v = sentence_vectors(suspect, source, cfg, shared)
    seeds = sentence_seeds(suspect, source, v, runs, cfg)
    if not len(seeds):
        return []
    clusters = extend_seeds(seeds, cfg.max_sentence_gap, suspect, source, v, cfg)
    s_sent, t_sent = suspect.doc.sentences, source.doc.sentences
    if clusters:
        # A summary condenses: much less suspect text than source text. Cluster again with a wider gap.
        suspect_len = sum(int(s_sent.end[g[:, 0].max()] - s_sent.first[g[:, 0].min()]) for g, _ in clusters)
        source_len = sum(int(t_sent.end[g[:, 1].max()] - t_sent.first[g[:, 1].min()]) for g, _ in clusters)
        if suspect_len < cfg.summary_ratio * source_len:
            clusters = extend_seeds(seeds, cfg.summary_sentence_gap, suspect, source, v, cfg)
    spans = []
    for group, sim in clusters:
        i0, i1, j0, j1 = group[:, 0].min(), group[:, 0].max(), group[:, 1].min(), group[:, 1].max()
        span = _Span(
            int(s_sent.first[i0]),
            int(s_sent.end[i1] - 1),
            int(t_sent.first[j0]),
            int(t_sent.end[j1] - 1),
            seeds=group,
            meaning=sim,
        )
        spans.append(_trim_verbatim_edges(span, suspect, source, cfg))
    return spans


def _trim_verbatim_edges(span: _Span, suspect: Profile, source: Profile, cfg: MatchConfig) -> _Span:
    """Where the first (or last) sentences of a passage are a verbatim copy, start (or end) the passage
    at the shared words: the rest of such an edge sentence (a heading glued to it, a dateline) was not
    copied. Edges that were reworded keep their whole sentences."""
    k = suspect.shingle_size
    if span.s1 - span.s0 + 1 < k or span.t1 - span.t0 + 1 < k:
        return span
    a = suspect.shingles[span.s0 : max(span.s0, span.s1 - k + 2)]
    b = source.shingles[span.t0 : max(span.t0, span.t1 - k + 2)]
    on_s = shared_coverage(a, b, span.s1 - span.s0 + 1, k)
    on_t = shared_coverage(b, a, span.t1 - span.t0 + 1, k)
    s_sent, t_sent = suspect.doc.sentences, source.doc.sentences
    s_first_end = int(s_sent.end[s_sent.of_token[span.s0]]) - span.s0
    t_first_end = int(t_sent.end[t_sent.of_token[span.t0]]) - span.t0
    s_last_start = int(s_sent.first[s_sent.of_token[span.s1]]) - span.s0
    t_last_start = int(t_sent.first[t_sent.of_token[span.t1]]) - span.t0
    s0, s1, t0, t1 = span.s0, span.s1, span.t0, span.t1
    # A passage copied verbatim for the most part ends where the shared words end, whatever its
    # edge sentences hold; a reworded one only where its edge sentence was copied verbatim.
    copied = on_s.mean() >= cfg.verbatim_edge_share
    hs, ht = np.flatnonzero(on_s), np.flatnonzero(on_t)
    if len(hs) and len(ht):
        if copied or max(on_s[:s_first_end].mean(), on_t[:t_first_end].mean()) >= cfg.verbatim_edge_share:
            s0, t0 = span.s0 + int(hs[0]), span.t0 + int(ht[0])
        if copied or max(on_s[s_last_start:].mean(), on_t[t_last_start:].mean()) >= cfg.verbatim_edge_share:
            s1, t1 = span.s0 + int(hs[-1]), span.t0 + int(ht[-1])
    span.s0, span.s1, span.t0, span.t1 = s0, max(s0, s1), t0, max(t0, t1)
    return span


# ---------------------------------------------------------------------------------------------------------
# merging and verification


# A passage whose seeded sentences are at least this share inside verbatim runs is a (lightly edited)
# verbatim copy: its extent is that of its runs. Random obfuscation (shuffled and replaced words) keeps
# 50-70% of words in runs; a light edit about 90%.
VERBATIM_PASSAGE_SHARE = 0.8


def _seeded_words(span: _Span, suspect: Profile) -> int:
    sentences = span.seed_sentences()
    first, end = suspect.doc.sentences.first, suspect.doc.sentences.end
    return int((end[sentences] - first[sentences]).sum())


def _merge(spans: list[_Span], runs: list[_Run], suspect: Profile, cfg: MatchConfig) -> list[_Span]:
    """Verbatim runs join the passage they overlap (in both texts); the others stand alone. A passage
    that is mostly verbatim runs is exactly their extent (:func:`_verbatim_groups`)."""
    out: list[_Span] = []
    for run in runs:
        host = next((span for span in spans if span.overlaps(run)), None)
        if host is None:
            out.append(_Span(run.s0, run.s1, run.t0, run.t1, runs=[run]))
        else:
            host.runs.append(run)
    for span in spans:
        if not span.runs:
            out.append(span)
        elif span.verbatim >= VERBATIM_PASSAGE_SHARE * _seeded_words(span, suspect):
            out.extend(_verbatim_groups(span, cfg))
        else:
            span.s0, span.s1 = (
                min(span.s0, *(r.s0 for r in span.runs)),
                max(span.s1, *(r.s1 for r in span.runs)),
            )
            span.t0, span.t1 = (
                min(span.t0, *(r.t0 for r in span.runs)),
                max(span.t1, *(r.t1 for r in span.runs)),
            )
            out.append(span)
    return out


def _verbatim_groups(span: _Span, cfg: MatchConfig) -> list[_Span]:
    """A verbatim copy's passages: its runs, grouped while both texts go on together. A new passage
    starts where the source steps back (a reordered sentence or paragraph) or where one text skips
    more than the other (a paragraph inserted or dropped), by more than a clause either way. Pieces
    shorter than a couple of sentences are words moved within one copied stretch (random
    obfuscation does that), not reordered or separate paragraphs: then it stays one passage."""
    slack = 2 * cfg.max_chain_gap
    groups: list[list[_Run]] = []
    for r in sorted(span.runs, key=lambda r: r.s0):
        if groups:
            last = groups[-1]
            end_s, end_t = max(x.s1 for x in last), max(x.t1 for x in last)
            if r.t0 >= end_t - slack and abs((r.s0 - end_s) - (r.t0 - end_t)) <= slack:
                last.append(r)
                continue
        groups.append([r])
    if len(groups) > 1 and min(sum(r.words for r in g) for g in groups) < 2 * cfg.min_passage_words:
        groups = [span.runs]
    seeds = span.seeds
    out = []
    for g in groups:
        s0, s1 = min(r.s0 for r in g), max(r.s1 for r in g)
        out.append(
            _Span(
                s0, s1, min(r.t0 for r in g), max(r.t1 for r in g), runs=g, seeds=seeds, meaning=span.meaning
            )
        )
    return out


def _priority(span: _Span) -> tuple[int, float]:
    """The passage with more evidence keeps disputed suspect words: verbatim words, and about a
    sentence's worth per seed sentence pair."""
    return span.verbatim + 20 * len(span.seed_sentences()), span.meaning


def _piece(span: _Span, a: int, b: int, suspect: Profile, source: Profile) -> _Span | None:
    """The part of ``span`` on suspect tokens ``a..b``, spanning the evidence it keeps there (runs and
    seed sentences); None when it keeps none."""
    if (a, b) == (span.s0, span.s1):
        return span
    runs = [c for r in span.runs if (c := r.clipped(a, b)) is not None]
    s_sent, t_sent = suspect.doc.sentences, source.doc.sentences
    starts, ends = s_sent.first[span.seeds[:, 0]], s_sent.end[span.seeds[:, 0]] - 1
    seeds = span.seeds[(starts <= b) & (ends >= a)]
    if not runs and not len(seeds):
        return None
    s_lo = [r.s0 for r in runs] + s_sent.first[seeds[:, 0]].tolist()
    s_hi = [r.s1 for r in runs] + (s_sent.end[seeds[:, 0]] - 1).tolist()
    t_lo = [r.t0 for r in runs] + t_sent.first[seeds[:, 1]].tolist()
    t_hi = [r.t1 for r in runs] + (t_sent.end[seeds[:, 1]] - 1).tolist()
    return _Span(max(a, min(s_lo)), min(b, max(s_hi)), min(t_lo), max(t_hi), runs, seeds, span.meaning)


def _strength(span: _Span) -> np.ndarray:
    """How strongly ``span`` claims each suspect token of its range: 2 inside its verbatim runs, 1
    elsewhere."""
    out = np.ones(span.s1 - span.s0 + 1, dtype=np.int8)
    for r in span.runs:
        out[r.s0 - span.s0 : r.s1 - span.s0 + 1] = 2
    return out


def _resolve_overlaps(spans: list[_Span], suspect: Profile, source: Profile) -> list[_Span]:
    """Give each suspect word to one passage: one that holds it in a verbatim run if there is one,
    else the one with most evidence overall (:func:`_priority`). A passage keeps the stretches of
    words it wins, each spanning the evidence it holds there: a reworded passage whose sentences bridge
    over text copied from elsewhere in the article is cut around that text instead of swallowing it."""
    if len(spans) < 2:
        return spans
    ordered = sorted(spans, key=_priority, reverse=True)
    n = len(suspect.doc)
    best = np.full(n, -1, dtype=np.int8)
    owner = np.full(n, -1, dtype=np.int64)
    for k, span in enumerate(ordered):
        strength = _strength(span)
        here = slice(span.s0, span.s1 + 1)
        wins = strength > best[here]
        best[here][wins] = strength[wins]
        owner[here][wins] = k
    kept = []
    for k, span in enumerate(ordered):
        mine = np.flatnonzero(owner[span.s0 : span.s1 + 1] == k)
        if not len(mine):
            continue
        breaks = np.flatnonzero(np.diff(mine) > 1)
        for a, b in zip(
            np.concatenate([[0], breaks + 1]).tolist(), np.concatenate([breaks, [len(mine) - 1]]).tolist()
        ):
            piece = _piece(span, span.s0 + int(mine[a]), span.s0 + int(mine[b]), suspect, source)
            if piece is not None:
                kept.append(piece)
    return sorted(kept, key=lambda s: s.s0)


def _accepted(span: _Span, suspect: Profile, cfg: MatchConfig) -> bool:
    unquoted = int((~suspect.doc.quoted[span.s0 : span.s1 + 1]).sum())
    if unquoted < cfg.min_passage_words or span.t1 - span.t0 + 1 < cfg.min_passage_words:
        return False
    if span.verbatim >= cfg.min_passage_words:
        return True
    # Reworded only: one sentence like another is what independent reports of one event share (the
    # same names and numbers); a copy rewords a stretch of them.
    sentences = len(span.seed_sentences())
    if sentences < cfg.min_reworded_sentences:
        return False
    return sentences >= cfg.sure_reworded_sentences or span.meaning >= cfg.min_reworded_similarity


def align_passages(
    suspect: Profile, source: Profile, cfg: MatchConfig = DEFAULT_MATCH_CONFIG
) -> list[TokenPassage]:
    """Reused passages of ``source`` in ``suspect``, verified, in suspect order, not overlapping."""
    if suspect.shingle_size != source.shingle_size or not len(suspect.doc) or not len(source.doc):
        return []
    runs = verbatim_runs(suspect, source, cfg)
    spans = _merge(reworded_passages(suspect, source, runs, cfg), runs, suspect, cfg)
    spans = _resolve_overlaps(spans, suspect, source)
    a, b = suspect.doc.hashes, source.doc.hashes
    out = []
    for s in spans:
        if not _accepted(s, suspect, cfg):
            continue
        similarity = Indel.normalized_similarity(a[s.s0 : s.s1 + 1].tolist(), b[s.t0 : s.t1 + 1].tolist())
        out.append(TokenPassage(s.s0, s.s1, s.t0, s.t1, similarity, max(s.meaning, similarity)))
    return out
