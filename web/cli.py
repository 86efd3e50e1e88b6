"""``checker serve``, ``checker users`` and ``checker tokens`` (loaded by the ``checker`` command)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from sqlalchemy import select

from checker.cli import Context, err, out, pass_ctx
from checker.errors import CheckerError, InputError
from checker.models import ApiToken, Scan, User
from checker.orgs import get_or_create_org
from checker.store import private_dir
from web import accounts

DEMO_EMAIL = "demo@example.com"
DEMO_CREDENTIALS_FILE = "demo-credentials.txt"


# -- serve ---------------------------------------------------------------------------------------------------
@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--demo",
    is_flag=True,
    help="Load the seeds/ demo data into the organisation (--org, default "
    "'Default': the CLI's) and print a demo login.",
)
@pass_ctx
def serve(c: Context, host: str, port: int, demo: bool) -> None:
    """Run the dashboard and the API (embedded default: SQLite, in-process background tasks)."""
    from werkzeug.serving import run_simple

    from web import create_app

    # Plain HTTP on this machine: a Secure cookie would never come back. Behind TLS, use gunicorn.
    config: dict[str, object] = {"SETTINGS": c.settings}
    if c.settings.web.session_cookie_secure is None:
        config |= {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
    app = create_app(config)
    if demo:
        email, password = setup_demo(app.extensions["checker.registry"], org=c.org_name)
        out.print(f"Demo account: e-mail {email}  password {password}")
    out.print(
        f"Dashboard: http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/  "
        f"API docs: /api/docs  (Ctrl+C to stop)"
    )
    run_simple(host, port, app, threaded=True, use_reloader=False)


def setup_demo(registry, seeds_dir: str | Path | None = None, *, org: str | None = None) -> tuple[str, str]:
    """Idempotently: the seed articles and the demo suspects' scans in organisation ``org`` (default
    checker.orgs.DEFAULT_ORG, the one the CLI works in, so `checker demo`/`checker scan` see the same
    articles, registered once), and a demo admin account there, a site admin (it may create
    organisations). Returns its credentials (kept in the data folder, readable by the owner only)."""
    from checker.demo import demo_org, demo_suspects, register_demo_articles

    creds = registry.settings.data_dir / DEMO_CREDENTIALS_FILE
    with registry.Session.begin() as session:
        org_id = demo_org(session, org).id  # created by the demo: Asia/Jakarta time
        user = session.scalar(select(User).where(User.email == DEMO_EMAIL))
        password = creds.read_text("utf-8").strip() if creds.exists() else None
        if user is None:
            password = password or secrets.token_urlsafe(12)
            accounts.create_user(
                session, email=DEMO_EMAIL, password=password, role="admin", org_id=org_id, site_admin=True
            )
        elif password is None or not accounts.check_password_hash(user.password_hash, password):
            password = secrets.token_urlsafe(12)  # the file was lost: set a new password we can print
            accounts.set_password(user, password)
        if user is not None:
            accounts.set_active(user, True)
            user.site_admin = True  # the demo's operator (made by a version without site admins)
            user.org_id = org_id  # made by an older version in "Demo newsroom": the demo is where the CLI is
        has_scans = session.scalar(select(Scan.id).where(Scan.org_id == org_id).limit(1)) is not None
    private_dir(creds.parent)
    fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    register_demo_articles(registry, seeds_dir, org_id=org_id)
    if not has_scans:
        for suspect in demo_suspects(seeds_dir):
            result = registry.scan(suspect["text"], suspect.get("url"), org_id=org_id)
            registry.record_scan(suspect["text"], suspect.get("url"), result, org_id=org_id)
    return DEMO_EMAIL, password


# -- users ---------------------------------------------------------------------------------------------------
@click.group()
def users() -> None:
    """Dashboard accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option(
    "--org",
    "org_name",
    help="Organisation name (created if missing; default: the `checker --org` "
    "one, else 'Default', the CLI's).",
)
@click.option(
    "--site-admin",
    is_flag=True,
    help="The install's operator: may also create organisations (the dashboard's Organisations page).",
)
@pass_ctx
def users_create(
    c: Context, email: str, password: str, role: str, org_name: str | None, site_admin: bool
) -> None:
    """Create an account; prints its id."""
    org_name = org_name or c.org_name
    with c.registry.Session.begin() as session:
        org = get_or_create_org(session, org_name)
        user = accounts.create_user(
            session, email=email, password=password, role=role, org_id=org.id, site_admin=site_admin
        )
        user_id, email = user.id, user.email
    err.print(f"created {role} {email} in {org_name}" + (" (site admin)" if site_admin else ""))
    click.echo(user_id)


