"""An organisation's match settings: what its scans report of what the engine finds.

iThenticate lets its users leave out quotations, small matches and chosen sources; these are the same
three, per organisation (the ``organisations`` columns ``min_match_words``, ``exclude_quotes`` and
``excluded_sources``), loaded once per scan (:func:`checker.orgs.match_options`) and passed to the
engine (:func:`checker.matcher.scan_text`). ``MatchOptions()`` is the engine as it always was: the same
results, byte for byte.

- ``min_match_words``: the smallest passage worth reporting, in the suspect's words (a passage's
  ``words``). It can only *raise* the engine's own floor (``MatchConfig.min_passage_words``, 15 words):
  shorter passages are never verified, because that is what independent reports of one event share, so
  a lower value is refused with a message (:func:`checker.validate.minimum_match_words`), not silently
  ignored. Passages below it are dropped from a match and the match's figures are those of the
  passages left; a match with none left is not reported.
- ``exclude_quotes``: True (the default) leaves quoted words out of what makes a passage
  (:mod:`checker.quotes`); False counts them like any other words, so a suspect that shares only
  quotations with an article is reported too.
- ``excluded_sources``: domains (``partner.example`` also covers ``news.partner.example``) or URL
  prefixes (``https://partner.example/syndication`` covers the pages under that path, on either
  scheme, with or without ``www.``); a suspect found there reports no match.

What a setting hid is said, not silently dropped: a scan result carries a note per hiding
(:class:`SmallPassagesHidden`, :class:`SourceExcluded`), ``"excluded"`` in its JSON, present only when
there is one, so the fields of PRODUCT.md's result stay exactly as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from checker.attribution import host_of, host_within
from checker.records import ArticleRef

SMALL = "min_match_words"
SOURCE = "excluded_source"


class _Sized(Protocol):
    @property
    def suspect_len(self) -> int: ...


_P = TypeVar("_P", bound=_Sized)


@dataclass(frozen=True, slots=True)
class SmallPassagesHidden:
    """Passages of a match hidden by ``min_match_words``: their sizes in words, and whether the whole
    match went (no passage of it was large enough)."""

    article: ArticleRef
    passage_words: tuple[int, ...]
    minimum: int
    whole_match: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": SMALL,
            "article": self.article.to_dict(),
            "passages": len(self.passage_words),
            "words": sum(self.passage_words),
            "passage_words": list(self.passage_words),
            "minimum": self.minimum,
            "whole_match": self.whole_match,
        }


@dataclass(frozen=True, slots=True)
class SourceExcluded:
    """The suspect is on an excluded source: none of its matches is reported."""

    source: str
    articles: tuple[ArticleRef, ...] = ()  # the articles whose matches were not reported

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": SOURCE,
            "source": self.source,
            "matches": len(self.articles),
            "articles": [a.to_dict() for a in self.articles],
        }


Hidden = SmallPassagesHidden | SourceExcluded


def describe(note: Mapping[str, Any]) -> str:
    """A note in its JSON form (``to_dict``, as results are stored) as one English sentence: the CLI's
    wording (the dashboard words it in the reader's language, dashboard/_excluded_note.html)."""
    if note.get("reason") == SOURCE:
        hidden = f" ({note['matches']} match(es) hidden)" if note.get("matches") else ""
        return f"not reported: this suspect is on an excluded source ({note['source']}){hidden}"
    title = (note.get("article") or {}).get("title")
    sizes = ", ".join(str(w) for w in note.get("passage_words", []))
    if note.get("whole_match"):
        return (
            f"1 match with {title!r} ({sizes} words) was hidden because it is smaller than the "
            f"organisation's minimum of {note['minimum']} words"
        )
    return (
        f"{note['passages']} passage(s) of the match with {title!r} ({sizes} words) hidden because smaller "
        f"than the organisation's minimum of {note['minimum']} words"
    )


def _path_prefix(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or lies below it (at a ``/``: ``/news`` covers ``/news/a``, not ``/newsy``)."""
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def source_covers(entry: str, url: str) -> bool:
    """Whether the excluded-source ``entry`` (a domain, or a URL prefix) covers the page at ``url``."""
    host = host_of(url)
    if "://" not in entry:
        return host_within(host, entry)
    if host is None or host != host_of(entry):
        return False
    try:
        return _path_prefix(urlsplit(url).path, urlsplit(entry).path)
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """An organisation's match settings (see the module docstring). Values are checked where they come
    in (:func:`checker.validate.match_options`); the defaults change nothing."""

    min_match_words: int | None = None
    exclude_quotes: bool = True
    excluded_sources: tuple[str, ...] = ()

    def excluded_source(self, url: str | None) -> str | None:
        """The entry of ``excluded_sources`` that covers ``url``, or None."""
        if not url:
            return None
        return next((entry for entry in self.excluded_sources if source_covers(entry, url)), None)

    def keep_passages(
        self, article: ArticleRef, passages: list[_P]
    ) -> tuple[list[_P], SmallPassagesHidden | None]:
        """The passages at least ``min_match_words`` long, and a note on those hidden (None if none)."""
        if not self.min_match_words:
            return passages, None
        kept = [p for p in passages if p.suspect_len >= self.min_match_words]
        if len(kept) == len(passages):
            return passages, None
        hidden = tuple(p.suspect_len for p in passages if p.suspect_len < self.min_match_words)
        return kept, SmallPassagesHidden(article, hidden, self.min_match_words, whole_match=not kept)


DEFAULT_OPTIONS = MatchOptions()
