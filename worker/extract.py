"""Main text, metadata and whole visible text of a fetched page.

``extract_page(html, url)`` runs trafilatura once for the main text, its metadata (title, author, date,
canonical URL) and the links inside the article body, and walks the parsed page for its whole visible
text. Extraction drops paragraphs on some real pages, so the scanner matches against both texts and
keeps ``main_text`` for display. Pure functions: no network, no files.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import TypedDict
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Document
from trafilatura.xml import xmltotxt

# --------------------------------------------------------------------------------------------------
# Extraction settings, all in one place.


class _TrafilaturaSettings(TypedDict):
    """The keyword arguments of ``trafilatura.bare_extraction`` set below."""

    include_comments: bool
    include_tables: bool
    include_links: bool
    include_images: bool
    favor_precision: bool
    favor_recall: bool
    deduplicate: bool
    with_metadata: bool


TRAFILATURA_SETTINGS: _TrafilaturaSettings = {
    # Reader comments are other people's words: they would create false matches and false credits.
    "include_comments": False,
    # Tables often carry the article's own figures and text (sports results, price lists).
    "include_tables": True,
    # Keep links so that the links inside the article body can be reported (the attribution check
    # looks for a link to the original); they are stripped again from the text.
    "include_links": True,
    "include_images": False,
    # Balanced mode: trafilatura itself retries with recall settings when little was found, and the
    # whole visible text is the recall safety net anyway.
    "favor_precision": False,
    "favor_recall": False,
    "deduplicate": False,
    "with_metadata": True,
}
DATE_SETTINGS = {
    # Prefer the original publication date over "last updated": priority judgments need the first date.
    "original_date": True,
    # No guessing from loose patterns in the page (copyright years, "2020-01-01" fallbacks): a wrong
    # date is worse than none when deciding who published first.
    "extensive_search": False,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
# Elements whose text is never shown to a reader.
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link"})
# Elements that start a new line in the visible text.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
PREFORMATTED_TAGS = frozenset({"pre", "textarea", "listing", "plaintext"})
PLAIN_TEXT_TYPES = ("text/plain",)

_SPACES_RE = re.compile(r"[^\S\n]+")  # whitespace other than newlines (includes no-break spaces)
_ANY_SPACE_RE = re.compile(r"\s+")
# <noscript ...>...</noscript> is found by two searches rather than one pattern: the single pattern
# (<noscript\b[^>]*>(.*?)</noscript\s*>, DOTALL) read to the end of the page from every opening tag
# that had no closing one, quadratic on a page of "<noscript>" * n (see _noscript_blocks).
_NOSCRIPT_OPEN_RE = re.compile(r"<noscript\b", re.IGNORECASE)
_NOSCRIPT_CLOSE_RE = re.compile(r"</noscript\s*+>", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractedPage:
    """What the scanner needs from a page.

    ``main_text``: the article body (trafilatura), for display and primary matching; when extraction
    finds nothing it falls back to ``visible_text`` and ``main_text_fallback`` is True.
    ``visible_text``: every text node outside script/style/noscript/template (and <head>), one line per
    block element. ``date``: publication date, timezone-aware (UTC assumed when the page gives no
    zone; midnight when it gives no time). ``canonical_url``: the page's declared
    ``<link rel=canonical>`` (or og:url), absolute, or None. ``links``: absolute http(s) links inside
    the article body, in order, without duplicates.
    """

    url: str
    main_text: str
    visible_text: str
    title: str | None = None
    author: str | None = None
    date: datetime | None = None
    canonical_url: str | None = None
    sitename: str | None = None
    links: list[str] = field(default_factory=list)
    main_text_fallback: bool = False


def extract_page(html: str, url: str | None = None, *, content_type: str = "text/html") -> ExtractedPage:
    """Extract main text, metadata, body links and visible text from ``html`` found at ``url``.

    A ``text/plain`` page passes through: both texts are the text itself.
    """
    if content_type in PLAIN_TEXT_TYPES:
        text = _clean_lines(html)
        return ExtractedPage(url=url or "", main_text=text, visible_text=text)

    root = parse_html(_flatten_noscript(html))
    visible = visible_text(root) if root is not None else ""
    canonical = canonical_url(root, url) if root is not None else None

    document: Document | None = None
    if root is not None:
        try:
            extracted = trafilatura.bare_extraction(
                html, url=url, date_extraction_params=DATE_SETTINGS, **TRAFILATURA_SETTINGS
            )
            # A Document, or None when nothing was found (a dict only with as_dict=True, not asked for).
            document = extracted if isinstance(extracted, Document) else None
        except (ValueError, TypeError, etree.LxmlError):
            document = None  # trafilatura gives up on some malformed pages; the visible text remains

    main_text, links = "", []
    title = author = sitename = None
    date = None
    if document is not None:
        body = getattr(document, "body", None)
        if body is not None:
            links = _body_links(body, url)
            plain = copy.deepcopy(body)
            etree.strip_tags(plain, "ref")
            main_text = _clean_lines(xmltotxt(plain, False) or "")
        else:
            main_text = _clean_lines(document.text or "")
        title = _clean_value(document.title)
        author = _clean_value(document.author)
        sitename = _clean_value(document.sitename)
        date = parse_date(document.date)
    fallback = not main_text.strip()
    return ExtractedPage(
        url=url or "",
        main_text=visible if fallback else main_text,
        visible_text=visible,
        title=title or _html_title(root),
        author=author,
        date=date,
        canonical_url=canonical,
        sitename=sitename,
        links=links,
        main_text_fallback=fallback,
    )


def extract_fetched(page) -> ExtractedPage:
    """``extract_page`` on a ``worker.fetch.FetchedPage`` (uses its final URL and content type)."""
    return extract_page(page.text, page.final_url, content_type=page.content_type)


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    """Parse HTML leniently; None when there is nothing to parse."""
    if isinstance(html, str):
        if not html.strip():
            return None
        data = html.encode("utf-8", errors="replace")
    else:
        data = html
        if not data.strip():
            return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return None


def visible_text(root: lxml.html.HtmlElement) -> str:
    """All text outside invisible elements, a new line for each block element, spaces collapsed."""
    pieces: list[str] = []
    _walk_visible(root, pieces)
    return _clean_lines("".join(pieces))


def canonical_url(root: lxml.html.HtmlElement, url: str | None) -> str | None:
    """The page's declared canonical URL (``<link rel=canonical>``, else ``og:url``), made absolute."""
    base = _base_href(root, url)
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rels and href:
            return _absolute_http(base, href)
    for meta in root.iter("meta"):
        if (meta.get("property") or "").lower() == "og:url" and (meta.get("content") or "").strip():
            return _absolute_http(base, meta.get("content").strip())
    return None


