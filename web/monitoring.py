"""The monitoring page: an organisation's watches (sites re-crawled, feeds and sitemaps re-read on a
schedule), what each last did and when it runs next; editors add, pause, resume and remove them.

A watch that fails keeps trying with a back-off and is paused after a few failures in a row
(:mod:`checker.monitoring`); without this page that was invisible. The API (web/api.py) and
``checker watch`` show the same summaries (:func:`checker.monitoring.summaries`).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checker import monitoring
from checker.errors import InputError, NotFound
from checker.models import Crawl, Watch
from web import confirm
from web.auth import role_required
from web.db import get_registry, get_session
from web.queries import MAX_ID
from worker.search import BRAVE, SEARXNG

bp = Blueprint("monitoring", __name__)

KIND_LABELS = {"site": _l("site crawl"), "feed": _l("feed or sitemap")}
UNITS = {"minutes": 1, "hours": 60}
# Discovery's search providers by their own names.
PROVIDER_NAMES = {SEARXNG: "SearXNG", BRAVE: "Brave Search"}
# A form's interval field: digits only, so "1e309" or "9" * 30 are refused before int() sees them.
MAX_NUMBER_CHARS = 9


def get_watch(session: Session, org_id: int, watch_id: int) -> Watch:
    """The organisation's watch ``watch_id``; another organisation's is "not found", as any other id."""
    watch = session.get(Watch, watch_id) if 1 <= watch_id <= MAX_ID else None
    if watch is None or watch.org_id != org_id:
        raise NotFound(f"no watch with id {watch_id}")
    return watch


def last_crawls(session: Session, org_id: int, watch_ids: list[int]) -> dict[int, int]:
    """Each watch's last crawl (its run), for the link to the run's page."""
    if not watch_ids:
        return {}
    rows = session.execute(
        select(Crawl.watch_id, func.max(Crawl.id))
        .where(Crawl.org_id == org_id, Crawl.watch_id.in_(watch_ids))
        .group_by(Crawl.watch_id)
    ).all()
    return {watch_id: crawl_id for watch_id, crawl_id in rows if watch_id is not None}  # IN drops NULL


def every(minutes: int) -> str:
    """A schedule in words: "every day", "every 2 days", "every 6 hours", "every 30 minutes" (the intervals
    allowed start at 5 minutes; one message per unit and count, so Indonesian says "setiap hari")."""
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return _("every day") if days == 1 else _("every %(num)s days", num=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return _("every hour") if hours == 1 else _("every %(num)s hours", num=hours)
    return _("every %(num)s minutes", num=minutes)


bp.add_app_template_filter(every, "every")


def discovery_usage() -> list:
    """Today's queries per search provider (worker.search): the budget is the installation's, per UTC day."""
    from worker.search import usage_today

    return usage_today(get_session(), get_registry().settings)


@bp.before_request
@login_required
def require_login():
    """Every page here needs a logged-in account."""


def _page(form=None, error: str | None = None, status: int = 200):
    session = get_session()
    org = current_user.org_id
    watches = monitoring.summaries(session, org)
    return render_template(
        "watches.html",
        watches=watches,
        runs=last_crawls(session, org, [w.id for w in watches]),
        kinds=KIND_LABELS,
        providers=PROVIDER_NAMES,
        form=form or {},
        error=error,
        usage=discovery_usage(),
        max_failures=monitoring.MAX_FAILURES,
    ), status


@bp.route("/watches")
def watches():
    """The organisation's watches: schedule, last and next run, what they found, why one failed."""
    return _page()


def _number(value: str | None, refusal: str) -> int:
    """A form's whole number; ``refusal`` (the message) when it is not one."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_NUMBER_CHARS:
        raise InputError(refusal)
    return int(value)


@bp.route("/watches", methods=("POST",))
@role_required("editor")
def add():
    """Add a watch from the page's form: URL, kind, interval (in minutes or hours), max pages."""
    from worker import dispatch

    form = request.form
    try:
        unit = UNITS.get(form.get("interval_unit", "hours"))
        if unit is None:
            raise InputError(_("Choose minutes or hours for the interval."))
        interval = _number(form.get("interval"), _("The interval must be a whole number.")) * unit
        max_pages = _number(form.get("max_pages"), _("Max pages must be a whole number."))
        kind = form.get("kind", "site")
        watch_id = dispatch.add_watch(
            get_registry(),
            form.get("url", ""),
            org_id=current_user.org_id,
            interval_minutes=interval,
            max_pages=max_pages,
            kind=kind,
        )
    except InputError as exc:
        return _page(form, _("The watch was not added: %(why)s", why=str(exc)), 422)
    flash(
        _(
            "Watch %(id)s added: its first run starts shortly, then %(every)s.",
            id=watch_id,
            every=every(interval),
        )
    )
    return redirect(url_for("monitoring.watches"), 303)


def _owned(watch_id: int) -> Watch:
    try:
        return get_watch(get_session(), current_user.org_id, watch_id)
    except NotFound:
        abort(404)


@bp.route("/watches/<int:watch_id>/pause", methods=("POST",))
@role_required("editor")
def pause(watch_id: int):
    """Pause a watch: it stays listed with its history, and does not run until resumed."""
    watch = _owned(watch_id)
    if watch.active:
        monitoring.pause(get_session(), watch, reason=f"paused by {current_user.email}")
        get_session().commit()
        flash(_("Watch %(id)s paused: it does not run until you resume it.", id=watch_id))
    else:
        flash(_("Watch %(id)s was already paused.", id=watch_id))
    return redirect(url_for("monitoring.watches"), 303)


@bp.route("/watches/<int:watch_id>/resume", methods=("POST",))
@role_required("editor")
def resume(watch_id: int):
    """Resume a watch: due at once, its count of failures forgotten."""
    watch = _owned(watch_id)
    monitoring.resume(get_session(), watch)
    get_session().commit()
    flash(_("Watch %(id)s resumed: it runs shortly.", id=watch_id))
    return redirect(url_for("monitoring.watches"), 303)


@bp.route("/watches/<int:watch_id>/remove", methods=("GET", "POST"))
@role_required("editor")
def remove(watch_id: int):
    """Remove a watch, after a confirmation page; the crawls it ran and their matches stay."""
    watch = _owned(watch_id)
    if request.method == "POST" and confirm.confirmed():
        session = get_session()
        session.delete(watch)
        session.commit()
        flash(_("Watch %(id)s removed. The crawls it ran and the matches they found stay.", id=watch_id))
        return redirect(url_for("monitoring.watches"), 303)
    return confirm.ask(
        _("Stop watching %(url)s?", url=watch.url),
        detail=_(
            "The watch is removed; the crawls it ran and the matches they found stay. "
            "To stop it for a while only, pause it instead."
        ),
        action=url_for("monitoring.remove", watch_id=watch_id),
        cancel=url_for("monitoring.watches"),
        button=_("Remove the watch"),
    )
