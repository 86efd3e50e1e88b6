"""Fetch a suspect URL and build the text to scan, with the page's evidence.

Extraction keeps the article body for display, but drops paragraphs on some real pages, so the text we
scan is the main text followed by the visible text's paragraph-like lines that the main text lacks:
coverage is not lost, menus and footers (short lines) stay out, and offsets still refer to the one
text we store.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    main_tokens = " " + " ".join(normalize(main, drop_boilerplate=False).tokens) + " "
    extra = []
    for line in page.visible_text.splitlines():
        tokens = normalize(line, drop_boilerplate=False).tokens
        if len(tokens) >= MIN_EXTRA_LINE_WORDS and " " + " ".join(tokens) + " " not in main_tokens:
            extra.append(line.strip())
    if not extra:
        return main
    return main + EXTRA_TEXT_HEADER + "\n\n".join(extra)


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
        links=tuple(dict.fromkeys([*extracted.links, *([extracted.canonical_url] if extracted.canonical_url else [])])),
    )
    return SuspectPage(suspect_text(extracted), evidence, extracted)
