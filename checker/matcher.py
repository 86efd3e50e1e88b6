"""Scan a suspect text against indexed articles: candidates from the index, then align and judge each.

Pure apart from two callables the caller passes in: the index (``query``) and ``load``, which returns
the registered articles for candidate ids. The registry supplies both from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from checker.align import align_passages
from checker.attribution import find_credits, has_required_credit
from checker.config import DEFAULT_MATCH_CONFIG, MatchConfig
from checker.fingerprint import DEFAULT_SCHEME, Fingerprint, FingerprintScheme, fingerprint
from checker.index import PassageIndex
from checker.normalize import Document, normalize
from checker.records import ArticleRef, Match, ScanResult
from checker.verdict import judge, measure, overall, to_passages


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """A registered article ready for alignment."""

    ref: ArticleRef
    doc: Document
    fp: Fingerprint

    @classmethod
    def build(cls, ref: ArticleRef, text: str, scheme: FingerprintScheme = DEFAULT_SCHEME) -> IndexedArticle:
        doc = normalize(text)
        return cls(ref, doc, fingerprint(doc, scheme))


def match_article(
    suspect: Document,
    suspect_fp: Fingerprint,
    article: IndexedArticle,
    *,
    url: str | None = None,
    published_at: datetime | None = None,
    links: Iterable[str] = (),
    cfg: MatchConfig = DEFAULT_MATCH_CONFIG,
) -> Match | None:
    """The match of ``suspect`` against one article, or None when nothing is reused."""
    token_passages = align_passages(suspect, suspect_fp, article.doc, article.fp, cfg)
    if not token_passages:
        return None
    score, s_cov, t_cov, kind = measure(suspect, article.doc, token_passages, cfg)
    credits = find_credits(suspect.text, article.ref, article.doc.text, links)
    verdict, licensed, explanation = judge(
        article.ref, kind, credits, url, published_at,
        required_credit_given=has_required_credit(suspect.text, article.ref),
    )
    return Match(
        article=article.ref,
        kind=kind,
        score=score,
        suspect_coverage=s_cov,
        source_coverage=t_cov,
        attributed=bool(credits),
        licensed=licensed,
        passages=to_passages(suspect, article.doc, token_passages),
        verdict=verdict,
        explanation=explanation,
        credits=tuple(credits),
    )


def scan_text(
    text: str,
    index: PassageIndex,
    load: Callable[[list[int]], list[IndexedArticle]],
    *,
    url: str | None = None,
    published_at: datetime | None = None,
    links: Iterable[str] = (),
    cfg: MatchConfig = DEFAULT_MATCH_CONFIG,
) -> ScanResult:
    """Scan ``text``: query the index with its windows, verify the best candidates, decide the verdict."""
    suspect = normalize(text)
    suspect_fp = fingerprint(suspect, index.scheme, query=True)
    # Over-fetch candidates: ``load`` may drop some (another organisation's articles).
    candidates = [
        article_id
        for article_id, hits in index.query(suspect_fp.keys).candidates(4 * cfg.max_candidates)
        if hits >= cfg.min_window_hits
    ]
    links = tuple(links)
    matches = [
        m
        for article in (load(candidates)[: cfg.max_candidates] if candidates else [])
        if (m := match_article(suspect, suspect_fp, article, url=url, published_at=published_at, links=links, cfg=cfg))
    ]
    matches.sort(key=lambda m: (-m.score, m.article.id))
    verdict, explanation = overall(matches)
    return ScanResult(verdict=verdict, matches=tuple(matches), explanation=explanation)