@users.command("list")
@click.option("--org", "org_name", help="Only this organisation's accounts.")
@pass_ctx
def users_list(c: Context, org_name: str | None) -> None:
    """List accounts."""
    with c.registry.Session() as session:
        stmt = select(User).order_by(User.org_id, User.email)
        rows = [u for u in session.scalars(stmt) if org_name is None or u.org.name == org_name]
        for u in rows:
            state = "active" if u.active else "disabled"
            role = u.role + ("+site" if u.site_admin else "")  # a site admin may create organisations
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
            out.print(f"{u.id:>4}  {u.email:<32} {role:<10} {state:<8} {u.org.name}  (last login {last})")


@users.command("disable")
@click.option("--email", required=True)
@pass_ctx
def users_disable(c: Context, email: str) -> None:
    """Disable an account (its sessions end and its tokens stop working)."""
    _set_active(c, email, False)


@users.command("enable")
@click.option("--email", required=True)
@pass_ctx
def users_enable(c: Context, email: str) -> None:
    """Enable a disabled account."""
    _set_active(c, email, True)


def _set_active(c: Context, email: str, active: bool) -> None:
    with c.registry.Session.begin() as session:
        accounts.set_active(accounts.find_user(session, email), active)
    err.print(f"{email}: {'enabled' if active else 'disabled'}")


@users.command("set-password")
@click.option("--email", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when not given).",
)
@pass_ctx
def users_set_password(c: Context, email: str, password: str) -> None:
    """Set an account's password (its login sessions end)."""
    with c.registry.Session.begin() as session:
        accounts.set_password(accounts.find_user(session, email), password)
    err.print(f"{email}: password changed, logged out everywhere")


@users.command("set-role")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@pass_ctx
def users_set_role(c: Context, email: str, role: str) -> None:
    """Change an account's role (its login sessions end)."""
    with c.registry.Session.begin() as session:
        accounts.set_role(accounts.find_user(session, email), role)
    err.print(f"{email}: role {role}")


# -- tokens --------------------------------------------------------------------------------------------------
@click.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--email", required=True, help="The account the token acts as.")
@click.option("--name", default="", help="A label (where the token is used).")
@pass_ctx
def tokens_create(c: Context, email: str, name: str) -> None:
    """Create an API token; prints it once, as the last line."""
    with c.registry.Session.begin() as session:
        user = accounts.find_user(session, email)
        row, plaintext = accounts.create_token(session, user, name)
        token_id = row.id
    err.print(f"token {token_id} for {email} (shown once; store it now):")
    click.echo(plaintext)


@tokens.command("list")
@click.option("--email", help="Only this account's tokens.")
@pass_ctx
def tokens_list(c: Context, email: str | None) -> None:
    """List tokens (their prefixes only)."""
    with c.registry.Session() as session:
        for t in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            if email and t.user.email != email.strip().lower():
                continue
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            out.print(f"{t.id:>4}  {t.prefix}…  {t.user.email:<32} {state:<18} last used {used}  {t.name}")


@tokens.command("revoke")
@click.argument("token")
@pass_ctx
def tokens_revoke(c: Context, token: str) -> None:
    """Revoke a token, given its id (from `tokens list`) or the token itself."""
    with c.registry.Session.begin() as session:
        if token.isdigit():
            token_id = int(token)
        else:
            row = session.scalar(
                select(ApiToken).where(ApiToken.token_sha256 == accounts.token_digest(token))
            )
            if row is None:
                raise CheckerError("no such API token")
            token_id = row.id
        accounts.revoke_token(session, token_id)
    err.print(f"token {token_id} revoked")


__all__ = ["serve", "users", "tokens", "setup_demo", "InputError"]
