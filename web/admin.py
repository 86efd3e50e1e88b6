"""Administration: an organisation's accounts and API tokens (its admins), and the organisations
themselves (site admins, ``users.site_admin``: the install's operator).

Disabling or deleting an account and revoking a token ask first (web.confirm): the POST acts only
with the confirmation page's ``confirm`` field."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from checker.errors import InputError, NotFound
from checker.models import ApiToken, Article, Organisation, User
from web import accounts, confirm
from web.db import get_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


# Pages for site admins only (whatever their role in their own organisation).
SITE_ADMIN_ENDPOINTS = frozenset({"admin.organisations"})


@bp.before_request
@login_required
def require_admin():
    """Every admin page needs the admin role; the organisations page needs a site admin (403 otherwise)."""
    allowed = (
        current_user.site_admin if request.endpoint in SITE_ADMIN_ENDPOINTS else current_user.can("admin")
    )
    if not allowed:
        abort(403)


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
            user = accounts.create_user(
                session,
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
                role=request.form.get("role", "viewer"),
                org_id=current_user.org_id,
            )
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
    """Enable an account, or disable it once confirmed (not your own)."""
    user = _org_user(user_id)
    active = request.form.get("active") == "1"
    if user.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
    elif not active and not confirm.confirmed():
        return _ask_disable(user)
    else:
        accounts.set_active(user, active)  # disabling ends its sessions
        get_session().commit()
        flash(
            _("%(email)s enabled.", email=user.email)
            if active
            else _("%(email)s disabled.", email=user.email)
        )
    return redirect(url_for("admin.users"), 303)


@bp.route("/users/<int:user_id>/disable")
def disable(user_id: int):
    """Asks before disabling an account."""
    return _ask_disable(_org_user(user_id))


def _ask_disable(user: User):
    return confirm.ask(
        _("Disable the account %(email)s?", email=user.email),
        detail=_("Its sessions end and its API tokens stop working until it is enabled again."),
        undoable=True,
        action=url_for("admin.set_active", user_id=user.id),
        fields={"active": "0"},
        cancel=url_for("admin.users"),
        button=_("Disable the account"),
    )


@bp.route("/users/<int:user_id>/delete", methods=("GET", "POST"))
def delete_user(user_id: int):
    """Delete an account (not your own), after a confirmation page."""
    user = _org_user(user_id)
    if user.id == current_user.id:
        flash(_("You cannot delete your own account."), "error")
        return redirect(url_for("admin.users"), 303)
    if request.method == "POST" and confirm.confirmed():
        email = user.email
        accounts.delete_user(get_session(), user)
        get_session().commit()
        flash(_("Account %(email)s deleted.", email=email))
        return redirect(url_for("admin.users"), 303)
    return confirm.ask(
        _("Delete the account %(email)s?", email=user.email),
        detail=_(
            "Its API tokens are deleted with it. The scans it submitted and the reviews it wrote stay, "
            "shown as by a deleted account."
        ),
        action=url_for("admin.delete_user", user_id=user.id),
        cancel=url_for("admin.users"),
        button=_("Delete the account"),
    )


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
    rows = session.scalars(
        select(ApiToken).join(User).where(User.org_id == current_user.org_id).order_by(ApiToken.id.desc())
    ).all()
    people = session.scalars(
        select(User).where(User.org_id == current_user.org_id, User.active.is_(True)).order_by(User.email)
    ).all()
    # Never cached: the page may hold a new token.
    return (
        render_template("admin/tokens.html", tokens=rows, users=people, new_token=new_token),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.route("/tokens/<int:token_id>/revoke", methods=("GET", "POST"))
def revoke(token_id: int):
    """Revoke an API token, after a confirmation page."""
    try:
        row = accounts.get_token(get_session(), token_id, org_id=current_user.org_id)
    except NotFound:
        abort(404)
    if request.method == "POST" and confirm.confirmed():
        accounts.revoke_token(get_session(), token_id, org_id=current_user.org_id)
        get_session().commit()
        flash(_("Token %(prefix)s… revoked.", prefix=row.prefix))
        return redirect(url_for("admin.tokens"), 303)
    return confirm.ask(
        _("Revoke the API token %(prefix)s… of %(email)s?", prefix=row.prefix, email=row.user.email),
        detail=_("Scripts using it get 401 from then on."),
        action=url_for("admin.revoke", token_id=token_id),
        cancel=url_for("admin.tokens"),
        button=_("Revoke the token"),
    )


# -- organisations (site admins) -----------------------------------------------------------------------------
# Offered for a new organisation: the product's first users are Indonesian newsrooms.
NEW_ORG_TIME_ZONE = "Asia/Jakarta"


@bp.route("/organisations", methods=("GET", "POST"))
def organisations():
    """Every organisation with its article and account counts; create one with its first admin."""
    session, form, error, status = get_session(), {}, None, 200
    if request.method == "POST":
        form = request.form
        try:
            org, user = accounts.create_organisation(
                session,
                name=form.get("name", ""),
                admin_email=form.get("email", ""),
                password=form.get("password", ""),
                time_zone=form.get("time_zone", ""),
            )
        except InputError as exc:
            session.rollback()
            error, status = str(exc), 422
        else:
            session.commit()
            flash(
                _(
                    "Organisation %(name)s created; %(email)s can log in as its admin.",
                    name=org.name,
                    email=user.email,
                )
            )
            return redirect(url_for("admin.organisations"), 303)
    return render_template(
        "admin/organisations.html",
        rows=_organisation_rows(session),
        form=form,
        error=error,
        default_zone=NEW_ORG_TIME_ZONE,
    ), status


def _organisation_rows(session):
    """(organisation, articles, accounts) for every organisation, by name."""
    articles = select(func.count(Article.id)).where(Article.org_id == Organisation.id).scalar_subquery()
    people = select(func.count(User.id)).where(User.org_id == Organisation.id).scalar_subquery()
    return session.execute(select(Organisation, articles, people).order_by(Organisation.name)).all()
