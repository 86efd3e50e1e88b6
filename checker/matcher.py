"""Scan a suspect text against indexed articles: candidates from the index, then align and judge each.

Pure apart from two callables the caller passes in: the index (``query``) and ``load``, which returns
the registered articles for candidate ids. The registry supplies both from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import numpy as np

from checker.align import align_passages
from checker.attribution import find_credits, has_required_credit
from checker.candidates import rank_candidates
from checker.fingerprint import DEFAULT_SCHEME, FingerprintScheme, fingerprint
from checker.index import Hits
from checker.match_options import DEFAULT_OPTIONS, MatchOptions, SmallPassagesHidden, SourceExcluded
from checker.normalize import normalize
from checker.profile import Profile
from checker.records import ArticleRef, Match, ScanResult
from checker.thresholds import DEFAULT_MATCH_CONFIG, MatchConfig
from checker.verdict import judge, measure, overall, to_passages, word_counts


class Searchable(Protocol):
    """What a scan needs of an index: a :class:`~checker.index.PassageIndex`, or one organisation's
    view of it (:class:`checker.partition.OrgView`)."""

    @property
    def scheme(self) -> FingerprintScheme: ...

    def query(self, keys: np.ndarray) -> Hits: ...


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
    options: MatchOptions = DEFAULT_OPTIONS,
) -> tuple[Match | None, SmallPassagesHidden | None]:
    """The match of ``suspect`` against one article (None when nothing is reused, or nothing as large as
    ``options.min_match_words``), and the note on the passages that setting hid (None if none)."""
    token_passages, hidden = options.keep_passages(article.ref, align_passages(suspect, article.profile, cfg))
    if not token_passages:
        return None, hidden
    source = article.profile.doc
    counts = word_counts(suspect.doc, source, token_passages)
    score, s_cov, t_cov, kind = measure(counts, token_passages, cfg)
    credits = find_credits(suspect.doc.text, article.ref, source.text, links)
    verdict, licensed, explanation = judge(
        article.ref,
        kind,
        credits,
        url,
        published_at,
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
    ), hidden


def scan_text(
    text: str,
    index: Searchable,
    load: Callable[[list[int]], list[IndexedArticle]],
    *,
    url: str | None = None,
    published_at: datetime | None = None,
    links: Iterable[str] = (),
    cfg: MatchConfig = DEFAULT_MATCH_CONFIG,
    options: MatchOptions = DEFAULT_OPTIONS,
) -> ScanResult:
    """Scan ``text``: query the index with its keys, verify the best candidates, decide the verdict.
    ``options``: the organisation's match settings (:mod:`checker.match_options`; the defaults change
    nothing); what they hid is noted in the result's ``excluded``."""
    doc = normalize(text)
    if not options.exclude_quotes:  # quoted words count like any other
        doc = replace(doc, quoted=np.zeros(len(doc), dtype=bool))
    fp = fingerprint(doc, index.scheme)
    ranked = rank_candidates(index.query(fp.keys), fp.key_sentence(), cfg)
    # Over-fetch: ``load`` may drop some (another organisation's articles).
    ids = [c.article_id for c in ranked[: 4 * cfg.max_candidates]]
    articles = load(ids)[: cfg.max_candidates] if ids else []
    matches, hidden = [], []
    if articles:  # most texts have no candidate: no profile to build
        suspect = Profile.build(doc, index.scheme.shingle_size_for(doc))
        links = tuple(links)
        for article in articles:
            m, note = match_article(
                suspect, article, url=url, published_at=published_at, links=links, cfg=cfg, options=options
            )
            matches += [m] if m else []
            hidden += [note] if note else []
    matches.sort(key=lambda m: (-m.score, m.article.id))
    source = options.excluded_source(url)
    if source is not None:
        return ScanResult(
            verdict="no_reuse",
            explanation=f"not reported: the suspect is on an excluded source ({source})",
            excluded=(SourceExcluded(source, tuple(m.article for m in matches)),),
        )
    verdict, explanation = overall(matches)
    hidden.sort(key=lambda note: note.article.id)
    return ScanResult(
        verdict=verdict, matches=tuple(matches), explanation=explanation, excluded=tuple(hidden)
    )
