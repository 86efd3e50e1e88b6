"""From aligned passages to a match (coverage, score, kind) and from matches to verdicts.

Definitions (PRODUCT.md):
- ``suspect_coverage``: share of the suspect's content words inside reused passages;
- ``source_coverage``: share of the article's content words inside them;
- ``score``: ``meaning x max(suspect_coverage, source_coverage)``: how much of either text is reuse,
  discounted by how much of the content the passages keep (``meaning``, the length-weighted mean of the
  passages' tf-isf cosine, 1.0 for verbatim copies, about 0.5-0.8 for machine paraphrases), so that a
  reworded copy of a whole article still ranks above a copied paragraph;
- ``kind``, from the surface similarity (length-weighted mean Indel similarity of the passages' words):
  ``verbatim`` (whole article, unchanged), ``near_copy`` (most of it, lightly edited), ``paraphrase``
  (reworded), else ``partial`` (excerpts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from checker.align import TokenPassage
from checker.attribution import host_of, host_within
from checker.normalize import Document
from checker.records import VERDICT_SEVERITY, ArticleRef, Credit, Match, Passage
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig

LICENSES = {
    "all-rights-reserved": "all rights reserved",
    "cc-by-4.0": "CC BY 4.0",
    "cc-by-sa-4.0": "CC BY-SA 4.0",
    "cc-by-nd-4.0": "CC BY-ND 4.0",
    "cc-by-nc-4.0": "CC BY-NC 4.0",
    "cc0-1.0": "CC0 1.0",
    "custom": "custom terms",
}
# The licences a form or a help text offers by id ("custom" is written "custom:<terms>").
STANDARD_LICENSES = tuple(k for k in LICENSES if k != "custom")
LICENSE_CHOICES = f"{', '.join(STANDARD_LICENSES)} or custom:<terms>"
_LICENSE_ALIASES = {
    "arr": "all-rights-reserved",
    "all rights reserved": "all-rights-reserved",
    "copyright": "all-rights-reserved",
    "cc-by": "cc-by-4.0",
    "cc by": "cc-by-4.0",
    "cc by 4.0": "cc-by-4.0",
    "cc-by-sa": "cc-by-sa-4.0",
    "cc by-sa 4.0": "cc-by-sa-4.0",
    "cc-by-nd": "cc-by-nd-4.0",
    "cc by-nd 4.0": "cc-by-nd-4.0",
    "cc-by-nc": "cc-by-nc-4.0",
    "cc by-nc 4.0": "cc-by-nc-4.0",
    "cc0": "cc0-1.0",
    "cc0 1.0": "cc0-1.0",
}


def normalize_license(value: str | None) -> str:
    """Canonical licence id; raises ValueError naming the accepted ones."""
    if value is None or not value.strip():
        return "all-rights-reserved"
    key = value.strip().lower()
    key = _LICENSE_ALIASES.get(key, key)
    if key not in LICENSES and not key.startswith("custom"):
        raise ValueError(
            f"unknown licence {value!r}; use one of: {', '.join(LICENSES)} (or 'custom:<terms>')"
        )
    return key


def token_union(spans: list[tuple[int, int]], n: int) -> int:
    """Number of distinct tokens covered by inclusive ``(first, last)`` spans."""
    mask = np.zeros(n, dtype=bool)
    for first, last in spans:
        mask[first : last + 1] = True
    return int(mask.sum())


def to_passages(suspect: Document, source: Document, passages: list[TokenPassage]) -> tuple[Passage, ...]:
    return tuple(
        Passage(
            *suspect.span(p.suspect_first, p.suspect_last),
            *source.span(p.source_first, p.source_last),
            similarity=p.similarity,
            words=p.suspect_len,
        )
        for p in passages
    )


@dataclass(frozen=True, slots=True)
class WordCounts:
    """The words (content tokens) behind the two coverage shares, so that a page can show "120 of 3,400
    words" beside a share too small to read as a percentage:
    ``suspect_coverage = suspect_matched / suspect_words``, ``source_coverage = source_matched / source_words``."""

    suspect_matched: int
    source_matched: int
    suspect_words: int
    source_words: int

    @property
    def suspect_coverage(self) -> float:
        return self.suspect_matched / max(self.suspect_words, 1)

    @property
    def source_coverage(self) -> float:
        return self.source_matched / max(self.source_words, 1)


def word_counts(suspect: Document, source: Document, passages: list[TokenPassage]) -> WordCounts:
    """Words of each text inside the passages (each counted once) and in all."""
    return WordCounts(
        token_union([(p.suspect_first, p.suspect_last) for p in passages], len(suspect)),
        token_union([(p.source_first, p.source_last) for p in passages], len(source)),
        len(suspect),
        len(source),
    )


def measure(
    counts: WordCounts, passages: list[TokenPassage], cfg: MatchConfig = DEFAULT_MATCH_CONFIG
) -> tuple[float, float, float, str]:
    """``(score, suspect_coverage, source_coverage, kind)`` of verified passages."""
    s_cov, t_cov = counts.suspect_coverage, counts.source_coverage
    weights = np.array([p.suspect_len for p in passages], dtype=float)
    similarity = float(np.average([p.similarity for p in passages], weights=weights))
    meaning = float(np.average([p.meaning for p in passages], weights=weights))
    if t_cov >= cfg.verbatim_coverage and similarity >= cfg.verbatim_similarity:
        kind = "verbatim"
    elif t_cov >= cfg.near_copy_coverage:
        # Most of the article: lightly edited, or reworded throughout.
        kind = "near_copy" if similarity >= cfg.near_copy_similarity else "paraphrase"
    else:
        kind = "paraphrase" if similarity < cfg.paraphrase_similarity else "partial"
    return meaning * max(s_cov, t_cov), s_cov, t_cov, kind


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def judge(
    article: ArticleRef,
    kind: str,
    credits: list[Credit],
    suspect_url: str | None,
    suspect_published_at: datetime | None = None,
    *,
    required_credit_given: bool = True,
) -> tuple[str, bool, str]:
    """``(verdict, licensed, explanation)`` of one match.

    Order: a suspect published before the original cannot copy it; a partner domain is licensed;
    then the article's licence terms decide, with credit as their condition; credit without a
    licence is attributed reuse; the rest is unattributed reuse.
    """
    who = article.publisher or host_of(article.url) or f"article {article.id}"
    attributed = bool(credits)
    if (
        suspect_published_at
        and article.published_at
        and _aware(suspect_published_at) < _aware(article.published_at)
    ):
        return (
            "no_reuse",
            False,
            (
                f"the suspect was published {suspect_published_at:%Y-%m-%d}, before the registered article "
                f"({article.published_at:%Y-%m-%d}), so it cannot have copied it"
            ),
        )
    host = host_of(suspect_url)
    for partner in article.partners:
        if host_within(host, partner):
            return "licensed", True, f"found on {host}, a licensed partner domain ({partner}) of {who}"
    lic = article.license
    name = LICENSES.get(lic, lic)
    credit_text = f"{credits[0].text.strip()!r}" if credits else ""
    if lic == "cc0-1.0":
        return "licensed", True, f"{who} released the article under CC0: any reuse is permitted"
    if attributed and not required_credit_given and lic.startswith("cc-"):
        return (
            "attributed_reuse",
            False,
            (
                f"credits {who} ({credit_text}) but not with the credit {name} terms require "
                f"({article.required_credit!r})"
            ),
        )
    if attributed and lic == "cc-by-4.0":
        return "licensed", True, f"the copy credits {who} ({credit_text}) as {name} requires"
    if attributed and lic == "cc-by-sa-4.0":
        return (
            "licensed",
            True,
            (
                f"the copy credits {who} ({credit_text}) as {name} requires (share-alike terms of the copy "
                "are not checked)"
            ),
        )
    if lic == "cc-by-nd-4.0" and attributed:
        if kind == "verbatim":
            return "licensed", True, f"an unmodified, credited copy, as {name} permits"
        return (
            "unattributed_reuse",
            False,
            (f"credited, but {name} forbids modified copies and this one is a {kind.replace('_', ' ')}"),
        )
    if lic == "cc-by-nc-4.0" and attributed:
        return (
            "attributed_reuse",
            False,
            (
                f"credits {who} ({credit_text}); {name} allows it only for non-commercial use, which cannot be "
                "judged from the text: check the site"
            ),
        )
    if attributed:
        return "attributed_reuse", False, f"credits {who} ({credit_text}) but holds no licence ({name})"
    return "unattributed_reuse", False, f"reuses {who}'s article without credit or licence ({name})"


def overall(matches: list[Match]) -> tuple[str, str]:
    """The worst verdict among the matches, with its explanation."""
    if not matches:
        return "no_reuse", "no registered article is reused above the threshold"
    worst = max(matches, key=lambda m: VERDICT_SEVERITY[m.verdict])
    if worst.verdict == "no_reuse":
        return "no_reuse", worst.explanation
    return worst.verdict, f"{worst.article.title!r}: {worst.explanation}"
