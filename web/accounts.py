"""Accounts, organisations and API tokens: creating, authenticating, disabling, revoking.

Used by the login view, the API's token check, the admin pages and the ``checker users``/``tokens``
commands. Passwords are hashed with scrypt (werkzeug); an API token is shown once and stored only as
its SHA-256 digest (a token is 256 random bits, so a fast digest is enough: there is nothing to guess).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from checker import orgs, validate
from checker.errors import CheckerError, InputError, NotFound
from checker.models import ApiToken, Organisation, User

ROLES = ("admin", "editor", "viewer")
# admin > editor > viewer: each role may do what the ones below it may.
ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
TOKEN_PREFIX = "chk_"
# A token's "last used" is kept to this resolution (the admin page and `checker tokens list` show minutes):
# an API client's burst of requests writes it once, not once a request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# Shown in listings so a token can be recognised without being stored: "chk_" + 8 characters.
TOKEN_VISIBLE_CHARS = 12
# local@domain, neither holding "@" or whitespace, with a dot inside the domain (not first or last).
# Checked by parts: the regex r"^[^@\s]+@[^@\s]+\.[^@\s]+$" backtracks over every dot (n² on "a@....").


# werkzeug's scrypt at its default cost (N=2**15, r=8, p=1: about 0.1 s and 32 MB a hash). A hash names
# its own parameters, so checking one costs what hashing it did. The test suite lowers this (tests/conftest.py).
PASSWORD_HASH_METHOD = "scrypt"


@functools.cache
def _dummy_hash(method: str) -> str:
    """Compared against when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong
    password."""
    return generate_password_hash("not a real password", method=method)


# The one answer to every failed login: wrong password, unknown e-mail, disabled account, backed off.
LOGIN_REFUSED = (
    "Wrong e-mail or password, or too many failed attempts for this account: "
    "check them and try again in a minute."
)


class LoginRefused(CheckerError):
    """A login that failed; the message is safe to show."""


class WrongPassword(InputError):
    """The current password given to change it is not the account's (a failed login, for throttling)."""


def now() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def has_role(role: str, needed: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if login_text(email, 320) is None or not validate.is_email(email):
        raise InputError(f"{email[:100]!r} is not an e-mail address")
    return email


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise InputError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if login_text(password, MAX_PASSWORD_CHARS) is None:
        raise InputError(
            f"the password must be at most {MAX_PASSWORD_CHARS} characters, without NUL or lone surrogates"
        )
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    return role


def get_or_create_org(session: Session, name: str) -> Organisation:
    """The organisation called ``name``, created if missing (:func:`checker.orgs.get_or_create_org`)."""
    return orgs.get_or_create_org(session, name)


def create_user(
    session: Session, *, email: str, password: str, role: str, org_id: int, site_admin: bool = False
) -> User:
    """A new active account in ``org_id``; InputError for a taken e-mail or a weak password. A
    ``site_admin`` (the install's operator) may also create organisations."""
    email = normalize_email(email)
    check_password(password)
    check_role(role)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise InputError(f"an account with e-mail {email} already exists")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        org_id=org_id,
        active=True,
        site_admin=site_admin,
    )
    session.add(user)
    session.flush()
    return user


def create_organisation(
    session: Session, *, name: str, admin_email: str, password: str, time_zone: str
) -> tuple[Organisation, User]:
    """A new organisation (name checked by :func:`checker.orgs.org_name`, dates shown in ``time_zone``)
    with its first account, an admin. InputError for a name already taken (whatever its case: two
    publishers called "Lingkar" and "lingkar" would be confused in every list), and for any bad field
    of the account, before anything is written."""
    name = orgs.org_name(name)
    zone = validate.time_zone(time_zone)
    taken = session.scalar(select(Organisation.name).where(func.lower(Organisation.name) == name.lower()))
    if taken is not None:
        raise InputError(f"an organisation called {taken!r} already exists")
    org = Organisation(name=name, time_zone=zone)
    session.add(org)
    session.flush()
    return org, create_user(session, email=admin_email, password=password, role="admin", org_id=org.id)


def delete_user(session: Session, user: User) -> None:
    """Delete an account for good: its API tokens go with it; the scans it submitted and the reviews it
    wrote stay (the database sets their author to NULL, shown as a deleted account)."""
    session.execute(delete(User).where(User.id == user.id))
    session.expunge(user)


