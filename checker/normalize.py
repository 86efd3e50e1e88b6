"""Normalise text into word tokens that remember where they came from.

A :class:`Document` holds the *content* tokens of a text: Unicode NFKC, case-folded, punctuation- and
whitespace-insensitive words, each with its ``[start, end)`` character span in the text exactly as it
was given. Boilerplate lines (share buttons, "Baca juga:" links, editor lines, anti-copy notices,
repeated captions; see :mod:`checker.boilerplate`) are dropped from the token stream, but every kept
token still points into the original string, so passages found on tokens map back to exact offsets.

What a word is: :mod:`checker.words`. A document also knows its sentences (:mod:`checker.sentences`)
and, on first use, its language, lemmas and stopwords (:mod:`checker.lexicon`), which reworded copies
are compared by.

Tokenising is vectorised: the text becomes an array of code points, a lookup table classifies them,
and word boundaries are where the class changes; token hashes come from prefix sums over the folded
code points (:mod:`checker.shingles`). No Python call per character or per token on the common path.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from checker.boilerplate import boilerplate_ranges
from checker.lexicon import Lexical, analyse, analyse_many
from checker.quotes import quoted_ranges
from checker.sentences import Sentences, split_sentences
from checker.shingles import codepoints, shingle_hashes, span_hashes, token_hashes
from checker.words import ALONE, SEPARATOR, WORD, classify, fold


@dataclass(frozen=True, slots=True)
class Document:
    """Content tokens of a text with their character spans in the original.

    Attributes:
        text: the text exactly as submitted.
        tokens: normalised tokens, boilerplate removed.
        hashes: uint64 hash of each token (:func:`checker.shingles.token_hashes` of ``tokens``).
        starts, ends: int64 arrays, ``text[starts[i]:ends[i]]`` is the original form of ``tokens[i]``.
        quoted: bool array, True where the token lies inside a direct quotation.
        char_tokens: True when most tokens are single characters of a script without word spaces.
        sentences: the tokens cut into sentences.
        language, lemmas, stop: computed on first use (see :meth:`lexical`).
    """

    text: str
    token_list: list[str] | None  # None: slices of ``folded``, made on first use of ``tokens``
    folded: str | None
    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray
    char_tokens: bool
    sentences: Sentences
    _lexical: Lexical | None = None

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def tokens(self) -> list[str]:
        tokens = self.token_list
        if tokens is None:
            assert self.folded is not None
            tokens = [self.folded[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())]
            object.__setattr__(self, "token_list", tokens)  # a cache, not a change of value
        return tokens

    def lexical(self) -> Lexical:
        """``(language, lemmas, stop)``: the guessed language, a uint64 lemma hash per token and a
        stopword mask. Text without word spaces has no lemmas: each character's unit is the
        character bigram starting at it, which carries more meaning than one character."""
        value = self._lexical
        if value is None:
            if self.char_tokens:
                bigrams = shingle_hashes(self.hashes, 2) if len(self.hashes) > 1 else self.hashes
                units = np.append(bigrams, self.hashes[len(bigrams) :])
                value = (None, units, np.zeros(len(self), dtype=bool))
            else:
                value = analyse(self.hashes, self._token)
            self._keep_lexical(value)
        return value

    def _keep_lexical(self, value: Lexical) -> None:
        object.__setattr__(self, "_lexical", value)  # a cache, not a change of value

    def _token(self, i: int) -> str:
        """Token ``i`` without building the whole token list."""
        if self.token_list is not None:
            return self.token_list[i]
        assert self.folded is not None
        return self.folded[int(self.starts[i]) : int(self.ends[i])]

    @property
    def lemmas(self) -> np.ndarray:
        return self.lexical()[1]

    @property
    def stop(self) -> np.ndarray:
        return self.lexical()[2]

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span covering tokens ``first..last`` inclusive."""
        return int(self.starts[first]), int(self.ends[last])


def _token_spans(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans of word runs and of standalone characters, in text order."""
    word = (classes == WORD).astype(np.int8)
    edges = np.diff(np.concatenate([[0], word, [0]]))
    run_starts, run_ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    alone = np.flatnonzero(classes == ALONE)
    if not len(alone):
        return run_starts.astype(np.int64), run_ends.astype(np.int64)
    starts = np.concatenate([run_starts, alone])
    ends = np.concatenate([run_ends, alone + 1])
    order = np.argsort(starts, kind="stable")
    return starts[order].astype(np.int64), ends[order].astype(np.int64)


def _tokens(
    text: str,
) -> tuple[list[str] | None, str | None, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens (or the folded text they are slices of), hashes, spans, code points and their classes.

    Fast path: when NFKC leaves the text unchanged and case folding maps every character to exactly
    one character (all ASCII text, and nearly all other text), the folded text is aligned with the
    original, so tokens are slices of it and hashes come straight from its code points.
    """
    cps = codepoints(text)
    classes = classify(cps)
    starts, ends = _token_spans(classes)
    if text.isascii():
        folded = text.lower()
    elif unicodedata.is_normalized("NFKC", text) and len(folded := text.casefold()) == len(text):
        pass
    else:
        tokens = [fold(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
        return tokens, None, token_hashes(tokens), starts, ends, cps, classes
    hashes = span_hashes(cps if folded == text else codepoints(folded), starts, ends)
    return None, folded, hashes, starts, ends, cps, classes


def _mask_ranges(starts: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """True for each token whose start falls inside one of the sorted, disjoint ``ranges``."""
    mask = np.zeros(len(starts), dtype=bool)
    if not ranges or not len(starts):
        return mask
    bounds = np.asarray(ranges, dtype=np.int64)
    pos = np.searchsorted(bounds[:, 0], starts, side="right") - 1
    inside = pos >= 0
    mask[inside] = starts[inside] < bounds[pos[inside], 1]
    return mask


def normalize(text: str, *, drop_boilerplate: bool = True) -> Document:
    """Tokenise and normalise ``text`` into a :class:`Document` (see the module docstring)."""
    tokens, folded, hashes, starts, ends, cps, classes = _tokens(text)
    char_tokens = bool(len(starts)) and int((classes == ALONE).sum()) * 2 > len(starts)
    if drop_boilerplate and len(starts):
        keep = ~_mask_ranges(starts, boilerplate_ranges(text))
        if not keep.all():
            if tokens is not None:
                tokens = [t for t, k in zip(tokens, keep.tolist()) if k]
            hashes, starts, ends = hashes[keep], starts[keep], ends[keep]
    quoted = _mask_ranges(starts, quoted_ranges(text))
    sentences = split_sentences(cps, classes != SEPARATOR, starts)
    return Document(text, tokens, folded, hashes, starts, ends, quoted, char_tokens, sentences)


def analyse_documents(docs: Sequence[Document]) -> None:
    """Compute :meth:`Document.lexical` of every document of ``docs`` that has not computed it yet, the
    word-spaced ones together (:func:`checker.lexicon.analyse_many`: the same values, a fraction of
    the time for a batch of articles)."""
    todo = [d for d in docs if d._lexical is None and not d.char_tokens]
    for doc, value in zip(todo, analyse_many([d.hashes for d in todo], lambda n, i: todo[n]._token(i))):
        doc._keep_lexical(value)
