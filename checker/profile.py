"""What the alignment needs to know about one document, computed once and reused for every comparison.

A registered article is compared with many suspects and a suspect with many candidates, so its word
shingles (the seeds of verbatim runs) and its sentence-by-lemma counts (the vectors reworded sentences
are compared by) are built once here, with numpy, and kept with the document (the registry caches
the profiles of registered articles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from checker.normalize import Document
from checker.shingles import shingle_hashes


@dataclass(frozen=True, slots=True)
class Profile:
    """A document's alignment profile.

    Attributes:
        doc: the document.
        shingle_size: ``k`` of ``shingles``.
        shingles: uint64 hash of each run of ``k`` tokens (shingle ``i`` covers tokens ``i .. i+k-1``).
        shingle_order, sorted_shingles: ``argsort(shingles)`` and the shingles in that order (a source's
            shingles are looked up by every suspect compared with it).
        pair_sentence, pair_lemma_index, pair_count, pair_stop: the distinct (sentence, lemma) pairs
            of the document, sorted by sentence: the lemma's index in ``lemmas``, how often it occurs
            in the sentence and whether it is a stopword.
        lemmas: sorted distinct lemma hashes of the document.
        lemma_sentences: for each lemma, the number of sentences holding it.
        content_size: per sentence, its number of distinct content (non-stopword) lemmas.
        quoted_share: per sentence, the share of its tokens inside quotation marks.
    """

    doc: Document
    shingle_size: int
    shingles: np.ndarray
    shingle_order: np.ndarray
    sorted_shingles: np.ndarray
    pair_sentence: np.ndarray
    pair_count: np.ndarray
    pair_stop: np.ndarray
    lemmas: np.ndarray
    pair_lemma_index: np.ndarray
    lemma_sentences: np.ndarray
    content_size: np.ndarray
    quoted_share: np.ndarray

    @property
    def n_sentences(self) -> int:
        return len(self.doc.sentences)

    @classmethod
    def build(cls, doc: Document, shingle_size: int) -> Profile:
        sentence = doc.sentences.of_token
        lemmas, stop = doc.lemmas, doc.stop
        n_sent = len(doc.sentences)
        distinct_lemmas, lemma_index = np.unique(lemmas, return_inverse=True)
        # Distinct (sentence, lemma) pairs as one exact int64 key each, sorted by sentence then lemma.
        pair_key, first, counts = np.unique(
            sentence * max(len(distinct_lemmas), 1) + lemma_index, return_index=True, return_counts=True
        )
        pair_sentence, index = np.divmod(pair_key, max(len(distinct_lemmas), 1))
        pair_stop = stop[first]
        lengths = np.maximum(doc.sentences.end - doc.sentences.first, 1)
        quoted = (
            np.bincount(sentence[doc.quoted], minlength=n_sent)[:n_sent] if len(sentence) else np.zeros(0)
        )
        shingles = shingle_hashes(doc.hashes, shingle_size)
        order = np.argsort(shingles, kind="stable")
        return cls(
            doc=doc,
            shingle_size=shingle_size,
            shingles=shingles,
            shingle_order=order,
            sorted_shingles=shingles[order],
            pair_sentence=pair_sentence,
            pair_count=counts.astype(np.float64),
            pair_stop=pair_stop,
            lemmas=distinct_lemmas,
            pair_lemma_index=index,
            lemma_sentences=np.bincount(index, minlength=len(distinct_lemmas)),
            content_size=np.bincount(pair_sentence[~pair_stop], minlength=n_sent)[:n_sent],
            quoted_share=quoted / lengths if n_sent else np.zeros(0),
        )
