"""Pick the phrases of an article worth sending to a web search engine, to find copies nobody submitted.

An exact-phrase query (``"..."``) finds a copy only if the phrase is on the copy, word for word, and
finds little else only if the phrase is the article's own. So a good phrase is:

- **distinctive**: made of content words (not the stopwords of the article's language,
  :mod:`checker.lexicon`), long ones preferred (long words are the rare ones: names, places, terms),
  numbers counting a little extra; a sentence of function words ("dan itu juga yang ...") matches
  half the web;
- **the article's own text**: not a boilerplate line (share buttons, "Baca juga:", editor credits;
  :mod:`checker.boilerplate`), not inside a quotation (every outlet covering a press conference
  carries the same quote, :mod:`checker.quotes`);
- **contiguous on any copy**: inside one sentence and one paragraph (a copy's HTML puts a heading
  and a paragraph in separate elements, and search engines do not match phrases across them);
- **of a sensible length**: :data:`MIN_WORDS` to :data:`MAX_WORDS` words. Shorter phrases are shared
  by chance; longer ones break on the first word a copier changes, and engines cap query length;
- **spread over the article**: one phrase from each part, because copiers often take the first
  paragraphs only, or a middle section.

Pure: text in, phrases out, deterministic (the same text always gives the same phrases, so the
query cache in :mod:`worker.search` works).
"""

from __future__ import annotations

import hashlib

import numpy as np
import regex

from checker.normalize import Document, normalize
from checker.words import fold, words_of

# Phrase length in words. Eight words of running text are almost never shared by independent reports
# (the matcher's own floor for a passage is 15 words of overlap; a search phrase only has to find the
# page, the scan decides); twelve is about the longest phrase engines take as one quoted query.
MIN_WORDS, MAX_WORDS = 8, 12
# Scripts written without spaces (one token per character): phrases in characters.
MIN_CHARS, MAX_CHARS = 12, 24
# A phrase needs at least this many content (non-stopword) words...
MIN_CONTENT_WORDS = 4
# ...and at least this share of its words.
MIN_CONTENT_SHARE = 0.4
# Weight of a content word: 1, plus LENGTH_BONUS per character up to LENGTH_CAP characters (long
# words are rare words), plus DIGIT_BONUS when it holds a digit (figures, dates, law numbers).
LENGTH_BONUS, LENGTH_CAP, DIGIT_BONUS = 0.1, 12, 0.3
# Double quotation marks would end the quoted query early; apostrophes stay ("don't", "’90s").
_DOUBLE_QUOTES = regex.compile('["\u201c\u201d\u201e\u201f\u00ab\u00bb\u300c\u300d\u300e\u300f]')
_PARAGRAPH_BREAK = regex.compile(r"\n[^\S\n]*\n")
_WORD_RUN = regex.compile(r"[\p{L}\p{N}\p{M}]+")


def phrase_key(phrase: str) -> str:
    """sha256 (hex) of the phrase's normalised words: what "the same query" means for the cache, so
    case, punctuation and spacing do not make a phrase new."""
    return hashlib.sha256(" ".join(words_of(phrase)).encode("utf-8")).hexdigest()


def clean_phrase(text: str) -> str:
    """``text`` as it is sent: double quotation marks removed, whitespace collapsed to single spaces."""
    return " ".join(_DOUBLE_QUOTES.sub(" ", text).split())


def pick_phrases(
    text: str, count: int = 3, *, min_words: int | None = None, max_words: int | None = None
) -> list[str]:
    """Up to ``count`` distinctive phrases of ``text``, in text order (see the module docstring).

    Fewer (or none) when the text has too few sentences that qualify: a short text, one that is all
    quotations, or one of stopwords only."""
    if count <= 0 or not text:
        return []
    doc = normalize(text)
    n = len(doc)
    if n == 0:
        return []
    lo = min_words or (MIN_CHARS if doc.char_tokens else MIN_WORDS)
    hi = max(max_words or (MAX_CHARS if doc.char_tokens else MAX_WORDS), lo)
    if n < lo:
        return []
    weight, content = _weights(doc)
    starts, lengths, scores = _windows(doc, weight, content, lo, hi)
    if not len(starts):
        return []
    chosen = _spread(starts, lengths, scores, n, count)
    phrases, keys = [], set()
    for t in sorted(chosen):
        length = int(lengths[np.searchsorted(starts, t)])
        phrase = clean_phrase(text[int(doc.starts[t]) : int(doc.ends[t + length - 1])])
        key = phrase_key(phrase)
        if phrase and key not in keys:
            keys.add(key)
            phrases.append(phrase)
    return phrases


