"""Organisations by name: the one lookup the CLI, ``checker serve --demo``, ``checker users`` and the
dashboard's accounts share, so that all of them work on the same articles and scans.

Every command that reads or writes articles or scans works inside one organisation: ``--org NAME``
(or ``$CHECKER_ORG``), else :data:`DEFAULT_ORG`, created on first use (a single-publisher install never
has to name one).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from checker import validate
from checker.models import Article, Crawl, Organisation, Scan, Watch

DEFAULT_ORG = "Default"
# Rows written before every command worked inside an organisation (the first round's CLI) have none;
# the default organisation adopts them, so that the dashboard shows what those commands registered.
ORG_SCOPED = (Article, Scan, Crawl, Watch)


def org_name(name: str | None) -> str:
    """``name`` with its whitespace collapsed and checked (InputError); :data:`DEFAULT_ORG` for None."""
    if name is None:
        return DEFAULT_ORG
    return validate.text_field(" ".join(name.split()), "organisation name",
                               validate.column_length(Organisation.name), required=True)


def get_or_create_org(session: Session, name: str | None) -> Organisation:
    """The organisation called ``name`` (:data:`DEFAULT_ORG` for None), created if missing."""
    name = org_name(name)
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        try:
            with session.begin_nested():
                org = Organisation(name=name)
                session.add(org)
                session.flush()
        except IntegrityError:  # another process created it at the same moment
            org = session.scalar(select(Organisation).where(Organisation.name == name))
    return org


def adopt_orgless(session: Session, org: Organisation) -> int:
    """Move every organisation-less article, scan, crawl and watch into ``org``; how many rows moved.
    (Alert events stay: they are a delivery log, unique per organisation.)"""
    moved = 0
    for model in ORG_SCOPED:
        moved += session.execute(update(model).where(model.org_id.is_(None)).values(org_id=org.id)).rowcount or 0
    return moved


def org_id_for(session_factory, name: str | None) -> int:
    """The id of the organisation called ``name`` (created if missing), in a transaction of its own.
    The default organisation adopts the rows that belong to none (:data:`ORG_SCOPED`)."""
    with session_factory.begin() as session:
        org = get_or_create_org(session, name)
        if org.name == DEFAULT_ORG:
            adopt_orgless(session, org)
        return org.id
