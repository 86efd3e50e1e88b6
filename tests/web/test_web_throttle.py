"""Login throttling that protects without locking everyone out (issue 9, finding 5): limits per client
address (behind trusted proxies: the forwarded address) and an exponential back-off per account, counted
in one store that app instances share (Redis), and the same answer for every failed login."""

from __future__ import annotations

import re
import uuid

import pytest
import redis

from checker.settings import Settings
from tests.conftest import REDIS_URL, redis_connection
from tests.web.conftest import PASSWORD, close_app, csrf_token_of, make_app, populate
from web import accounts, throttle

EDITOR = "editor@alpha.example"
CLIENT_A, CLIENT_B, PROXY = "203.0.113.7", "198.51.100.9", "10.0.0.2"


@pytest.fixture
def apps(tmp_path):
    """``apps(**config)``: a populated app (more than one may run at once); all closed afterwards."""
    made = []

    def make(**config):
        app = make_app(tmp_path / f"app{len(made)}", **config)
        made.append(app)
        populate(app)
        return app

    yield make
    for app in made:
        close_app(app)


def login(client, email=EDITOR, password=PASSWORD, via: str | None = None, **kwargs):
    """POST /login from the proxy at PROXY forwarding for ``via`` (or straight from the test client)."""
    extra = {"environ_base": {"REMOTE_ADDR": PROXY}, "headers": {"X-Forwarded-For": via}} if via else {}
    return client.post("/login", data={"email": email, "password": password}, **extra, **kwargs)


