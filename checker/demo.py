"""Demo data: register the articles in ``seeds/`` and scan the demo suspects against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from checker.errors import InputError
from checker.jsonl import article_from_json
from checker.models import Organisation
from checker.orgs import get_or_create_org, org_name
from checker.records import ScanResult
from checker.registry import Registry

DEFAULT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# The seed articles are an Indonesian newsroom's: the organisation the demo creates keeps its time (WIB).
DEMO_TIME_ZONE = "Asia/Jakarta"


def seeds_path(seeds_dir: str | Path | None = None) -> Path:
    path = Path(seeds_dir) if seeds_dir else DEFAULT_SEEDS
    if not (path / "articles.jsonl").exists():
        raise InputError(f"{path}: no articles.jsonl here (is this the project's seeds/ folder?)")
    return path


def demo_org(session: Session, name: str | None) -> Organisation:
    """The organisation the demo fills (checker.orgs' default for None). Created here, it gets
    :data:`DEMO_TIME_ZONE`; one that already exists keeps the time zone its people chose."""
    existing = session.scalar(select(Organisation).where(Organisation.name == org_name(name)))
    org = get_or_create_org(session, name)  # the default one adopts what belongs to none
    if existing is None:
        org.time_zone = DEMO_TIME_ZONE
    return org


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def register_demo_articles(
    registry: Registry, seeds_dir: str | Path | None = None, *, org_id: int | None = None
) -> list[int]:
    """Register the seed articles in ``org_id`` (those already registered keep their ids: registering
    is idempotent); returns their ids."""
    path = seeds_path(seeds_dir)
    articles = [
        article_from_json(value, n, registry.settings.max_text_chars)
        for n, value in enumerate(read_jsonl(path / "articles.jsonl"), start=1)
    ]
    return [r.id for r in registry.register_many(articles, skip_existing=True, org_id=org_id)]


def demo_suspects(seeds_dir: str | Path | None = None) -> list[dict[str, Any]]:
    return read_jsonl(seeds_path(seeds_dir) / "suspects.jsonl")


def load_demo(
    registry: Registry, seeds_dir: str | Path | None = None, *, org_id: int | None = None
) -> list[tuple[dict[str, Any], ScanResult]]:
    """Register the demo articles (in ``org_id``; already registered ones are kept), then scan every
    demo suspect against that organisation's articles."""
    register_demo_articles(registry, seeds_dir, org_id=org_id)
    return [(s, registry.scan(s["text"], s.get("url"), org_id=org_id)) for s in demo_suspects(seeds_dir)]
