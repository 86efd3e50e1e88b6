"""Alerts on new unattributed reuse: a signed JSON webhook and/or an e-mail digest.

Settings (environment, read by :class:`checker.settings.AlertSettings`):
- ``CHECKER_WEBHOOK_URL``: where to POST events; ``CHECKER_WEBHOOK_SECRET``: HMAC-SHA256 key. The
  signature of the exact body bytes is sent as ``X-Checker-Signature: sha256=<hex>`` with the event id
  in ``X-Checker-Event``, so receivers can verify and de-duplicate.
- ``CHECKER_SMTP_HOST``, ``CHECKER_SMTP_PORT`` (25), ``CHECKER_SMTP_USER``, ``CHECKER_SMTP_PASSWORD``,
  ``CHECKER_SMTP_STARTTLS`` (off), ``CHECKER_ALERT_FROM``, ``CHECKER_ALERT_TO`` (comma-separated; an
  organisation's own alert addresses, set on its settings page, win).
- ``CHECKER_BASE_URL``: the dashboard's address, so each alert links to its match page in full.

An organisation gets its alerts as they are found ("immediate": a webhook event per copy, one e-mail per
scan) or once a day ("daily": one webhook digest and one e-mail listing the day's new copies).

The webhook URL is set by the operator, not by users, so it is not put through the SSRF guard (an
internal receiver is a normal set-up).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

import urllib3

from checker.errors import CheckerError
from checker.numbers import share
from checker.settings import AlertSettings

WEBHOOK_TIMEOUT_S = 10.0


class AlertDeliveryError(CheckerError):
    """A delivery failed; the task retries it with backoff."""


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret), signature)


def post_webhook(settings: AlertSettings, event_id: int | str, payload: dict) -> None:
    """POST one event (or a digest); raises AlertDeliveryError on a network error or a non-2xx answer."""
    assert settings.webhook_url
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "reuse-checker-alerts/0.1",
        "X-Checker-Event": str(event_id),
        "X-Checker-Signature": sign(body, settings.webhook_secret),
    }
    http = urllib3.PoolManager(timeout=urllib3.Timeout(total=WEBHOOK_TIMEOUT_S), retries=False)
    try:
        response = http.request("POST", settings.webhook_url, body=body, headers=headers, redirect=False)
    except urllib3.exceptions.HTTPError as exc:
        raise AlertDeliveryError(f"webhook {settings.webhook_url}: {exc}") from exc
    finally:
        http.clear()
    if not 200 <= response.status < 300:
        raise AlertDeliveryError(f"webhook {settings.webhook_url} answered {response.status}")


def digest_message(settings: AlertSettings, payloads: Sequence[dict]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(settings.mail_to)
    n = len(payloads)
    msg["Subject"] = f"[reuse checker] {n} new unattributed cop{'y' if n == 1 else 'ies'} found"
    lines = [f"{n} new unattributed reuse{'s' if n != 1 else ''} of your articles:", ""]
    for p in payloads:
        lines += [
            f"- {p['article']['title']} ({p['article'].get('url') or 'no url'})",
            f"  copied at {p.get('suspect_url') or 'a submitted text'}: {p['kind']}, "
            f"{share(p['source_coverage'])} of the article",
            f"  {settings.link(p.get('dashboard_path', ''))}",
        ]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def send_digest(settings: AlertSettings, payloads: Sequence[dict]) -> None:
    """Send one e-mail listing ``payloads``; raises AlertDeliveryError on SMTP failure."""
    if not payloads:
        return
    try:
        with smtplib.SMTP(
            settings.smtp_host or "localhost", settings.smtp_port, timeout=WEBHOOK_TIMEOUT_S
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(digest_message(settings, payloads))
    except (OSError, smtplib.SMTPException) as exc:
        raise AlertDeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