def parse_date(value: str | None) -> datetime | None:
    """A trafilatura/htmldate date string as an aware datetime (UTC when no zone is given)."""
    if not value:
        return None
    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# helpers


def _flatten_noscript(html: str) -> str:
    """Replace each ``<noscript>`` by a block holding its text, parsed on its own.

    libxml2 is not an HTML5 parser: an element left open inside ``<noscript>`` (``<noscript><div
    id=nojs></noscript>``, seen on real pages) swallows the rest of the page into the noscript
    element. Parsing the inside separately keeps the damage inside. Its text is kept rather than
    dropped: some platforms (Blogger) render the article from a script template and ship the only
    static copy of it in ``<noscript>``, and the visible text is the recall safety net. A noscript with
    no text (tracking pixels, usually in <head>) disappears without a trace.
    """
    if "<noscript" not in html.lower():
        return html
    out, done = [], 0
    for start, inner_start, inner_end, end in _noscript_blocks(html):
        inner = parse_html(html[inner_start:inner_end])
        text = visible_text(inner) if inner is not None else ""
        out.append(html[done:start])
        out.append(f"<div>{escape(text)}</div>" if text else "")
        done = end
    out.append(html[done:])
    return "".join(out)


def _noscript_blocks(html: str) -> list[tuple[int, int, int, int]]:
    """``(start, inner start, inner end, end)`` of each ``<noscript ...>...</noscript>``: what
    ``<noscript\\b[^>]*>(.*?)</noscript\\s*>`` (case-insensitive, DOTALL) finds, left to right, in
    linear time. An opening tag with no ``>`` after it, or no closing tag after its ``>``, ends the
    search: every later opening tag lacks them too."""
    blocks, pos = [], 0
    while (opening := _NOSCRIPT_OPEN_RE.search(html, pos)) is not None:
        gt = html.find(">", opening.end())
        closing = _NOSCRIPT_CLOSE_RE.search(html, gt + 1) if gt >= 0 else None
        if closing is None:
            break
        blocks.append((opening.start(), gt + 1, closing.start(), closing.end()))
        pos = closing.end()
    return blocks


def _walk_visible(element, pieces: list[str], preformatted: bool = False) -> None:
    tag = element.tag if isinstance(element.tag, str) else None
    if tag is None:  # comment, processing instruction, entity: not shown
        return
    tag = tag.lower()
    if tag in INVISIBLE_TAGS:
        return
    preformatted = preformatted or tag in PREFORMATTED_TAGS
    # Source line breaks are not visible line breaks, except in preformatted text.
    norm = (lambda t: t) if preformatted else (lambda t: _ANY_SPACE_RE.sub(" ", t))
    block = tag in BLOCK_TAGS
    if block:
        pieces.append("\n")
    if element.text:
        pieces.append(norm(element.text))
    for child in element:
        _walk_visible(child, pieces, preformatted)
        if child.tail:
            pieces.append(norm(child.tail))
    if block:
        pieces.append("\n")


def _clean_lines(text: str) -> str:
    """Collapse runs of spaces, strip each line, drop empty lines."""
    lines = (
        _SPACES_RE.sub(" ", line).strip()
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return "\n".join(line for line in lines if line)


def _clean_value(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = " ".join(str(value).split())
    return cleaned or None


def _html_title(root) -> str | None:
    if root is None:
        return None
    title = root.find(".//title")
    return _clean_value(title.text_content()) if title is not None else None


def _base_href(root, url: str | None) -> str | None:
    base = root.find(".//base[@href]")
    if base is not None:
        return urljoin(url or "", base.get("href").strip())
    return url


def _absolute_http(base: str | None, href: str) -> str | None:
    absolute = urljoin(base or "", href)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return parts._replace(fragment="").geturl()


def _body_links(body, url: str | None) -> list[str]:
    links: list[str] = []
    for ref in body.iter("ref"):
        target = (ref.get("target") or "").strip()
        if not target:
            continue
        absolute = _absolute_http(url, target)
        if absolute and absolute not in links:
            links.append(absolute)
    return links
