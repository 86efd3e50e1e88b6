"""Login, logout and the guards every other view uses: ``login_required`` sessions (Flask-Login),
``role_required`` for editors and admins, CSRF on every form (Flask-WTF); throttling in web.throttle.

A session names its account as "id:session_version" (``Account.get_id``); ``load_user`` accepts it only
while the account is active and its ``session_version`` unchanged, so logging out, disabling, a new
password or a new role (each bumps the version, see web.accounts) ends every session of that account,
wherever it was saved. Logging in starts a new session (no fixation) with a new CSRF token.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from checker.errors import InputError
from web import accounts, throttle
from web.db import get_session

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.localize_callback = str  # the lazy message in the reader's language, when it is flashed
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class Account(UserMixin):
    """The logged-in account as views see it (loaded fresh on every request)."""

    id: int
    email: str
    role: str
    org_id: int
    org_name: str
    session_version: int = 0
    locale: str | None = None  # the account's language; None: the browser's (web.i18n)
    time_zone: str = "UTC"  # the organisation's, for dates on its pages
    site_admin: bool = False  # the install's operator: may create organisations

    def can(self, role: str) -> bool:
        return accounts.has_role(self.role, role)

    def get_id(self) -> str:
        """What the session stores: the account and the session version it was made with."""
        return f"{self.id}:{self.session_version}"


def account_of(user) -> Account:
    return Account(
        id=user.id,
        email=user.email,
        role=user.role,
        org_id=user.org_id,
        org_name=user.org.name,
        session_version=user.session_version or 0,
        locale=user.locale,
        time_zone=user.org.time_zone or "UTC",
        site_admin=bool(user.site_admin),
    )


@login_manager.user_loader
def load_user(user_id: str) -> Account | None:
    """The session's account, unless it was disabled or its sessions were ended since."""
    from checker.models import User

    uid, sep, version = (user_id or "").partition(":")
    try:
        uid_n, version_n = int(uid), int(version)
    except ValueError:
        return None  # also a session saved before session versions: log in again
    if not sep or not 1 <= uid_n < 2**63:
        return None
    user = get_session().get(User, uid_n)
    if user is None or not user.active or (user.session_version or 0) != version_n:
        return None
    return account_of(user)


def init_app(app) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_template(
            "error.html",
            code=400,
            message=_(
                "The form expired or was not sent by this site (%(why)s). Go back, reload the page and try again.",
                why=exc.description,
            ),
        ), 400

    @app.context_processor
    def inject_account():
        return {"account": current_user}


def role_required(role: str):
    """The view needs a logged-in account with at least ``role`` (403 otherwise)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str:
    """Only same-site paths after login: no other host (``//host``, ``/\\host``, a scheme), and nothing a
    Location header cannot carry (control characters, spaces, non-ASCII: a real ``next`` is URL-encoded)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and all("!" <= c <= "~" and c != "\\" for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("dashboard.overview")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Log in with e-mail and password. Every refusal is the same 401 page, whatever the reason; per
    address and per account throttling in web.throttle."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    error, status = None, 200
    if request.method == "POST":
        email, password = request.form.get("email", ""), request.form.get("password", "")
        backoff = throttle.backoff()
        session = get_session()
        try:
            if backoff.waiting(email):
                accounts.refuse_login(password)  # unchecked, at the cost of a checked one
            try:
                user = accounts.authenticate(session, email, password)
            except accounts.LoginRefused:
                backoff.failed(email)
                raise
        except accounts.LoginRefused as exc:
            session.rollback()
            error, status = _(str(exc)), 401  # accounts.LOGIN_REFUSED, translated (marked in web.i18n)
        else:
            account = account_of(user)
            session.commit()
            backoff.succeeded(email)
            cookie_session.clear()  # a new session (no fixation) and with it a new CSRF token
            login_user(account)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=request.form.get("email", "")), status


@bp.route("/logout", methods=("POST",))
def logout():
    """Log out (a POST with the CSRF token, so another site cannot log you out). Ends every session of
    the account, on every browser, remember-me cookies included."""
    if current_user.is_authenticated:
        from checker.models import User

        session = get_session()
        user = session.get(User, current_user.id)
        if user is not None:
            accounts.end_sessions(user)
            session.commit()
    logout_user()
    cookie_session.clear()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=("GET", "POST"))
def password():
    """Change your own password: the current one, the new one twice. The account's other sessions end
    (a new password bumps its session version, web.accounts.set_password); this one goes on, logged in
    again under the new version. A wrong current password counts as a failed login of the account
    (web.throttle), so this form cannot be used to guess a password faster than the login form."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    error, status = None, 200
    if request.method == "POST":
        from checker.models import User

        session, backoff, email = get_session(), throttle.backoff(), current_user.email
        user = session.get(User, current_user.id)
        try:
            if backoff.waiting(email):
                raise InputError(_("Too many wrong passwords for this account: try again in a minute."))
            try:
                accounts.change_password(
                    user,
                    request.form.get("current_password", ""),
                    request.form.get("new_password", ""),
                    request.form.get("new_password2", ""),
                )
            except accounts.WrongPassword:
                backoff.failed(email)
                raise
        except InputError as exc:
            session.rollback()
            error, status = str(exc), 422
        else:
            session.commit()
            session.refresh(user)
            account = account_of(user)
            cookie_session.clear()  # a new session, as at login, under the new session version
            login_user(account)
            flash(_("Password changed. Your other sessions have ended."))
            return redirect(url_for("auth.password"), 303)
    return render_template("auth/password.html", error=error, min_chars=accounts.MIN_PASSWORD_CHARS), status
