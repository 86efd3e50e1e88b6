"""Cut a document's tokens into sentences, the unit that reworded copies keep.

A copier who rewords a text (synonyms, shuffled clauses, machine translation there and back, a summary)
rarely keeps a run of identical words, but nearly always keeps the sentence as a unit of meaning: its
names, numbers and content words. Sentences are what :mod:`checker.align` compares reworded text by,
and what :mod:`checker.fingerprint` sketches for the index.

Boundaries, decided on the separator text between two tokens (vectorised over code points):

- a sentence mark (``. ! ? …``) that is not followed by a word character ("3.5" and "e.g.x" do not end
  a sentence; "U.S. Army" does, which costs nothing worse than a short sentence);
- a full-width mark (``。！？``), whatever follows (Chinese and Japanese put no space after it);
- a blank line (a paragraph break). A single line break is *not* a boundary: copies re-wrap lines.

Then sentences shorter than ``min_tokens`` (headings, "Dr." splits) are merged into the next (the last
one into the one before), and
sentences longer than ``max_tokens`` (tables, lists, text without punctuation) are cut into equal
pieces, so that one runaway "sentence" cannot dilute the comparison of a whole page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# What each code point below U+10000 is to a sentence (none of the marks lies above).
_OTHER, _END, _WIDE_END, _NEWLINE = 0, 1, 2, 3
_MARKS = np.zeros(0x10000, dtype=np.uint8)
_MARKS[[ord(c) for c in ".!?\u2026"]] = _END
_MARKS[[ord(c) for c in "\u3002\uff01\uff1f\uff0e"]] = _WIDE_END
_MARKS[[ord(c) for c in "\n\u2028\u2029\x85"]] = _NEWLINE
# Sentences shorter than this many tokens are merged into the next (a heading, a split abbreviation).
MIN_SENTENCE_TOKENS = 4
# Longer runs without a boundary are cut into pieces of at most this many tokens.
MAX_SENTENCE_TOKENS = 60


@dataclass(frozen=True, slots=True)
class Sentences:
    """Sentence ``i`` covers tokens ``first[i] .. end[i] - 1``; ``of_token[t]`` is the sentence of token ``t``."""

    first: np.ndarray
    end: np.ndarray
    of_token: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def boundary_before(cps: np.ndarray, word: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``out[t]`` is True when a sentence boundary lies between token ``t - 1`` and token ``t``.

    ``cps`` are the text's code points and ``word`` marks those that belong to words."""
    n = len(starts)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    # U+FFFF is a noncharacter with no mark, so code points above it can share its entry.
    marks = _MARKS[np.minimum(cps, 0xFFFF)]
    at = np.flatnonzero(marks)
    kind = marks[at]
    # A mark followed by a word character continues the sentence ("3.5", "e.g.x").
    following = np.append(word, False)[at + 1]
    ends_sentence = ((kind == _END) & ~following) | (kind == _WIDE_END)
    # The token each mark precedes: a mark inside a token's own text (none in practice) counts for
    # the next token, which is where its sentence would start anyway.
    after = np.searchsorted(starts, at, side="right")
    inside = after < n
    out[after[inside & ends_sentence]] = True
    newlines = np.bincount(after[inside & (kind == _NEWLINE)], minlength=n)
    out |= newlines >= 2
    out[0] = False
    return out


def split_sentences(
    cps: np.ndarray,
    word: np.ndarray,
    starts: np.ndarray,
    *,
    min_tokens: int = MIN_SENTENCE_TOKENS,
    max_tokens: int = MAX_SENTENCE_TOKENS,
) -> Sentences:
    """Sentences of the tokens starting at ``starts`` in a text with code points ``cps`` (see the
    module docstring); ``word`` marks the code points that belong to words."""
    n = len(starts)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Sentences(empty, empty, empty)
    cut = np.flatnonzero(boundary_before(cps, word, starts))
    lengths = np.diff(np.concatenate([[0], cut, [n]]))
    # A short sentence joins the next one; a short last sentence joins the one before.
    keep = lengths[:-1] >= min_tokens
    if len(keep) and lengths[-1] < min_tokens:
        keep[-1] = False
    cut = cut[keep]
    first = np.concatenate([[0], cut]).astype(np.int64)
    end = np.concatenate([cut, [n]]).astype(np.int64)
    pieces = -(-(end - first) // max_tokens)
    if (pieces > 1).any():
        # Cut runaway sentences into equal pieces of at most max_tokens.
        owner = np.repeat(np.arange(len(first)), pieces)
        part = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        size = (end - first)[owner]
        first, end = (
            first[owner] + size * part // pieces[owner],
            first[owner] + size * (part + 1) // pieces[owner],
        )
    of_token = np.repeat(np.arange(len(first), dtype=np.int64), end - first)
    return Sentences(first, end, of_token)
