"""Normalise text into word tokens that remember where they came from.

A :class:`Document` holds the *content* tokens of a text: Unicode NFKC, case-folded, punctuation- and
whitespace-insensitive words, each with its ``[start, end)`` character span in the text exactly as it
was given. Boilerplate lines (share buttons, "Baca juga:" links, editor lines, anti-copy notices,
repeated captions; see :mod:`checker.boilerplate`) are dropped from the token stream, but every kept
token still points into the original string, so passages found on tokens map back to exact offsets.

A word is a run of letters, digits and combining marks (Unicode categories L, N, M, so Devanagari vowel
signs stay inside their word). Scripts written without spaces between words (Han, kana, Thai, Lao,
Khmer, Myanmar) become one token per character, so that shingles over them are character shingles.

Tokenising is vectorised: the text becomes an array of code points, a lookup table classifies them,
and word boundaries are where the class changes; token hashes come from prefix sums over the folded
code points (:mod:`checker.shingles`). No Python call per character or per token on the common path.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

from checker.boilerplate import boilerplate_ranges
from checker.quotes import quoted_ranges
from checker.shingles import codepoints, span_hashes, token_hashes

SEPARATOR, WORD, ALONE = 0, 1, 2
# Blocks of scripts written without word spaces: every character is a token of its own.
NO_SPACE_BLOCKS = [
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B-G
]


_WORD_RUN = regex.compile(r"[\p{L}\p{N}\p{M}]+")


def _char_class(cp: int) -> int:
    word = _WORD_RUN.fullmatch(chr(cp)) is not None
    if word and any(lo <= cp <= hi for lo, hi in NO_SPACE_BLOCKS):
        return ALONE
    return WORD if word else SEPARATOR


@lru_cache(maxsize=1)
def _bmp_classes() -> np.ndarray:
    """Class of every Basic Multilingual Plane code point: one regex pass over all of them (~10 ms)."""
    plane = "".join(map(chr, range(0x10000)))
    table = np.zeros(0x10000, dtype=np.uint8)
    for m in _WORD_RUN.finditer(plane):
        table[m.start() : m.end()] = WORD
    for lo, hi in NO_SPACE_BLOCKS:
        if lo <= 0xFFFF:
            block = table[lo : min(hi, 0xFFFF) + 1]
            block[block == WORD] = ALONE
    return table


def classify(cps: np.ndarray) -> np.ndarray:
    """SEPARATOR / WORD / ALONE for each code point."""
    table = _bmp_classes()
    classes = table[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps > 0xFFFF)
    for i in astral.tolist():  # emoji and rare scripts only
        classes[i] = _char_class(int(cps[i]))
    return classes


def fold(token: str) -> str:
    """The comparison form of one token: NFKC, then Unicode case folding, word characters only (NFKC
    may split one character into several, e.g. "½" -> "1⁄2"; the token keeps its single span)."""
    normal = unicodedata.normalize("NFKC", token).casefold()
    # The same word-character test as the tokeniser (the regex module's Unicode data, which may be
    # newer than this Python's unicodedata).
    return "".join(_WORD_RUN.findall(normal)) or normal


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
    """

    text: str
    token_list: list[str] | None  # None: slices of ``folded``, made on first use of ``tokens``
    folded: str | None
    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray
    char_tokens: bool

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def tokens(self) -> list[str]:
        if self.token_list is None:
            assert self.folded is not None
            tokens = [self.folded[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())]
            object.__setattr__(self, "token_list", tokens)  # a cache, not a change of value
        return self.token_list  # type: ignore[return-value]

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


def _tokens(text: str) -> tuple[list[str] | None, str | None, np.ndarray, np.ndarray, np.ndarray, int]:
    """Tokens (or the folded text they are slices of), hashes, spans, and the standalone count.

    Fast path: when NFKC leaves the text unchanged and case folding maps every character to exactly
    one character (all ASCII text, and nearly all other text), the folded text is aligned with the
    original, so tokens are slices of it and hashes come straight from its code points.
    """
    cps = codepoints(text)
    classes = classify(cps)
    starts, ends = _token_spans(classes)
    n_alone = int((classes == ALONE).sum())
    if text.isascii():
        folded = text.lower()
    elif unicodedata.is_normalized("NFKC", text) and len(folded := text.casefold()) == len(text):
        pass
    else:
        tokens = [fold(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
        return tokens, None, token_hashes(tokens), starts, ends, n_alone
    hashes = span_hashes(cps if folded == text else codepoints(folded), starts, ends)
    return None, folded, hashes, starts, ends, n_alone


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
    tokens, folded, hashes, starts, ends, n_alone = _tokens(text)
    char_tokens = bool(len(starts)) and n_alone * 2 > len(starts)
    if drop_boilerplate and len(starts):
        keep = ~_mask_ranges(starts, boilerplate_ranges(text))
        if not keep.all():
            if tokens is not None:
                tokens = [t for t, k in zip(tokens, keep.tolist()) if k]
            hashes, starts, ends = hashes[keep], starts[keep], ends[keep]
    quoted = _mask_ranges(starts, quoted_ranges(text))
    return Document(text, tokens, folded, hashes, starts, ends, quoted, char_tokens)
