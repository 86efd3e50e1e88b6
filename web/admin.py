"""Administration for an organisation's admins: accounts and API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from checker.errors import InputError, NotFound
from checker.models import ApiToken, User
from web import accounts
from web.auth import role_required
from web.db import get_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def require_admin():
    """Every admin page needs the admin role."""


def _org_user(user_id: int) -> User:
    user = get_session().get(User, user_id) if 1 <= user_id < 2**63 else None
    if user is None or user.org_id != current_user.org_id:
        abort(404)
    return user


@bp.route("/users", methods=("GET", "POST"))
def users():
    """The organisation's accounts; create one."""
    session, error, status = get_session(), None, 200
    if request.method == "POST":
        try:
            user = accounts.create_user(session, email=request.form.get("email", ""),
                                        password=request.form.get("password", ""),
                                        role=request.form.get("role", "viewer"), org_id=current_user.org_id)
        except InputError as exc:
            session.rollback()
            error, status = str(exc), 422
        else:
            session.commit()
            flash(f"Account {user.email} created.")
            return redirect(url_for("admin.users"), 303)
    rows = session.scalars(select(User).where(User.org_id == current_user.org_id).order_by(User.email)).all()
    return render_template("admin/users.html", users=rows, roles=accounts.ROLES, error=error), status


@bp.route("/users/<int:user_id>/active", methods=("POST",))
def set_active(user_id: int):
    """Disable or enable an account (not your own)."""
    user = _org_user(user_id)
    if user.id == current_user.id:
        flash("You cannot disable your own account.", "error")
    else:
        accounts.set_active(user, request.form.get("active") == "1")  # disabling ends its sessions
        get_session().commit()
        flash(f"{user.email} {'enabled' if user.active else 'disabled'}.")
    return redirect(url_for("admin.users"), 303)


@bp.route("/tokens", methods=("GET", "POST"))
def tokens():
    """API tokens of the organisation; create one (shown once)."""
    session, new_token = get_session(), None
    if request.method == "POST":
        try:
            user = _org_user(int(request.form.get("user_id", "0") or 0))
            _row, new_token = accounts.create_token(session, user, request.form.get("name", ""))
        except (ValueError, InputError) as exc:
            session.rollback()
            flash(f"No token created: {exc}", "error")
        else:
            session.commit()
    rows = session.scalars(select(ApiToken).join(User).where(User.org_id == current_user.org_id)
                           .order_by(ApiToken.id.desc())).all()
    people = session.scalars(select(User).where(User.org_id == current_user.org_id, User.active.is_(True))
                             .order_by(User.email)).all()
    # Never cached: the page may hold a new token.
    return render_template("admin/tokens.html", tokens=rows, users=people, new_token=new_token), 200, {
        "Cache-Control": "no-store"}


@bp.route("/tokens/<int:token_id>/revoke", methods=("POST",))
def revoke(token_id: int):
    """Revoke an API token."""
    try:
        if not 1 <= token_id < 2**63:
            raise NotFound(f"no API token with id {token_id}")
        row = accounts.revoke_token(get_session(), token_id, org_id=current_user.org_id)
    except NotFound:
        abort(404)
    get_session().commit()
    flash(f"Token {row.prefix}… revoked.")
    return redirect(url_for("admin.tokens"), 303)
