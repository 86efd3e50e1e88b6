"""The organisation's settings page: its match settings (checker.match_options) and its time zone.

Every member may read the settings, read-only, so that an editor who sees "hidden because it is smaller
than the organisation's minimum" can look the minimum up; only admins change them. A change goes through
:func:`checker.orgs.update_settings`, which checks every field (checker.validate) before storing any:
a bad value is a 422 with the reason, the form keeps what was typed, and the stored settings stay as
they were.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from checker.errors import InputError
from checker.models import Organisation
from checker.orgs import settings_of, update_settings
from checker.thresholds import DEFAULT_MATCH_CONFIG
from web.db import get_session

bp = Blueprint("org_settings", __name__, url_prefix="/settings")

# The form's yes/no answer for "quotations excluded".
QUOTES_CHOICES = {"yes": True, "no": False}


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The zones the select offers (and :func:`checker.validate.time_zone` accepts), sorted."""
    return tuple(sorted(available_timezones()))


def _form_values(form) -> dict:
    """The posted fields as :func:`checker.orgs.update_settings` takes them (checked there)."""
    quotes = form.get("exclude_quotes", "")
    if quotes not in QUOTES_CHOICES:
        raise InputError(_("Quotations excluded must be yes or no."))
    sources = [line for line in form.get("excluded_sources", "").splitlines() if line.strip()]
    emails = [line for line in form.get("alert_emails", "").replace(",", "\n").splitlines() if line.strip()]
    return {
        "min_match_words": form.get("min_match_words", ""),
        "exclude_quotes": QUOTES_CHOICES[quotes],
        "excluded_sources": sources,
        "time_zone": form.get("time_zone", ""),
        "alert_frequency": form.get("alert_frequency", "immediate"),
        "alert_emails": emails,
    }


@bp.route("", methods=("GET", "POST"))
@login_required
def settings():
    """Show the settings; an admin's POST changes them (all fields checked, or none stored)."""
    session = get_session()
    org = session.get(Organisation, current_user.org_id)
    if org is None:
        abort(404)
    error, status, form = None, 200, None
    if request.method == "POST":
        if not current_user.can("admin"):
            abort(403)
        form = request.form
        try:
            changed = update_settings(org, **_form_values(form))
        except InputError as exc:
            session.rollback()
            error, status = str(exc), 422
        else:
            session.commit()
            flash(_("Settings saved.") if changed else _("Nothing changed."))
            return redirect(url_for("org_settings.settings"), 303)
    return render_template(
        "dashboard/settings.html",
        current=settings_of(org),
        form=form,
        error=error,
        zones=time_zones(),
        floor=DEFAULT_MATCH_CONFIG.min_passage_words,
        editable=current_user.can("admin"),
    ), status
