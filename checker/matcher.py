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
from checker.candidates import rank_candidates
from checker.config import DEFAULT_MATCH_CONFIG, MatchConfig
from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme, fingerprint
from checker.index import PassageIndex
from checker.normalize import normalize
from checker.profile import Profile
from checker.records import ArticleRef, Match, ScanResult
from checker.verdict import judge, measure, overall, to_passages, word_counts


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """A registered article ready for alignment."""

    ref: ArticleRef
    profile: Profile

    @classmethod
    def build(cls, ref: ArticleRef, text: str, scheme: FingerprintScheme = DEFAULT_SCHEME) -> IndexedArticle:
        doc = normalize(text)
        return cls(ref, Profile.build(doc, scheme.shingle_size_for(doc)))


def match_article(
    suspect: Profile,
    article: IndexedArticle,
    *,
    url: str | None = None,
    published_at: datetime | None = None,
    links: Iterable[str] = (),
    cfg: MatchConfig = DEFAULT_MATCH_CONFIG,
) -> Match | None:
    """The match of ``suspect`` against one article, or None when nothing is reused."""
    token_passages = align_passages(suspect, article.profile, cfg)
    if not token_passages:
        return None
    source = article.profile.doc
    counts = word_counts(suspect.doc, source, token_passages)
    score, s_cov, t_cov, kind = measure(counts, token_passages, cfg)
    credits = find_credits(suspect.doc.text, article.ref, source.text, links)
    verdict, licensed, explanation = judge(
        article.ref, kind, credits, url, published_at,
        required_credit_given=has_required_credit(suspect.doc.text, article.ref),
    )
    return Match(
        article=article.ref,
        kind=kind,
        score=score,
        suspect_coverage=s_cov,
        source_coverage=t_cov,
        attributed=bool(credits),
        licensed=licensed,
        passages=to_passages(suspect.doc, source, token_passages),
        verdict=verdict,
        explanation=explanation,
        credits=tuple(credits),
        words_matched=counts.suspect_matched,
        suspect_words=counts.suspect_words,
        source_words=counts.source_words,
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
    """Scan ``text``: query the index with its keys, verify the best candidates, decide the verdict."""
    doc = normalize(text)
    fp = fingerprint(doc, index.scheme)
    ranked = rank_candidates(index.query(fp.keys), fp.key_sentence(), cfg)
    # Over-fetch: ``load`` may drop some (another organisation's articles).
    ids = [c.article_id for c in ranked[: 4 * cfg.max_candidates]]
    articles = load(ids)[: cfg.max_candidates] if ids else []
    matches = []
    if articles:  # most texts have no candidate: no profile to build
        suspect = Profile.build(doc, index.scheme.shingle_size_for(doc))
        links = tuple(links)
        matches = [
            m
            for article in articles
            if (m := match_article(suspect, article, url=url, published_at=published_at, links=links, cfg=cfg))
        ]
    matches.sort(key=lambda m: (-m.score, m.article.id))
    verdict, explanation = overall(matches)
    return ScanResult(verdict=verdict, matches=tuple(matches), explanation=explanation)