def change_password(user: User, current: str, new: str, repeated: str) -> None:
    """The account's own password change: ``current`` must be its password and ``new`` typed the same
    twice (InputError otherwise, the password unchanged); every session made with the old one ends
    (:func:`set_password`)."""
    typed = login_text(current, MAX_PASSWORD_CHARS)
    if typed is None or not check_password_hash(user.password_hash, typed):
        raise WrongPassword("the current password is wrong")
    if new != repeated:
        raise InputError("the new password and its repetition differ")
    set_password(user, new)


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"no account with e-mail {email}")
    return user


def login_text(value: str | None, max_chars: int) -> str | None:
    """``value`` when it can be looked up and hashed (UTF-8 encodable, no NUL, at most ``max_chars``
    characters), else None: such an e-mail cannot name an account, such a password cannot be one."""
    value = value or ""
    if len(value) > max_chars or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return value


def authenticate(session: Session, email: str, password: str) -> User:
    """The active account for these credentials, or LoginRefused (one message for every reason, so a
    refusal never tells whether the account exists or is disabled). An unknown e-mail costs the same
    password hashing as a known one. Throttling is the caller's (web.auth)."""
    # Made on the first login of any kind (not at import: a CLI command would pay 0.1 s for nothing),
    # so that the first unknown e-mail costs no more than a known one.
    dummy = _dummy_hash(PASSWORD_HASH_METHOD)
    address = login_text((email or "").strip().lower(), 320)
    secret = login_text(password, MAX_PASSWORD_CHARS)
    user = session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    if user is None or secret is None:
        check_password_hash(dummy, secret or "")
        raise LoginRefused(LOGIN_REFUSED)
    if not check_password_hash(user.password_hash, secret) or not user.active:
        raise LoginRefused(LOGIN_REFUSED)
    user.last_login_at = now()
    return user


def refuse_login(password: str | None) -> NoReturn:
    """Refuse a login without checking it (its account is backed off), at the cost of checking it."""
    check_password_hash(_dummy_hash(PASSWORD_HASH_METHOD), login_text(password, MAX_PASSWORD_CHARS) or "")
    raise LoginRefused(LOGIN_REFUSED)


def end_sessions(user: User) -> None:
    """End every login session of ``user`` (they carry the session version they were made with)."""
    user.session_version = User.session_version + 1  # in SQL: two concurrent bumps both count


def set_active(user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions (and its tokens stop working)."""
    if user.active != active:
        user.active = active
        end_sessions(user)


def set_password(user: User, password: str) -> None:
    """A new password; every session made with the old one ends."""
    user.password_hash = hash_password(check_password(password))
    end_sessions(user)


def set_role(user: User, role: str) -> None:
    """A new role; sessions made under the old role end (the next login shows the new one)."""
    if user.role != check_role(role):
        user.role = role
        end_sessions(user)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the plaintext (shown once, never stored)."""
    if not user.active:
        raise InputError(f"{user.email} is disabled")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_sha256=token_digest(plaintext),
        prefix=plaintext[:TOKEN_VISIBLE_CHARS],
        name=validate.text_field(name or "", "token name", validate.column_length(ApiToken.name)) or "",
    )
    session.add(row)
    session.flush()
    return row, plaintext


def user_for_token(session: Session, token: str) -> User | None:
    """The active account owning an unrevoked ``token`` (and note its use, to
    :data:`TOKEN_USE_RESOLUTION`), else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    used = now()
    if row.last_used_at is None or not used - TOKEN_USE_RESOLUTION < row.last_used_at <= used:
        row.last_used_at = used
    return row.user


def get_token(session: Session, token_id: int, *, org_id: int | None = None) -> ApiToken:
    """A token by id (of ``org_id`` when given; another organisation's token is NotFound)."""
    row = session.get(ApiToken, token_id) if 1 <= token_id < 2**63 else None
    if row is None or (org_id is not None and row.user.org_id != org_id):
        raise NotFound(f"no API token with id {token_id}")
    return row


def revoke_token(session: Session, token_id: int, *, org_id: int | None = None) -> ApiToken:
    """Revoke a token (of ``org_id`` when given; another organisation's token is not found)."""
    row = get_token(session, token_id, org_id=org_id)
    if row.revoked_at is None:
        row.revoked_at = now()
    return row
