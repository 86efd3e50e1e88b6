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

from collections.abc import Callable, Mapping
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

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
    :func:`guess_language` and :func:`stopword_mask`)."""
    table, bits, _ = _stopword_table()
    if not len(hashes) or not len(table):
        return np.zeros(len(hashes), dtype=np.uint64)
    pos = np.minimum(np.searchsorted(table, hashes), len(table) - 1)
    return np.where(table[pos] == hashes, bits[pos], np.uint64(0))


def guess_language(bits: np.ndarray, counts: np.ndarray) -> str | None:
    """The language whose stopwords cover most of a document's tokens, or None below the minimum share.

    ``bits`` come from :func:`language_bits`, one per distinct token, occurring ``counts`` times."""
    if not len(bits):
        return None
    listed = bits != 0
    _, _, languages = _stopword_table()
    # Bit i of each mask, for every language at once: the masks' bytes unpacked into bits.
    unpacked = np.unpackbits(
        bits[listed].astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    covered = (unpacked * counts[listed][:, None]).sum(axis=0)[: len(languages)]
    best = int(np.argmax(covered))
    if covered[best] < MIN_STOPWORD_SHARE * counts.sum():
        return None
    for bit, lang in enumerate(languages[: len(PREFERRED)]):  # PREFERRED hold the first bits
        if covered[bit] >= PREFERRED_SHARE * covered[best]:
            return lang
    return languages[best]


def stopword_mask(bits: NDArray[np.uint64], language: str | None) -> NDArray[np.bool_]:
    """True for the tokens that are stopwords of ``language`` (none when it is unknown)."""
    if language is None:
        return np.zeros(len(bits), dtype=bool)
    _, _, languages = _stopword_table()
    mask: NDArray[np.bool_] = (bits & np.uint64(1 << languages.index(language))) != 0
    return mask


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


def analyse(hashes: np.ndarray, token_at: Callable[[int], str]) -> tuple[str | None, np.ndarray, np.ndarray]:
    """``(language, lemmas, stop)`` of a document's tokens: its guessed language, each token's lemma
    hash and a stopword mask. ``hashes`` are the tokens' hashes and ``token_at(i)`` the folded form
    of token ``i``. Everything is decided once per distinct word; stopwords keep their own hash."""
    if not len(hashes):
        return None, hashes, np.zeros(0, dtype=bool)
    unique, first, inverse, counts = np.unique(
        hashes, return_index=True, return_inverse=True, return_counts=True
    )
    bits = language_bits(unique)
    language = guess_language(bits, counts)
    stop = stopword_mask(bits, language)
    lemmas = unique.copy()
    if language is not None and language in _lemmatizer_languages():
        content = np.flatnonzero(~stop)
        lemmas[content] = _lemma_hashes(unique[content], first[content], token_at, language)
    return language, lemmas[inverse], stop[inverse]


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
