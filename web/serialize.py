"""JSON shapes of articles, scans and matches (the API, the JSON export and the dashboard's polling)."""

from __future__ import annotations

from checker.models import MatchRow, Scan, iso
from web.coverage import Coverage


def scan_dict(s: Scan, *, with_result: bool = True) -> dict:
    """``{"id", "status", "result", "error"}`` (the PRODUCT.md contract) plus where and when."""
    out = {
        "id": s.id,
        "status": s.status,
        "verdict": s.verdict,
        "source": s.source,
        "url": s.url,
        "final_url": s.final_url,
        "fetched_at": iso(s.fetched_at),
        "body_sha256": s.body_sha256,
        "created_at": iso(s.created_at),
        "finished_at": iso(s.finished_at),
        "error": s.error,
    }
    if with_result:
        out["result"] = s.result if s.status == "done" else None
    return out


def match_dict(m: MatchRow, *, with_passages: bool = True) -> dict:
    out = {
        "id": m.id,
        "scan_id": m.scan_id,
        "article": (
            {
                "id": m.article.id,
                "title": m.article.title,
                "url": m.article.url,
                "publisher": m.article.publisher,
            }
            if m.article
            else None
        ),
        "suspect_url": m.suspect_url,
        "kind": m.kind,
        "verdict": m.verdict,
        "score": round(m.score, 4),
        **Coverage.of(m).to_dict(),  # the one definition (web.coverage), with its word counts
        "attributed": m.attributed,
        "licensed": m.licensed,
        "explanation": m.explanation,
        "credits": list(m.credits or []),
        "review_status": m.review_status,
        "created_at": iso(m.created_at),
    }
    if with_passages:
        out["passages"] = [
            {
                "suspect_start": p.suspect_start,
                "suspect_end": p.suspect_end,
                "source_start": p.source_start,
                "source_end": p.source_end,
                "similarity": round(p.similarity, 4),
                "words": p.words,
            }
            for p in m.passages
        ]
        out["reviews"] = [
            {
                "action": r.action,
                "note": r.note,
                "user": r.user.email if r.user else None,
                "created_at": iso(r.created_at),
            }
            for r in m.reviews
        ]
    return out
