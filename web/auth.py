"""Login, logout and the guards every other view uses: ``login_required`` sessions (Flask-Login),
``role_required`` for editors and admins, CSRF on every form (Flask-WTF), and a login rate limit."""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from web import accounts
from web.db import get_session

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class Account(UserMixin):
    """The logged-in account as views see it (loaded fresh on every request)."""

    id: int
    email: str
    role: str
    org_id: int
    org_name: str

    def can(self, role: str) -> bool:
        return accounts.has_role(self.role, role)


def account_of(user) -> Account:
    return Account(id=user.id, email=user.email, role=user.role, org_id=user.org_id, org_name=user.org.name)


@login_manager.user_loader
def load_user(user_id: str) -> Account | None:
    from checker.models import User

    try:
        user = get_session().get(User, int(user_id))
    except ValueError:
        return None
    # A disabled account is logged out on its next request.
    return account_of(user) if user is not None and user.active else None


def init_app(app) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
    app.extensions["checker.login_limiter"] = FailureLimiter(
        app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_RATE_WINDOW_S"]
    )

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_template("error.html", code=400, message=f"The form expired or was not sent by this site "
                               f"({exc.description}). Go back, reload the page and try again."), 400

    for code, message in ((403, "Your role does not allow this."), (404, "Not found."),
                          (405, "This method is not allowed here."), (413, "The upload is too large."),
                          (429, "Too many attempts; wait a few minutes."), (500, "Something went wrong on our side.")):
        app.register_error_handler(code, functools.partial(_error_page, code=code, message=message))

    @app.context_processor
    def inject_account():
        return {"account": current_user}


def _error_page(exc, *, code: int, message: str):
    if request.path.startswith("/api/"):
        from web.api import json_error

        return json_error(code, getattr(exc, "description", None) or message)
    return render_template("error.html", code=code, message=message), code


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


class FailureLimiter:
    """At most ``limit`` failed logins per client address in ``window_s`` seconds (in this process)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        q, cutoff = self._seen[key], time.monotonic() - self.window_s
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key)) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(time.monotonic())


def _safe_next(target: str | None) -> str:
    """Only same-site paths after login (no open redirect to another host)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.overview")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    error, status = None, 200
    if request.method == "POST":
        limiter: FailureLimiter = current_app.extensions["checker.login_limiter"]
        client = request.remote_addr or "?"
        if limiter.blocked(client):
            abort(429)
        session = get_session()
        try:
            user = accounts.authenticate(
                session, request.form.get("email", ""), request.form.get("password", ""),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
            )
        except accounts.LoginRefused as exc:
            session.commit()  # keep the failure count
            limiter.failed(client)
            error, status = str(exc), 401
        else:
            account = account_of(user)
            session.commit()
            login_user(account)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=request.form.get("email", "")), status


@bp.route("/logout", methods=("POST",))
def logout():
    """Log out (a POST with the CSRF token, so another site cannot log you out)."""
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
