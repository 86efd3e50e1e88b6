"""Background work an organisation started and what became of it: site crawls (with the scans each
produced) and alert deliveries (webhook and e-mail), each with its reason in plain words when it failed.

A crawl or delivery that fails is otherwise invisible: its scans appear one by one in the scan list, and
an alert that never arrived leaves no trace. These pages say what happened and why.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from checker.errors import NotFound
from web import queries
from web.dashboard import _filters
from web.db import get_session

bp = Blueprint("activity", __name__)


@bp.before_request
@login_required
def require_login():
    """Every page here needs a logged-in account."""


@bp.route("/crawls")
def crawls():
    """Site crawls, newest first: status, pages found, and why a failed one failed."""
    f = _filters()
    page = queries.paginate(get_session(), queries.crawls_query(current_user.org_id, f), f)
    return render_template("activity/crawls.html", page=page, filters=f)


@bp.route("/crawls/<int:crawl_id>")
def crawl(crawl_id: int):
    """One crawl and the scans of the pages it found."""
    session = get_session()
    try:
        crawl = queries.get_crawl(session, current_user.org_id, crawl_id)
    except NotFound:
        abort(404)
    f = queries.Filters(per_page=current_app.config["PAGE_SIZE"])
    scans = queries.paginate(session, queries.crawl_scans_query(crawl), f)
    return render_template("activity/crawl.html", crawl=crawl, scans=scans)


@bp.route("/alerts")
def alerts():
    """Alert deliveries, newest first: each channel's status and the last delivery error."""
    f = _filters()
    page = queries.paginate(get_session(), queries.alerts_query(current_user.org_id, f), f)
    return render_template("activity/alerts.html", page=page, filters=f)