def _weights(doc: Document) -> tuple[np.ndarray, np.ndarray]:
    """Per token, its weight in a phrase's score and whether it is a content word."""
    _, _, stop = doc.lexical()
    content = ~stop
    tokens = doc.tokens
    sizes = np.fromiter((min(len(t), LENGTH_CAP) for t in tokens), dtype=np.float64, count=len(tokens))
    digits = np.fromiter((any(c.isdigit() for c in t) for t in tokens), dtype=bool, count=len(tokens))
    weight = np.where(content, 1.0 + LENGTH_BONUS * sizes + DIGIT_BONUS * digits, 0.0)
    return weight, content


def _breaks(doc: Document) -> np.ndarray:
    """``out[t]``: a phrase may not run from token ``t - 1`` into token ``t`` (another sentence, a
    paragraph break, or dropped boilerplate between them)."""
    n = len(doc)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    of = doc.sentences.of_token
    out[1:] = of[1:] != of[:-1]
    gap_start, gap_end = doc.ends[:-1], doc.starts[1:]
    text = doc.text
    for t in np.flatnonzero(gap_end - gap_start > 1).tolist():
        gap = text[int(gap_start[t]) : int(gap_end[t])]
        if _PARAGRAPH_BREAK.search(gap) or _WORD_RUN.search(
            gap
        ):  # a word in the gap: boilerplate was dropped
            out[t + 1] = True
    return out


def _windows(
    doc: Document, weight: np.ndarray, content: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every start token of a qualifying phrase, its length (the longest up to ``hi``) and score."""
    n = len(doc)
    breaks = np.cumsum(_breaks(doc))  # breaks[t]: boundaries at or before token t
    quoted = np.concatenate([[0], np.cumsum(doc.quoted)])
    weights = np.concatenate([[0.0], np.cumsum(weight)])
    contents = np.concatenate([[0], np.cumsum(content)])
    length = np.zeros(n, dtype=np.int64)
    for size in range(lo, hi + 1):  # the longest size that fits wins
        t = np.arange(0, n - size + 1)
        ok = (quoted[t + size] == quoted[t]) & (breaks[t + size - 1] == breaks[t])
        words = contents[t + size] - contents[t]
        ok &= (words >= MIN_CONTENT_WORDS) & (words >= MIN_CONTENT_SHARE * size)
        length[t[ok]] = size
    starts = np.flatnonzero(length)
    if not doc.char_tokens and len(starts):
        starts = starts[[_whole_words(doc, int(t), int(length[t])) for t in starts.tolist()]]
    lengths = length[starts]
    scores = weights[starts + lengths] - weights[starts]
    return starts, lengths, scores


def _whole_words(doc: Document, first: int, size: int) -> bool:
    """The phrase's text holds exactly its tokens as words (not, say, a lone CJK character token
    that the search engine would read differently)."""
    span = doc.text[int(doc.starts[first]) : int(doc.ends[first + size - 1])]
    words = [fold(w) for w in _WORD_RUN.findall(span)]
    return len(words) == size


def _spread(starts: np.ndarray, lengths: np.ndarray, scores: np.ndarray, n: int, count: int) -> list[int]:
    """Start tokens of up to ``count`` non-overlapping phrases: the best of each of ``count`` equal
    parts of the text, then the best left anywhere for the parts that had none."""
    chosen: list[int] = []

    def free(t: int, size: int) -> bool:
        return all(t + size <= c or c + int(lengths[np.searchsorted(starts, c)]) <= t for c in chosen)

    bounds = [n * k // count for k in range(count + 1)]
    for k in range(count):
        inside = np.flatnonzero((starts >= bounds[k]) & (starts < bounds[k + 1]))
        for i in inside[np.argsort(-scores[inside], kind="stable")].tolist():
            if free(int(starts[i]), int(lengths[i])):
                chosen.append(int(starts[i]))
                break
    if len(chosen) < count:
        for i in np.argsort(-scores, kind="stable").tolist():
            if len(chosen) >= count:
                break
            if free(int(starts[i]), int(lengths[i])):
                chosen.append(int(starts[i]))
    return chosen
