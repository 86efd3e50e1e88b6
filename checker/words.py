"""What a word is: the class of every code point, and the comparison form of a word.

A word is a run of letters, digits and combining marks (Unicode categories L, N, M, so Devanagari vowel
signs stay inside their word). Scripts written without spaces between words (Han, kana, Thai, Lao,
Khmer, Myanmar) are one token per character, so that shingles over them are character shingles.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import regex
from numpy.typing import NDArray

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
def _bmp_classes() -> NDArray[np.uint8]:
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


def classify(cps: NDArray[np.uint32]) -> NDArray[np.uint8]:
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


def words_of(text: str) -> list[str]:
    """The comparison forms of the words of ``text`` (a short phrase; not vectorised)."""
    return [fold(w) for w in _WORD_RUN.findall(text)]
