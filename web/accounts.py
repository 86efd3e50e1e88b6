"""Accounts, organisations and API tokens: creating, authenticating, locking, revoking.

Used by the login view, the API's token check, the admin pages and the ``checker users``/``tokens``
commands. Passwords are hashed with scrypt (werkzeug); an API token is shown once and stored only as
its SHA-256 digest (a token is 256 random bits, so a fast digest is enough: there is nothing to guess).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from checker.errors import InputError, NotFound
from checker.models import ApiToken, Organisation, User

ROLES = ("admin", "editor", "viewer")
# admin > editor > viewer: each role may do what the ones below it may.
ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}
MIN_PASSWORD_CHARS = 8
TOKEN_PREFIX = "chk_"
# Shown in listings so a token can be recognised without being stored: "chk_" + 8 characters.
TOKEN_VISIBLE_CHARS = 12
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Compared against when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class LoginRefused(Exception):
    """A login that failed; the message is safe to show."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def has_role(role: str, needed: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise InputError(f"{email!r} is not an e-mail address")
    return email


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise InputError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    return role


def get_or_create_org(session: Session, name: str) -> Organisation:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise InputError("the organisation name must be 1 to 200 characters")
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
    return org


def create_user(session: Session, *, email: str, password: str, role: str, org_id: int) -> User:
    """A new active account in ``org_id``; InputError for a taken e-mail or a weak password."""
    email = normalize_email(email)
    check_password(password)
    check_role(role)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise InputError(f"an account with e-mail {email} already exists")
    user = User(email=email, password_hash=hash_password(password), role=role, org_id=org_id, active=True)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"no account with e-mail {email}")
    return user


def authenticate(session: Session, email: str, password: str, *, max_failures: int, lockout: timedelta) -> User:
    """The account for these credentials, or LoginRefused. Counts failures and locks the account after
    ``max_failures`` in a row; the caller commits either way."""
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise LoginRefused("Wrong e-mail or password.")
    if user.locked_until is not None and user.locked_until > now():
        raise LoginRefused("Too many failed logins: this account is locked for a while. Try again later.")
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= max_failures:
            user.locked_until = now() + lockout
            user.failed_logins = 0
        raise LoginRefused("Wrong e-mail or password.")
    if not user.active:
        raise LoginRefused("This account is disabled.")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now()
    return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the plaintext (shown once, never stored)."""
    if not user.active:
        raise InputError(f"{user.email} is disabled")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_sha256=token_digest(plaintext), prefix=plaintext[:TOKEN_VISIBLE_CHARS],
                   name=(name or "").strip()[:200])
    session.add(row)
    session.flush()
    return row, plaintext


def user_for_token(session: Session, token: str) -> User | None:
    """The active account owning an unrevoked ``token`` (and note its use), else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = now()
    return row.user


def revoke_token(session: Session, token_id: int, *, org_id: int | None = None) -> ApiToken:
    """Revoke a token (of ``org_id`` when given; another organisation's token is not found)."""
    row = session.get(ApiToken, token_id)
    if row is None or (org_id is not None and row.user.org_id != org_id):
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now()
    return row
