"""Normalise text into word tokens that remember where they came from.

A :class:`Document` holds the *content* tokens of a text: Unicode NFKC, case-folded, punctuation- and
whitespace-insensitive words, each with its ``[start, end)`` character span in the text exactly as it
was given. Boilerplate lines (share buttons, "Baca juga:" links, editor lines, anti-copy notices,
repeated captions; see :mod:`checker.boilerplate`) are dropped from the token stream, but every kept
token still points into the original string, so passages found on tokens map back to exact offsets.

Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar) become one token
per character, so that shingles over them are character shingles.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import regex

from checker.boilerplate import boilerplate_ranges
from checker.quotes import quoted_ranges

# Scripts without word separators: each character is a token of its own.
_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# A word is a run of letters, digits and combining marks (so Devanagari vowel signs stay inside
# their word), except characters of the scripts above, which stand alone.
TOKEN_RE = regex.compile(
    rf"[{_NO_SPACE_SCRIPTS}]|(?:(?![{_NO_SPACE_SCRIPTS}])[\p{{L}}\p{{N}}\p{{M}}])+",
    regex.VERSION1,
)
_CHAR_TOKEN_RE = regex.compile(rf"^[{_NO_SPACE_SCRIPTS}]$")


def fold(token: str) -> str:
    """The comparison form of one token: NFKC, then Unicode case folding."""
    return unicodedata.normalize("NFKC", token).casefold()


@dataclass(frozen=True, slots=True)
class Document:
    """Content tokens of a text with their character spans in the original.

    Attributes:
        text: the text exactly as submitted.
        tokens: normalised tokens, boilerplate removed.
        starts, ends: int64 arrays, ``text[starts[i]:ends[i]]`` is the original form of ``tokens[i]``.
        quoted: bool array, True where the token lies inside a direct quotation.
        char_tokens: True when most tokens are single characters of a script without word spaces.
    """

    text: str
    tokens: list[str]
    starts: np.ndarray
    ends: np.ndarray
    quoted: np.ndarray
    char_tokens: bool

    def __len__(self) -> int:
        return len(self.tokens)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span covering tokens ``first..last`` inclusive."""
        return int(self.starts[first]), int(self.ends[last])


def _raw_tokens(text: str) -> tuple[list[str], list[int], list[int]]:
    """Tokenise ``text``; spans index ``text`` itself.

    Fast path: when NFKC leaves the text unchanged and case folding maps every character to exactly
    one character, folding the whole text first keeps positions aligned, so one regex pass over the
    folded text gives both the normalised tokens and their original spans.
    """
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text) and len(folded := text.casefold()) == len(text)
    ):
        folded = text.lower() if text.isascii() else folded
        tokens, starts, ends = [], [], []
        for m in TOKEN_RE.finditer(folded):
            tokens.append(m.group())
            starts.append(m.start())
            ends.append(m.end())
        return tokens, starts, ends
    tokens, starts, ends = [], [], []
    for m in TOKEN_RE.finditer(text):
        normal = fold(m.group())
        # NFKC may turn one token into several words (e.g. "½" -> "1⁄2"); keep them as one token so the
        # span stays exact, dropping separators the normal form introduced.
        normal = "".join(TOKEN_RE.findall(normal)) or normal
        tokens.append(normal)
        starts.append(m.start())
        ends.append(m.end())
    return tokens, starts, ends


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
    tokens, starts_l, ends_l = _raw_tokens(text)
    starts = np.asarray(starts_l, dtype=np.int64)
    ends = np.asarray(ends_l, dtype=np.int64)
    if drop_boilerplate and tokens:
        keep = ~_mask_ranges(starts, boilerplate_ranges(text))
        if not keep.all():
            tokens = [t for t, k in zip(tokens, keep.tolist()) if k]
            starts, ends = starts[keep], ends[keep]
    quoted = _mask_ranges(starts, quoted_ranges(text))
    char_count = sum(1 for t in tokens[:200] if len(t) == 1 and _CHAR_TOKEN_RE.match(t))
    char_tokens = bool(tokens) and char_count * 2 > min(len(tokens), 200)
    return Document(text, tokens, starts, ends, quoted, char_tokens)
