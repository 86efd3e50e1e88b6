"""Which registered articles deserve verification: evidence from the index hits, above chance, ranked.

The index answers which articles posted each of the suspect's keys (:mod:`checker.fingerprint`). Two
kinds of evidence, counted per article:

- **exact**: distinct winnowed k-gram keys shared. One is enough to verify (the verbatim guarantee
  depends on it): a shared 5-word phrase that is not a stop key is rare by chance.
- **sentences**: suspect sentences whose sketch shares a band key with the article, counted only when
  another such sentence lies at most ``sentence_support_gap`` sentences away. A single sketch hit is
  often chance (two common content words); reuse hits neighbouring sentences, chance hits scatter.

An article is a candidate when it has an exact key or ``min_supported_sentences`` supported
sentences. Candidates are ranked by their evidence, ``exact keys + band keys of supported sentences``
(a winnowed key falls every ~6 words of a verbatim copy; a closely reworded sentence shares several of
its 16 band keys, a chance collision usually one), and the best ``MatchConfig.max_candidates`` are
verified. Counting band keys rather than sentences ranked 81% of the PAN development split's reworded
sources in the top 100 candidates instead of 70% (with 8 x 2 sketches; see ``FingerprintScheme``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checker.index import Hits
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig


@dataclass(frozen=True, slots=True)
class Candidate:
    article_id: int
    exact: int  # exact keys shared
    sentences: int  # supported sentences
    sketch_keys: int  # band keys shared by the supported sentences

    @property
    def evidence(self) -> int:
        return self.exact + self.sketch_keys


def rank_candidates(
    hits: Hits, key_sentence: np.ndarray, cfg: MatchConfig = DEFAULT_MATCH_CONFIG
) -> list[Candidate]:
    """Candidates above chance, most evidence first (ties: lower id first). ``key_sentence[p]`` is the
    sentence the query key at position ``p`` sketches, or -1 for an exact key."""
    if not len(hits.article_ids):
        return []
    sentence = key_sentence[hits.positions]
    is_exact = sentence < 0
    # A sketch key many articles share is a combination of common words, not a trace of copying.
    postings = np.bincount(hits.positions, minlength=len(key_sentence))[hits.positions]
    specific = is_exact | (postings <= cfg.max_sketch_postings)
    hits = Hits(hits.article_ids[specific], hits.positions[specific])
    sentence, is_exact = sentence[specific], is_exact[specific]
    # The query's exact keys are distinct and the index posts an article once per key.
    exact_ids, exact_counts = np.unique(hits.article_ids[is_exact], return_counts=True)
    support_ids, n_sentences, n_keys = _supported_sentences(
        hits.article_ids[~is_exact], sentence[~is_exact], cfg
    )
    ids = np.union1d(exact_ids, support_ids)
    exact, supported, keys = (np.zeros(len(ids), dtype=np.int64) for _ in range(3))
    exact[np.searchsorted(ids, exact_ids)] = exact_counts
    at = np.searchsorted(ids, support_ids)
    supported[at], keys[at] = n_sentences, n_keys
    keep = (exact > 0) | (supported >= cfg.min_supported_sentences)
    ids, exact, supported, keys = ids[keep], exact[keep], supported[keep], keys[keep]
    order = np.lexsort((ids, -(exact + keys)))
    return [Candidate(int(ids[i]), int(exact[i]), int(supported[i]), int(keys[i])) for i in order]


def _supported_sentences(
    article_ids: np.ndarray, sentences: np.ndarray, cfg: MatchConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per article: the distinct hit sentences with another hit sentence nearby, and their key hits."""
    empty = np.empty(0, dtype=np.int64)
    if not len(article_ids):
        return empty, empty, empty
    # (article, sentence) pairs with their hit counts, sorted by article, then sentence: one int64 key
    # each (article ids are uint32, a suspect has far fewer than 2^31 sentences).
    pairs, keys = np.unique((article_ids << 31) | sentences, return_counts=True)
    art, sent = pairs >> 31, pairs & ((1 << 31) - 1)
    same_prev = np.zeros(len(art), dtype=bool)
    same_prev[1:] = (art[1:] == art[:-1]) & (sent[1:] - sent[:-1] <= cfg.sentence_support_gap)
    same_next = np.zeros(len(art), dtype=bool)
    same_next[:-1] = same_prev[1:]
    supported = same_prev | same_next
    if not supported.any():
        return empty, empty, empty
    ids, first, n_sentences = np.unique(art[supported], return_index=True, return_counts=True)
    return ids, n_sentences, np.add.reduceat(keys[supported], first)
