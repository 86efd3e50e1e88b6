"""Matching thresholds, in one typed object. (Settings read from the environment: :mod:`checker.settings`;
the fingerprint's parameters, which decide what an index holds: :class:`checker.fingerprint.FingerprintScheme`.)

Each constant says where it comes from. "Seeds" are the scenarios in ``seeds/suspects.jsonl`` (full,
partial, lightly edited, reworded, credited copies and independent reports of the same event);
"bench" is the synthetic corpus of ``bench/corpus.py``; "PAN" the development split of the PAN 2013
text-alignment corpus (``python -m bench.pan``). Values come from the published method or from how
reuse happens first, and were only checked on those sets, so that they carry over to text we have not
seen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MatchConfig:
    # -- candidates (checker.candidates) --------------------------------------------------------------
    # At most this many candidates are verified per scan, most evidence first. Verifying one costs
    # 0.2-2 ms (more for a long suspect), so 100 bounds a scan's verification at a few hundred
    # milliseconds in the worst case, while leaving room for a suspect that copies from dozens of
    # articles (PAN suspects reuse up to ~20 sources) and for agency copy registered by many publishers.
    max_candidates: int = 100
    # Sentence sketches hit by chance, one sentence at a time; reuse hits neighbouring sentences. A
    # sketch hit counts only when another sentence at most this many sentences away hits the same
    # article, and an article needs this many such sentences (or one exact key) to be a candidate.
    sentence_support_gap: int = 3
    min_supported_sentences: int = 2
    # A sentence sketch key posted by more articles than this is a combination of common words (three
    # frequent content words of a short sentence): its hits say nothing about copying. Measured: keys
    # that unrelated suspects hit are posted by a median of 200 articles at 2,000 registered (the
    # synthetic bench), keys that copies hit by 1-15.
    max_sketch_postings: int = 16

    # -- verbatim runs (checker.align) ----------------------------------------------------------------
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
    # A passage must hold this many words outside quotation marks. Named entities and stock phrases
    # that independent reports share run to ~8 words ("Kepala Badan Pengawas Obat dan Makanan (BPOM)
    # RI"); one copied news sentence runs 15-25 words. 15 sits between. It is also the length of the
    # verbatim guarantee (FingerprintScheme.guarantee_tokens).
    min_passage_words: int = 15

    # -- reworded passages (checker.align, after Sanchez-Perez et al., PAN 2014) --------------------------
    # Seed: tf-isf cosine and content-lemma Dice of a sentence pair both at least this (the paper's 0.33).
    seed_similarity: float = 0.33
    # Seeds further apart than this many sentences (in either text) start a new passage (the paper's 4).
    max_sentence_gap: int = 4
    # A passage's two fragments must be at least this similar (tf-isf cosine; the paper's 0.34).
    min_fragment_similarity: float = 0.34
    # A summary: suspect fragments shorter than this share of the source fragments. Then the seeds are
    # clustered again with a gap wide enough to span what the summary skipped (the paper's 24).
    summary_ratio: float = 0.5
    summary_sentence_gap: int = 24
    # Stopwords still count, at this weight on top of their low inverse sentence frequency: shared
    # function-word patterns survive synonym substitution, but must not make unrelated sentences alike.
    stopword_weight: float = 0.5
    # An edge sentence whose words are at least this share verbatim copied is trimmed to those words.
    verbatim_edge_share: float = 0.5
    # A passage found only by reworded sentences needs seeds in this many suspect sentences, and its two
    # fragments this alike (tf-isf cosine) unless it has sure_reworded_sentences of them. Independent
    # reports of one event share single sentences at cosine 0.33-0.55 (the same names and numbers) and
    # now and then two, whose fragments then score 0.34-0.4; on PAN, reworded passages' fragments score
    # a median 0.76 and false ones 0.41. Measured: 4 of 600 same-topic bench suspects flagged with one
    # seed sentence allowed, none with this rule; PAN plagdet 0.867 -> 0.872.
    min_reworded_sentences: int = 2
    sure_reworded_sentences: int = 4
    min_reworded_similarity: float = 0.4

    # -- kinds (checker.verdict) -----------------------------------------------------------------------
    # "verbatim": the whole article, unchanged; "near_copy": most of it, lightly edited;
    # "paraphrase": reworded (surface similarity below a light edit's ~0.9 but above chance);
    # "partial": excerpts.
    verbatim_similarity: float = 0.98
    verbatim_coverage: float = 0.9
    near_copy_coverage: float = 0.6
    near_copy_similarity: float = 0.85
    paraphrase_similarity: float = 0.8


DEFAULT_MATCH_CONFIG = MatchConfig()
