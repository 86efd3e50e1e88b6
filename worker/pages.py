"""Fetch a suspect URL and build the text to scan, with the page's evidence.

Extraction keeps the article body for display, but drops paragraphs on some real pages, so the text we
scan is the main text followed by the visible text's paragraph-like lines that the main text lacks:
coverage is not lost, menus and footers (short lines) stay out, and offsets still refer to the one
text we store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from checker.normalize import normalize
from checker.scans import PageEvidence
from checker.settings import Settings
from worker.extract import ExtractedPage, extract_fetched
from worker.fetch import FetchedPage, FetchOptions, fetch

# A visible-text line needs this many words to be appended: shorter ones are navigation, buttons,
# bylines and dates, which would only dilute suspect coverage.
MIN_EXTRA_LINE_WORDS = 8
# Separates the main text from the extra lines in the stored suspect text.
EXTRA_TEXT_HEADER = "\n\n[other text on the page]\n"


@dataclass(frozen=True)
class SuspectPage:
    text: str
    evidence: PageEvidence
    extracted: ExtractedPage


def fetch_options(settings: Settings) -> FetchOptions:
    return FetchOptions(allow_private=settings.allow_private_urls)


def suspect_text(page: ExtractedPage) -> str:
    """Main text plus the visible lines it misses (see the module docstring)."""
    main = page.main_text.strip()
    if page.main_text_fallback:
        return main
    lines = [
        (line, tokens)
        for line, tokens in line_tokens(page.visible_text)
        if len(tokens) >= MIN_EXTRA_LINE_WORDS
    ]
    found = occurring(normalize(main, drop_boilerplate=False).tokens, [tokens for _, tokens in lines])
    extra = [line.strip() for (line, _), inside in zip(lines, found) if not inside]
    if not extra:
        return main
    return main + EXTRA_TEXT_HEADER + "\n\n".join(extra)


def line_tokens(text: str) -> list[tuple[str, list[str]]]:
    """Each line of ``text`` (``str.splitlines``) with its normalised tokens. The text is normalised once
    and its tokens cut at the line breaks, which no token spans: one pass, where normalising each line
    alone cost a call per line (12 s for the 100,000 short lines of a page at the fetch size cap)."""
    doc = normalize(text, drop_boilerplate=False)
    tokens = doc.tokens
    bounds = np.cumsum([len(line) for line in text.splitlines(keepends=True)])
    cuts = np.searchsorted(doc.starts, bounds).tolist()  # the first token of each next line
    out, first = [], 0
    for line, cut in zip(text.splitlines(), cuts):
        out.append((line, tokens[first:cut]))
        first = cut
    return out


def occurring(text: Sequence[str], patterns: Sequence[Sequence[str]]) -> list[bool]:
    """For each token sequence in ``patterns``, whether it occurs (contiguously) in ``text``.

    Aho-Corasick over the patterns, then one pass over the text: time linear in the total number of
    tokens. (Looking each line up in the main text separately took time growing with lines x text: a
    copier's page of 3.5 MB with its lines repeated outside the article took 27 s.)"""
    goto: list[dict[str, int]] = [{}]
    ends: list[int] = []
    for pattern in patterns:
        node = 0
        for token in pattern:
            nxt = goto[node].get(token)
            if nxt is None:
                nxt = goto[node][token] = len(goto)
                goto.append({})
            node = nxt
        ends.append(node)
    is_end = [False] * len(goto)
    for node in ends:
        is_end[node] = True
    fail = [0] * len(goto)
    report = [0] * len(goto)  # the nearest pattern end down the failure links (0: none)
    queue = deque(goto[0].values())
    while queue:
        node = queue.popleft()
        for token, child in goto[node].items():
            f = fail[node]
            while f and token not in goto[f]:
                f = fail[f]
            fail[child] = goto[f].get(token, 0) if goto[f].get(token) != child else 0
            report[child] = fail[child] if is_end[fail[child]] else report[fail[child]]
            queue.append(child)
    seen = [False] * len(goto)
    state = 0
    for token in text:
        while state and token not in goto[state]:
            state = fail[state]
        state = goto[state].get(token, 0)
        node = state if is_end[state] else report[state]
        while node and not seen[node]:  # a node seen before had its whole chain reported then
            seen[node] = True
            node = report[node]
    return [seen[node] for node in ends]


def load_suspect(url: str, settings: Settings, fetcher=fetch) -> SuspectPage:
    """Fetch ``url`` (SSRF-guarded), extract it, and return the text to scan with its evidence."""
    page: FetchedPage = fetcher(url, options=fetch_options(settings))
    extracted = extract_fetched(page)
    evidence = PageEvidence(
        final_url=page.final_url,
        fetched_at=page.fetched_at,
        body_sha256=page.body_sha256,
        page_title=extracted.title,
        published_at=extracted.date,
        links=tuple(
            dict.fromkeys([*extracted.links, *([extracted.canonical_url] if extracted.canonical_url else [])])
        ),
    )
    return SuspectPage(suspect_text(extracted), evidence, extracted)
