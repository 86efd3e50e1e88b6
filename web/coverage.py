"""The one definition of a match's coverage, shown the same way on every page, export and API answer.

PRODUCT.md: ``suspect_coverage`` is the share of the suspect's words reused from the article
(``words_matched / suspect_words``); ``source_coverage`` the share of the article's words found in the
suspect. The issue this answers: the matches list showed one share as "Coverage" and the scan page the
other, and a verbatim paragraph inside a long text read "0%". So a page shows both shares, named the same
everywhere, each with the word counts behind it, and a non-zero share never reads as "0%".
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.models import MatchRow
from checker.numbers import share

__all__ = ["Coverage", "share"]  # share: the printing rule, checker.numbers's (the CLI's too)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Both shares of one match and their word counts (None on rows stored before words were counted)."""

    suspect: float
    source: float
    words_matched: int | None = None
    suspect_words: int | None = None
    source_words: int | None = None

    @classmethod
    def of(cls, m: MatchRow) -> Coverage:
        return cls(m.suspect_coverage, m.source_coverage, m.words_matched, m.suspect_words, m.source_words)

    @property
    def source_matched(self) -> int | None:
        """The article's words inside the passages (the share times the article's words, exact for the
        stored share: the engine computed it as that integer over ``source_words``)."""
        return None if self.source_words is None else round(self.source * self.source_words)

    @property
    def counted(self) -> bool:
        return (
            self.words_matched is not None
            and self.suspect_words is not None
            and self.source_words is not None
        )

    def to_dict(self) -> dict:
        """The JSON result's fields (PRODUCT.md), for the API and the exports."""
        return {
            "suspect_coverage": round(self.suspect, 4),
            "source_coverage": round(self.source, 4),
            "words_matched": self.words_matched,
            "suspect_words": self.suspect_words,
            "source_words": self.source_words,
        }
