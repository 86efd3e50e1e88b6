"""Matching thresholds, in one typed object.

Each constant says how it was chosen. "Seeds" are the scenarios in ``seeds/suspects.jsonl`` (full,
partial, lightly edited, reworded, credited copies and independent reports of the same event);
"bench" is the synthetic corpus of ``bench/corpus.py``. Defaults come from reasoning about news text
first and were only checked on those sets, so that they carry over to corpora we have not seen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MatchConfig:
    # Candidates verified per scan, best LSH hit counts first. A suspect rarely reuses more than a few
    # articles; 25 leaves room for agency stories registered by several publishers.
    max_candidates: int = 25
    # A candidate needs band collisions from this many distinct suspect windows. One window is enough:
    # a lightly edited 80-word excerpt may contain only one whole source window.
    min_window_hits: int = 1
    # A shingle occurring more often than this in one article ("kata dia", tables) is not a useful
    # alignment seed; capping it keeps alignment linear.
    max_seed_repeats: int = 8
    # Seeds on the same diagonal this many tokens apart are one run (a substituted word breaks
    # ``shingle_size`` shingles, so a single edit leaves a gap of shingle_size + 1).
    max_run_gap: int = 8
    # Runs joined into one passage may be this many tokens apart and shifted by this many tokens
    # against each other (an inserted or dropped clause). About half a sentence.
    max_chain_gap: int = 10
    max_chain_shift: int = 6
    # How far an alignment edge is extended token by token past the last shared shingle, tolerating
    # one substituted word.
    max_edge_extension: int = 6
    # A passage must hold this many matched words outside quotation marks. Named entities and stock
    # phrases that independent reports share run to ~8 words ("Kepala Badan Pengawas Obat dan
    # Makanan (BPOM) RI"); one copied news sentence runs 15-25 words. 15 sits between.
    min_passage_words: int = 15
    # Token-level similarity (rapidfuzz Indel) a passage needs. A 25%-reworded sentence scores ~0.7;
    # two names joined across unrelated words score well below 0.5.
    min_passage_similarity: float = 0.5
    # Kinds. "verbatim": the whole article, unchanged; "near_copy": most of it, lightly edited;
    # "paraphrase": reworded (similarity below a light edit's ~0.9 but above chance);
    # "partial": excerpts.
    verbatim_similarity: float = 0.98
    verbatim_coverage: float = 0.9
    near_copy_coverage: float = 0.6
    near_copy_similarity: float = 0.85
    paraphrase_similarity: float = 0.8


DEFAULT_MATCH_CONFIG = MatchConfig()
