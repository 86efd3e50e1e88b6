"""Organisations by name: the one lookup the CLI, ``checker serve --demo``, ``checker users`` and the
dashboard's accounts share, so that all of them work on the same articles and scans.

Every command that reads or writes articles or scans works inside one organisation: ``--org NAME``
(or ``$CHECKER_ORG``), else :data:`DEFAULT_ORG`, created on first use (a single-publisher install never
has to name one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from checker import validate
from checker.errors import InputError
from checker.match_options import DEFAULT_OPTIONS, MatchOptions
from checker.models import Article, Crawl, Organisation, Scan, Watch
from checker.store import rowcount

DEFAULT_ORG = "Default"
# Rows written before every command worked inside an organisation (the first round's CLI) have none;
# the default organisation adopts them, so that the dashboard shows what those commands registered.
ORG_SCOPED = (Article, Scan, Crawl, Watch)


def org_name(name: str | None) -> str:
    """``name`` with its whitespace collapsed and checked (InputError); :data:`DEFAULT_ORG` for None."""
    if name is None:
        return DEFAULT_ORG
    return validate.text_field(
        " ".join(name.split()), "organisation name", validate.column_length(Organisation.name), required=True
    )


def get_or_create_org(session: Session, name: str | None) -> Organisation:
    """The organisation called ``name`` (:data:`DEFAULT_ORG` for None), created if missing. The default
    organisation adopts the rows that belong to none (:func:`adopt_orgless`)."""
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
            assert org is not None  # its row is what the insert clashed with
    if org.name == DEFAULT_ORG:
        adopt_orgless(session, org)
    return org


# session.info key: the ids of the articles adopted in this transaction (checker.registry re-indexes them).
ADOPTED_ARTICLES = "checker.adopted_articles"


def adopt_orgless(session: Session, org: Organisation) -> int:
    """Move every organisation-less article, scan, crawl and watch into ``org``; how many rows moved.
    (Alert events stay: they are a delivery log, unique per organisation.) The adopted articles' ids go
    in ``session.info[ADOPTED_ARTICLES]``: the registry whose session this is indexes them again under
    ``org`` when the transaction commits (checker.partition); other processes see that on their next
    scan. The CLI and ``checker serve`` adopt when they start."""
    articles = session.scalars(select(Article.id).where(Article.org_id.is_(None))).all()
    if articles:  # the registry indexes them again under their organisation once this commits
        session.info.setdefault(ADOPTED_ARTICLES, set()).update(articles)
    moved = 0
    for model in ORG_SCOPED:
        moved += (
            rowcount(session.execute(update(model).where(model.org_id.is_(None)).values(org_id=org.id))) or 0
        )
    return moved


def org_id_for(session_factory: sessionmaker[Session], name: str | None) -> int:
    """The id of the organisation called ``name`` (created if missing), in a transaction of its own."""
    with session_factory.begin() as session:
        return get_or_create_org(session, name).id


# -- match settings ------------------------------------------------------------------------------------
def match_options(org: Organisation) -> MatchOptions:
    """The organisation's match settings as the engine takes them (:mod:`checker.match_options`),
    checked again: a row edited by hand past the forms fails the scan with the reason (InputError),
    rather than scanning with a setting nobody chose."""
    try:
        return validate.match_options(
            min_match_words=org.min_match_words,
            exclude_quotes=True if org.exclude_quotes is None else org.exclude_quotes,
            excluded_sources=org.excluded_sources or [],
        )
    except InputError as exc:
        raise InputError(
            f"the match settings of {org.name} are invalid ({exc}); correct them on its settings "
            "page or with `checker org settings`"
        ) from None


def match_options_for(session: Session, org_id: int | None) -> MatchOptions:
    """:func:`match_options` of the organisation ``org_id``; the defaults for none (or a deleted one)."""
    org = session.get(Organisation, org_id) if org_id is not None else None
    return DEFAULT_OPTIONS if org is None else match_options(org)


def save_match_options(org: Organisation, options: MatchOptions) -> None:
    """Store checked settings (:func:`checker.validate.match_options`) on the organisation's row."""
    org.min_match_words = options.min_match_words
    org.exclude_quotes = options.exclude_quotes
    org.excluded_sources = list(options.excluded_sources) or None


KEEP = object()  # update_settings: leave this setting as it is


def settings_of(org: Organisation) -> dict[str, Any]:
    """The organisation's settings as stored (what `checker org settings --json` prints)."""
    return {
        "organisation": org.name,
        "min_match_words": org.min_match_words,
        "exclude_quotes": True if org.exclude_quotes is None else org.exclude_quotes,
        "excluded_sources": list(org.excluded_sources or []),
        "time_zone": org.time_zone or "UTC",
        "alert_frequency": org.alert_frequency or "immediate",
        "alert_emails": list(org.alert_emails or []),
    }


def update_settings(
    org: Organisation,
    *,
    min_match_words: object = KEEP,
    exclude_quotes: object = KEEP,
    excluded_sources: object = KEEP,
    time_zone: object = KEEP,
    alert_frequency: object = KEEP,
    alert_emails: object = KEEP,
) -> list[str]:
    """Check the given settings together with the kept ones and store them all, or store nothing:
    InputError names the bad setting, and the row is untouched. Returns the names of the settings
    that changed. (The settings page and `checker org settings` both write through here.)"""
    current = settings_of(org)
    given = {
        "min_match_words": min_match_words,
        "exclude_quotes": exclude_quotes,
        "excluded_sources": excluded_sources,
        "time_zone": time_zone,
        "alert_frequency": alert_frequency,
        "alert_emails": alert_emails,
    }
    wanted = {k: current[k] if v is KEEP else v for k, v in given.items()}
    options = validate.match_options(
        min_match_words=wanted["min_match_words"],
        exclude_quotes=wanted["exclude_quotes"],
        excluded_sources=wanted["excluded_sources"],
    )
    zone = validate.time_zone(wanted["time_zone"])
    frequency = validate.alert_frequency(wanted["alert_frequency"])
    emails = validate.email_list(wanted["alert_emails"])
    save_match_options(org, options)
    org.time_zone = zone
    org.alert_frequency, org.alert_emails = frequency, emails or None
    after = settings_of(org)
    return [k for k in given if after[k] != current[k]]
