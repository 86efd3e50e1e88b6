"""Lemmas and stopwords, so that reworded copies still look alike: "studies"/"study", "menyampaikan"/
"sampaikan" become one lemma, and function words ("the", "yang", "dan") weigh little.

Both come from packages that ship their data (nothing is downloaded at run time):

- stopwords from ``stopwordsiso`` (58 languages); the document's language is the one whose stopword
  list covers most of its tokens (at least :data:`MIN_STOPWORD_SHARE` of them: in running text of any
  language function words are 30-50% of tokens; a table of numbers or names has none);
- lemmas from ``simplemma``'s dictionaries (about 50 languages, Indonesian and English among them),
  when it knows the language; a word missing from the dictionary, or in another language, is its own
  lemma. Dictionary lookup only: simplemma's rules for unknown words cost 5-10 times more per word and
  matter little for matching (an unknown word is usually a name, which does not inflect).

Lemmatising asks simplemma once per distinct word a process sees; after that a document's lemmas are
one ``searchsorted`` over a table of known words.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np

from checker.shingles import token_hashes
from checker.words import fold, words_of

# A language must cover this share of a document's tokens with its stopwords to be chosen.
MIN_STOPWORD_SHARE = 0.1
# The product's users write Indonesian and English. Related languages share most function words
# (Malay's list even holds news words such as "indonesia" and "ekonomi"), so a preferred language
# that covers at least PREFERRED_SHARE of what the best one covers is chosen over it.
PREFERRED = ("id", "en")
PREFERRED_SHARE = 0.8
# Distinct words remembered per language (a news archive's vocabulary is a few hundred thousand).
LEMMA_CACHE_SIZE = 500_000


class _LemmaTable:
    """token hash -> lemma hash for one language, looked up with ``searchsorted``: a large sorted table
    and a small sorted one of the words learnt since the large one was last rebuilt (inserting into
    the small one costs little; rebuilding the large one, rarely, amortises to O(1) per word)."""

    def __init__(self) -> None:
        empty = np.empty(0, dtype=np.uint64)
        self.keys, self.values = empty, empty
        self.new_keys, self.new_values = empty, empty

    @staticmethod
    def _find(
        keys: np.ndarray, values: np.ndarray, hashes: np.ndarray, out: np.ndarray, known: np.ndarray
    ) -> None:
        if len(keys):
            pos = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
            hit = keys[pos] == hashes
            out[hit], known[hit] = values[pos[hit]], True

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lemma hashes of ``hashes`` (sorted, distinct) and a mask of those not known yet."""
        out = np.zeros(len(hashes), dtype=np.uint64)
        known = np.zeros(len(hashes), dtype=bool)
        self._find(self.keys, self.values, hashes, out, known)
        self._find(self.new_keys, self.new_values, hashes, out, known)
        return out, ~known

    def learn(self, hashes: np.ndarray, lemmas: np.ndarray) -> None:
        """Remember new words (``hashes`` sorted, distinct, not known yet)."""
        at = np.searchsorted(self.new_keys, hashes)
        self.new_keys, self.new_values = (
            np.insert(self.new_keys, at, hashes),
            np.insert(self.new_values, at, lemmas),
        )
        if len(self.new_keys) > max(4_096, len(self.keys) // 8):
            keys = np.concatenate([self.keys, self.new_keys])
            values = np.concatenate([self.values, self.new_values])
            if len(keys) > LEMMA_CACHE_SIZE:
                keys, values = keys[-LEMMA_CACHE_SIZE:], values[-LEMMA_CACHE_SIZE:]
            order = np.argsort(keys)
            self.keys, self.values = keys[order], values[order]
            self.new_keys, self.new_values = self.new_keys[:0], self.new_values[:0]


_lemma_tables: dict[str, _LemmaTable] = {}


@lru_cache(maxsize=1)
def _stopword_table() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Sorted token hashes of every language's stopwords, a bit mask of the languages listing each,
    and the languages (bit ``i`` is ``languages[i]``). Entries are cut into words as the tokeniser
    cuts text ("that's" -> "that", "s"), a language's whole list in one pass."""
    import stopwordsiso

    others = sorted(set(stopwordsiso.langs()) - set(PREFERRED))
    languages = tuple(lang for lang in (*PREFERRED, *others) if lang in stopwordsiso.langs())[:64]
    hashes, bits = [], []
    for bit, lang in enumerate(languages):
        words = sorted(set(words_of("\n".join(stopwordsiso.stopwords(lang)))))
        hashes.append(token_hashes(words))
        bits.append(np.full(len(words), 1 << bit, dtype=np.uint64))
    all_hashes, all_bits = np.concatenate(hashes), np.concatenate(bits)
    order = np.argsort(all_hashes, kind="stable")
    all_hashes, all_bits = all_hashes[order], all_bits[order]
    first = np.flatnonzero(np.diff(all_hashes, prepend=all_hashes[:1] - np.uint64(1)))
    return all_hashes[first], np.bitwise_or.reduceat(all_bits, first), languages


def language_bits(hashes: np.ndarray) -> np.ndarray:
    """Per token, a bit mask of the languages that list it as a stopword (input of
    :func:`guess_languages`)."""
    table, bits, _ = _stopword_table()
    if not len(hashes) or not len(table):
        return np.zeros(len(hashes), dtype=np.uint64)
    pos = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
    return np.where(table[pos] == hashes, bits[pos], np.uint64(0))


def guess_languages(
    bits: np.ndarray, counts: np.ndarray, doc: np.ndarray, tokens: Sequence[int]
) -> list[str | None]:
    """For each document, the language whose stopwords cover most of its tokens, or None below the
    minimum share.

    ``bits`` come from :func:`language_bits`, one per distinct word of each document, which occurs
    ``counts`` times in document ``doc`` (sorted); document ``d`` has ``tokens[d]`` tokens."""
    _, _, languages = _stopword_table()
    found: list[str | None] = [None] * len(tokens)
    listed = np.flatnonzero(bits)
    if not len(listed):
        return found
    # Bit i of each mask, for every language at once: the masks' bytes unpacked into bits, weighted by
    # the words' counts and summed per document.
    unpacked = np.unpackbits(
        bits[listed].astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    weighted = unpacked[:, : len(languages)] * counts[listed][:, None]
    if len(tokens) == 1:
        covered, docs = weighted.sum(axis=0)[None, :], [0]
    else:
        starts = np.flatnonzero(np.diff(doc[listed], prepend=-1))
        covered, docs = np.add.reduceat(weighted, starts, axis=0), doc[listed][starts].tolist()
    for row, d in enumerate(docs):
        found[d] = _chosen(covered[row], tokens[d], languages)
    return found


def _chosen(covered: np.ndarray, tokens: int, languages: tuple[str, ...]) -> str | None:
    best = int(np.argmax(covered))
    if covered[best] < MIN_STOPWORD_SHARE * tokens:
        return None
    for bit, lang in enumerate(languages[: len(PREFERRED)]):  # PREFERRED hold the first bits
        if covered[bit] >= PREFERRED_SHARE * covered[best]:
            return lang
    return languages[best]


@lru_cache(maxsize=4)
def _dictionary(language: str) -> Mapping[str, str]:
    """simplemma's word -> lemma mapping of ``language`` (loaded once: 0.2 s for English, 0.03 s for
    Indonesian), looked up directly rather than through simplemma's strategy layers."""
    from simplemma.strategies import DefaultDictionaryFactory

    return DefaultDictionaryFactory().get_dictionary(language)


@lru_cache(maxsize=1)
def _lemmatizer_languages() -> frozenset[str]:
    from importlib.resources import files

    data = files("simplemma") / "strategies" / "dictionaries" / "data"
    return frozenset(p.name.split(".")[0] for p in data.iterdir() if p.name.endswith(".plzma"))


Lexical = tuple[str | None, np.ndarray, np.ndarray]  # (language, lemma hashes, stopword mask)


def analyse(hashes: np.ndarray, token_at: Callable[[int], str]) -> Lexical:
    """``(language, lemmas, stop)`` of a document's tokens: its guessed language, each token's lemma
    hash and a stopword mask. ``hashes`` are the tokens' hashes and ``token_at(i)`` the folded form
    of token ``i``. Everything is decided once per distinct word; stopwords keep their own hash."""
    return analyse_many([hashes], lambda _doc, i: token_at(i))[0]


def analyse_many(hashes: Sequence[np.ndarray], token_at: Callable[[int, int], str]) -> list[Lexical]:
    """:func:`analyse` of several documents at once (``token_at(d, i)``: token ``i`` of document
    ``d``), with the same result for each as alone: a few whole-array operations over all their
    tokens instead of the same operations per document, which for a 600-word article cost more in
    numpy's per-call overhead than in work. What is decided once per distinct word of a document is
    decided here once per distinct (document, word) pair."""
    bounds = [0, *itertools.accumulate(len(h) for h in hashes)]
    if not bounds[-1]:
        return [(None, h, np.zeros(0, dtype=bool)) for h in hashes]
    every = np.concatenate(hashes) if len(hashes) > 1 else hashes[0]
    if len(hashes) == 1:
        unique, first, of_token, counts = np.unique(
            every, return_index=True, return_inverse=True, return_counts=True
        )
        word, doc = np.arange(len(unique)), np.zeros(len(unique), dtype=np.int64)
    else:
        unique, inverse = np.unique(every, return_inverse=True)
        doc_of = np.repeat(np.arange(len(hashes)), np.diff(bounds))
        pairs, first, of_token, counts = np.unique(
            doc_of * len(unique) + inverse, return_index=True, return_inverse=True, return_counts=True
        )
        word, doc = pairs % len(unique), pairs // len(unique)  # pairs are sorted by document
    bits = language_bits(unique)[word]
    found = guess_languages(bits, counts, doc, [len(h) for h in hashes])
    _, _, languages = _stopword_table()
    own_bit = np.array([0 if lang is None else 1 << languages.index(lang) for lang in found], dtype=np.uint64)
    stop = (bits & own_bit[doc]) != 0
    lemmas = unique[word]
    for lang in {lang for lang in found if lang is not None and lang in _lemmatizer_languages()}:
        at = np.flatnonzero(np.array([f == lang for f in found])[doc] & ~stop)
        words = unique[word[at]]
        back: slice | np.ndarray = slice(None)
        at_once = at
        if len(hashes) > 1:  # a word of several documents is looked up once
            words, once, back = np.unique(words, return_index=True, return_inverse=True)
            at_once = at[once]

        def word_at(i: int) -> str:
            d = bisect.bisect_right(bounds, i) - 1
            return token_at(d, i - bounds[d])

        lemmas[at] = _lemma_hashes(words, first[at_once], word_at, lang)[back]
    return [
        (lang, lemmas[of_token[a:b]], stop[of_token[a:b]])
        for lang, a, b in zip(found, bounds[:-1], bounds[1:])
    ]


def _lemma_hashes(
    unique: np.ndarray, first: np.ndarray, token_at: Callable[[int], str], language: str
) -> np.ndarray:
    """Lemma hashes of the distinct (sorted) token hashes ``unique``, whose first occurrences are the
    tokens ``first``; ``token_at`` is asked only for words this process has not lemmatised before."""
    table = _lemma_tables.setdefault(language, _LemmaTable())
    out, missing = table.lookup(unique)
    if missing.any():
        at = np.flatnonzero(missing)
        dictionary = _dictionary(language)
        lemmas = unique[at].copy()  # a word the dictionary does not know is its own lemma
        changed, forms = [], []
        for n, i in enumerate(first[at].tolist()):
            word = token_at(i)
            lemma = dictionary.get(word)
            if lemma is not None and lemma != word:
                # A lemma in the tokens' own form; one that folds to nothing stays the word.
                changed.append(n)
                forms.append(fold(lemma) or word)
        if changed:
            lemmas[changed] = token_hashes(forms)
        out[at] = lemmas
        table.learn(unique[at], lemmas)
    return out
