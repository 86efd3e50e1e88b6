"""Login throttling that slows password guessing without locking people out.

- **Per client address** (Flask-Limiter): ``LOGIN_RATE_LIMIT`` failed logins from one address (default
  30 per 5 minutes), then 429 for that address only. The address is the TCP peer, or, with
  ``TRUSTED_PROXIES`` = n, the address the n-th proxy from the app saw (werkzeug's ``ProxyFix`` on
  ``X-Forwarded-For``), so behind a TLS proxy every client counts on its own. Set it to the number of
  proxies really in front of the app: with too high a number, clients choose their own address.
- **Per account** (the e-mail as typed, normalised; whether or not an account has it, so the answer never
  tells): after ``LOGIN_BACKOFF_AFTER`` failed logins the next attempt waits 2 s, then 4, 8, ... up to
  ``LOGIN_BACKOFF_MAX_S``; attempts while waiting are refused unchecked (and not counted), and a good login
  resets the count. Failures are forgotten ``LOGIN_BACKOFF_WINDOW_S`` after the first one. An attacker
  gets a few guesses an hour per account; the owner waits seconds to minutes, never a hard lock.

Both count in Flask-Limiter's storage: ``RATELIMIT_STORAGE_URI``, by default the broker when it is Redis,
so every gunicorn worker and web container shares one count; else this process's memory.
"""

from __future__ import annotations

import hashlib
import logging
import time
from contextlib import contextmanager
from typing import cast

from flask import Flask, current_app
from flask.typing import RouteCallable
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.errors import StorageError
from limits.storage import Storage
from redis.exceptions import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix

from checker.settings import Settings

LOGGER = logging.getLogger(__name__)

DEFAULTS = {
    "TRUSTED_PROXIES": 0,  # proxies in front of the app whose X-Forwarded-For/-Proto to believe
    "LOGIN_RATE_LIMIT": "30 per 5 minutes",  # failed logins per client address (Flask-Limiter notation)
    "LOGIN_BACKOFF_AFTER": 5,  # failed logins of one account before it backs off
    "LOGIN_BACKOFF_MAX_S": 900,  # the longest wait between attempts on one account
    "LOGIN_BACKOFF_WINDOW_S": 24 * 3600,  # failures are forgotten this long after the first
    "RATELIMIT_STORAGE_URI": None,  # None: the broker if it is Redis, else memory://
    "RATELIMIT_KEY_PREFIX": "checker:login",
    "RATELIMIT_STRATEGY": "moving-window",
}


def storage_uri(settings: Settings) -> str:
    """Where the counts live by default: the Redis broker when there is one, else this process."""
    broker = settings.broker_url or ""
    return settings.redis_broker_url or (broker if broker.startswith("unix://") else "memory://")


def _failed(response) -> bool:
    return response.status_code == 401


def init_app(app: Flask, settings: Settings) -> None:
    """Trust ``TRUSTED_PROXIES`` proxies, and limit failed logins (the view ``auth.login``) per address."""
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies < 0:
        raise ValueError(f"CHECKER_TRUSTED_PROXIES must be 0 or more (got {proxies})")
    if proxies:
        # Flask's documented way to add WSGI middleware; mypy refuses any assignment to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    # One Limiter per app (not a module global), so apps in one process keep their own storage.
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"] or storage_uri(settings),
        key_prefix=app.config["RATELIMIT_KEY_PREFIX"],
        strategy=app.config["RATELIMIT_STRATEGY"],
        # The store (Redis) down: log it and let logins through unthrottled rather than
        # answer every login with a 500; passwords are still checked.
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions["checker.backoff"] = Backoff(
        limiter.storage,
        app.config["RATELIMIT_KEY_PREFIX"],
        after=int(app.config["LOGIN_BACKOFF_AFTER"]),
        max_s=int(app.config["LOGIN_BACKOFF_MAX_S"]),
        window_s=int(app.config["LOGIN_BACKOFF_WINDOW_S"]),
    )
    # Only refused logins count (deduct_when): a shared office address is never blocked by its good logins.
    # The decorator keeps the view's type; mypy infers a mix of the sync and async halves of RouteCallable.
    app.view_functions["auth.login"] = cast(
        RouteCallable,
        limiter.limit(
            lambda: current_app.config["LOGIN_RATE_LIMIT"],
            methods=["POST"],
            deduct_when=_failed,
        )(app.view_functions["auth.login"]),
    )


def backoff() -> Backoff:
    return current_app.extensions["checker.backoff"]


def account_key(email: str | None) -> str:
    """The account a login names, as a store key: the normalised e-mail's digest (no e-mail in Redis)."""
    normal = (email or "").strip().lower()
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Backoff:
    """Exponential back-off per account in a ``limits`` storage (shared when the storage is Redis)."""

    def __init__(self, storage: Storage, prefix: str, *, after: int, max_s: int, window_s: int) -> None:
        if after < 1 or max_s < 1 or window_s < 1:
            raise ValueError(
                "LOGIN_BACKOFF_AFTER, LOGIN_BACKOFF_MAX_S and LOGIN_BACKOFF_WINDOW_S must be 1 or more"
            )
        self.storage, self.prefix = storage, prefix
        self.after, self.max_s, self.window_s = after, max_s, window_s

    def _keys(self, email: str | None) -> tuple[str, str]:
        key = account_key(email)
        return f"{self.prefix}/backoff/failures/{key}", f"{self.prefix}/backoff/wait/{key}"

    def waiting(self, email: str | None) -> bool:
        """Whether this account's next attempt must wait still (False when the store is down)."""
        with _store_down_is_logged():
            return self.storage.get(self._keys(email)[1]) > 0
        return False

    def seconds_left(self, email: str | None) -> float:
        """How long this account's next attempt must wait still (0: it may try now)."""
        wait = self._keys(email)[1]
        return max(0.0, self.storage.get_expiry(wait) - time.time()) if self.storage.get(wait) > 0 else 0.0

    def failures(self, email: str | None) -> int:
        return self.storage.get(self._keys(email)[0])

    def failed(self, email: str | None) -> int:
        """Count a failed login; returns the wait it imposes on the account's next attempt (seconds;
        0 when the store is down)."""
        with _store_down_is_logged():
            return self._failed(email)
        return 0

    def _failed(self, email: str | None) -> int:
        failures, wait = self._keys(email)
        count = self.storage.incr(failures, self.window_s)
        if count < self.after:
            return 0
        delay = min(self.max_s, 2 ** min(count - self.after + 1, 62))
        self.storage.incr(wait, delay)
        return delay

    def succeeded(self, email: str | None) -> None:
        with _store_down_is_logged():
            for key in self._keys(email):
                self.storage.clear(key)


@contextmanager
def _store_down_is_logged():
    """Swallow (and log) the store's connection errors: throttling fails open, as Flask-Limiter's
    ``swallow_errors`` does for the per-address limit, instead of every login answering 500."""
    try:
        yield
    except (StorageError, RedisError, OSError) as exc:
        LOGGER.warning("login throttling store unavailable, not throttling: %s", exc)
