"""Plain value objects passed between the engine, the registry and the interfaces.

``ScanResult.to_dict()`` is the JSON scan result of PRODUCT.md; its field names are a contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.match_options import SmallPassagesHidden, SourceExcluded

VERDICTS = ("unattributed_reuse", "attributed_reuse", "licensed", "no_reuse")
KINDS = ("verbatim", "near_copy", "partial", "paraphrase")
# Worst first: a suspect reusing several articles gets the worst of its matches' verdicts.
VERDICT_SEVERITY = {"unattributed_reuse": 3, "attributed_reuse": 2, "licensed": 1, "no_reuse": 0}


# An article's fields as every way in names them (JSON Lines, CSV columns, the API's body), in this order.
ARTICLE_FIELDS = (
    "title",
    "url",
    "publisher",
    "license",
    "partners",
    "published_at",
    "text",
    "required_credit",
    "aliases",
)


@dataclass(frozen=True, slots=True)
class ArticleIn:
    """An article to register."""

    title: str
    text: str
    url: str | None = None
    publisher: str | None = None
    license: str = "all-rights-reserved"
    partners: tuple[str, ...] = ()
    published_at: datetime | None = None
    required_credit: str | None = None
    aliases: tuple[str, ...] = ()
    # The fields the user gave: re-registering an article updates only these. None: every field that
    # is neither empty nor its default (the title and the text always).
    given: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What a match says about the registered article (and what attribution checks need)."""

    id: int
    title: str
    url: str | None
    publisher: str | None
    license: str = "all-rights-reserved"
    partners: tuple[str, ...] = ()
    published_at: datetime | None = None
    org_id: int | None = None
    required_credit: str | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "url": self.url, "publisher": self.publisher}


@dataclass(frozen=True, slots=True)
class Passage:
    """A reused passage: character offsets into the suspect as submitted and the article as registered."""

    suspect_start: int
    suspect_end: int
    source_start: int
    source_end: int
    similarity: float
    # The suspect's words inside the passage (0: a result stored before words were counted).
    words: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "suspect_start": self.suspect_start,
            "suspect_end": self.suspect_end,
            "source_start": self.source_start,
            "source_end": self.source_end,
            "similarity": round(self.similarity, 4),
            "words": self.words,
        }


@dataclass(frozen=True, slots=True)
class Credit:
    """Evidence that the suspect credits the article: the text and its offsets in the suspect."""

    text: str
    start: int
    end: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Match:
    article: ArticleRef
    kind: str
    score: float
    suspect_coverage: float
    source_coverage: float
    attributed: bool
    licensed: bool
    passages: tuple[Passage, ...]
    verdict: str = "unattributed_reuse"
    explanation: str = ""
    credits: tuple[Credit, ...] = ()
    # The counts behind the coverage shares (PRODUCT.md): suspect_coverage = words_matched /
    # suspect_words; 0 in results stored before they were counted.
    words_matched: int = 0
    suspect_words: int = 0
    source_words: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "article": self.article.to_dict(),
            "kind": self.kind,
            "score": round(self.score, 4),
            "suspect_coverage": round(self.suspect_coverage, 4),
            "source_coverage": round(self.source_coverage, 4),
            "words_matched": self.words_matched,
            "suspect_words": self.suspect_words,
            "source_words": self.source_words,
            "attributed": self.attributed,
            "licensed": self.licensed,
            "passages": [p.to_dict() for p in self.passages],
            "verdict": self.verdict,
            "explanation": self.explanation,
            "credits": [c.to_dict() for c in self.credits],
        }


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: str
    matches: tuple[Match, ...] = ()
    explanation: str = ""
    # What the organisation's match settings hid, with why (checker.match_options); "excluded" in the
    # JSON only when there is something, so the contract's fields stay as they are.
    excluded: tuple[SmallPassagesHidden | SourceExcluded, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "matches": [m.to_dict() for m in self.matches]}
        out["explanation"] = self.explanation
        if self.excluded:
            out["excluded"] = [note.to_dict() for note in self.excluded]
        return out