def test_behind_a_trusted_proxy_one_clients_failures_do_not_block_another(apps):
    app = apps(TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT="3 per 5 minutes")
    client = app.test_client()
    codes = [
        login(client, f"guess{n}@alpha.example", "wrong password", via=CLIENT_A).status_code for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert login(client, via=CLIENT_A).status_code == 429  # that client waits, even with a good password
    assert login(client, via=CLIENT_B).status_code == 302  # everyone else behind the proxy logs in


def test_without_trusted_proxies_a_forged_forwarded_address_changes_nothing(apps):
    app = apps(LOGIN_RATE_LIMIT="3 per 5 minutes")  # TRUSTED_PROXIES defaults to 0
    client = app.test_client()
    codes = [
        login(client, f"guess{n}@alpha.example", "wrong password", via=f"192.0.2.{n}").status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_good_logins_do_not_use_up_the_address_limit(apps):
    app = apps(LOGIN_RATE_LIMIT="3 per 5 minutes")
    client = app.test_client()
    for _ in range(6):  # a newsroom behind one address logs in all day
        assert login(client).status_code == 302
        client.post("/logout")
    assert login(client, password="wrong password").status_code == 401


def test_a_backed_off_account_does_not_hold_up_other_accounts(apps):
    app = apps(LOGIN_BACKOFF_AFTER=2)
    client = app.test_client()
    for _ in range(2):
        login(client, password="wrong password")
    assert login(client).status_code == 401  # the editor waits
    assert login(client, "viewer@alpha.example").status_code == 302  # the viewer, same address, does not


class Clock:
    """Stands in for time.time() in the memory store and web.throttle."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_backoff_grows_is_capped_and_resets_on_success(apps, monkeypatch):
    import limits.storage.memory

    clock = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(throttle, "time", clock)
    app = apps(LOGIN_BACKOFF_AFTER=3, LOGIN_BACKOFF_MAX_S=16)
    client = app.test_client()
    with app.app_context():
        backoff = throttle.backoff()
        for _ in range(2):
            assert login(client, password="wrong password").status_code == 401
        assert not backoff.waiting(EDITOR)
        waits = []
        for _ in range(5):
            assert login(client, password="wrong password").status_code == 401
            waits.append(backoff.seconds_left(EDITOR))
            # While it waits, even the right password is refused, unchecked and not counted.
            failures = backoff.failures(EDITOR)
            assert login(client).status_code == 401 and backoff.failures(EDITOR) == failures
            clock.now += waits[-1] + 0.01
        assert waits == [2, 4, 8, 16, 16]
        assert backoff.failures(EDITOR) == 7
        # The e-mail as typed in another case and with spaces is the same account.
        assert login(client, f"  {EDITOR.upper()} ").status_code == 302
        assert backoff.failures(EDITOR) == 0 and not backoff.waiting(EDITOR)
        client.post("/logout")
        for _ in range(2):  # a fresh start: the next two failures cost nothing
            assert login(client, password="wrong password").status_code == 401
        assert not backoff.waiting(EDITOR)


def test_failures_are_forgotten_after_the_window(apps, monkeypatch):
    import limits.storage.memory

    clock = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    app = apps(LOGIN_BACKOFF_AFTER=2, LOGIN_BACKOFF_WINDOW_S=600)
    client = app.test_client()
    with app.app_context():
        login(client, password="wrong password")
        clock.now += 601
        login(client, password="wrong password")
        assert throttle.backoff().failures(EDITOR) == 1 and not throttle.backoff().waiting(EDITOR)


def normalised(response, email: str) -> tuple:
    """Status, headers and body, with the e-mail echoed in the form and the CSRF token blanked."""
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    body = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="TOKEN"', body)
    # The session cookie differs only by the CSRF token it holds.
    headers = sorted(
        (k, re.sub(r"^session=[^;]*", "session=SESSION", v))
        for k, v in response.headers.items()
        if k not in ("Date", "Content-Length")
    )
    return response.status_code, headers, body


def test_every_failed_login_gets_the_same_answer(apps):
    from checker.models import User

    app = apps(WTF_CSRF_ENABLED=True, LOGIN_BACKOFF_AFTER=3)
    with app.extensions["checker.registry"].Session.begin() as session:
        session.query(User).filter_by(email="viewer@alpha.example").update({"active": False})

    def attempt(email, password):
        client = app.test_client()
        token = csrf_token_of(client.get("/login").get_data(as_text=True))
        return normalised(
            client.post("/login", data={"email": email, "password": password, "csrf_token": token}), email
        )

    answers = {
        "unknown account": attempt("nobody@alpha.example", PASSWORD),
        "wrong password": attempt(EDITOR, "wrong password"),
        "disabled account, right password": attempt("viewer@alpha.example", PASSWORD),
        "e-mail with a NUL": attempt("editor\x00@alpha.example", PASSWORD),
    }
    for _ in range(2):
        attempt("admin@alpha.example", "wrong password")
    answers["backing off, wrong password"] = attempt("admin@alpha.example", "wrong password")
    answers["backed off, right password"] = attempt("admin@alpha.example", PASSWORD)
    status, _headers, body = answers["unknown account"]
    assert status == 401 and accounts.LOGIN_REFUSED in body
    for what, answer in answers.items():
        assert answer == answers["unknown account"], what


# -- shared counts in Redis ------------------------------------------------------------------------------------
@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the test Redis; its keys are deleted afterwards."""
    conn = redis_connection()
    prefix = f"test-throttle-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in conn.scan_iter(f"*{prefix}*"):
        conn.delete(key)
    conn.close()


def test_two_app_instances_sharing_redis_share_the_counts(apps, redis_prefix):
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    one = apps(**shared, LOGIN_RATE_LIMIT="4 per 5 minutes", LOGIN_BACKOFF_AFTER=2)
    two = apps(**shared, LOGIN_RATE_LIMIT="4 per 5 minutes", LOGIN_BACKOFF_AFTER=2)
    a, b = one.test_client(), two.test_client()
    # The account: one failure on each instance make two, and it backs off on both.
    assert login(a, password="wrong password").status_code == 401
    assert login(b, password="wrong password").status_code == 401
    assert login(a).status_code == 401  # the right password, refused while it waits
    # The address: three refusals so far, a fourth on the second instance, and the first one says 429.
    assert login(b, "someone@else.example", "wrong password").status_code == 401
    assert login(a, "someone@else.example", "wrong password").status_code == 429
    assert login(b, "viewer@alpha.example").status_code == 429
    conn = redis.Redis.from_url(REDIS_URL)
    assert any(redis_prefix.encode() in key for key in conn.scan_iter(f"*{redis_prefix}*"))
    conn.close()


def test_the_store_is_the_broker_when_it_is_redis(tmp_path):
    def settings(broker):
        return Settings.from_env({"CHECKER_BROKER_URL": broker} if broker else {}, data_dir=tmp_path)

    assert throttle.storage_uri(settings("redis://redis:6379/0")) == "redis://redis:6379/0"
    assert throttle.storage_uri(settings("amqp://rabbit//")) == "memory://"
    assert throttle.storage_uri(settings(None)) == "memory://"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_logins_still_work_when_the_counting_store_is_down(apps, caplog):
    """Redis down: throttling fails open (logged) instead of answering every login with a 500;
    passwords are still checked."""
    app = apps(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}/0", PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    assert login(client, password="wrong password").status_code == 401
    assert login(client).status_code in (302, 303)
    assert "not throttling" in caplog.text or "rate limit" in caplog.text.lower()
