"""Fixtures for the worker tests: a local HTTP site on 127.0.0.1, fake resolvers and a connection spy.

Network rule: these tests talk only to 127.0.0.1. Host names are resolved by fake resolvers, and every
connection urllib3 opens goes through ``connection_spy``, which fails the test (without connecting)
on any non-loopback address unless the test mapped that address to the local server on purpose.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.connection
import urllib3.util.connection


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes
    content_length: bool = True  # False: close-delimited body (no Content-Length)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class LocalSite:
    """A tiny programmable web site on 127.0.0.1 (a thread of ``ThreadingHTTPServer``)."""

    def __init__(self, tls_context=None):
        self.scheme = "https" if tls_context is not None else "http"
        self.routes: dict[str, Route | Callable[[SeenRequest], Route]] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                seen = SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
                with site._lock:
                    site.requests.append(seen)
                route = site.routes.get(self.path.split("#")[0])
                if callable(route):
                    route = route(seen)
                if route is None:
                    route = Route(404, b"not found", {"Content-Type": "text/plain"})
                try:
                    self._answer(route)
                except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
                    pass  # the client gave up on purpose (size cap, timeout)

            def _answer(self, route: Route):
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.content_length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if route.drip:
                    for i in range(len(route.body)):
                        self.wfile.write(route.body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(route.drip)
                else:
                    self.wfile.write(route.body)
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address):  # the client hung up: expected here
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        content_type: str | None = "text/html",
        **kwargs,
    ) -> None:
        headers = dict(kwargs.pop("headers", {}) or {})
        if content_type is not None:
            headers.setdefault("Content-Type", content_type)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(status, body, headers, **kwargs)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Route(status, b"", {"Location": location})

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def make_site():
    """``make_site(tls_context=None)`` builds (unstarted) extra local sites; the caller stops them."""
    return LocalSite


@pytest.fixture
def site():
    s = LocalSite().start()
    yield s
    s.stop()


class FakeResolver:
    """A getaddrinfo stand-in: host name -> list of address strings; records every lookup."""

    def __init__(self, table: dict[str, list[str]] | None = None):
        self.table = dict(table or {})
        self.calls: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for address in self.table[host]:
            ip = ipaddress.ip_address(address)
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr = (address, port, 0, 0) if ip.version == 6 else (address, port)
            out.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
        return out


@pytest.fixture
def make_resolver():
    """``make_resolver({"host": ["addr", ...]})`` builds a fake getaddrinfo."""
    return FakeResolver


class ConnectionSpy:
    """Replaces urllib3's create_connection: records each (host, port) and lets only loopback through.

    ``reroute[(ip, port)] = local_port`` sends a connection meant for a (fake public) address to the
    local server instead; no packet ever goes to that address.
    """

    def __init__(self, real):
        self.real = real
        self.attempts: list[tuple[str, int]] = []
        self.reroute: dict[tuple[str, int], int] = {}

    def __call__(self, address, timeout=None, source_address=None, socket_options=None):
        host, port = address
        host = host.strip("[]")
        self.attempts.append((host, port))
        if (host, port) in self.reroute:
            return self.real(
                ("127.0.0.1", self.reroute[(host, port)]), timeout, source_address, socket_options
            )
        if not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"test tried to connect to non-loopback address {host}:{port}")
        return self.real((host, port), timeout, source_address, socket_options)

    @property
    def hosts(self) -> set[str]:
        return {h for h, _ in self.attempts}


@pytest.fixture(autouse=True)
def connection_spy(monkeypatch):
    """Every worker test runs with the spy in place (autouse): the network rule is enforced, not hoped."""
    spy = ConnectionSpy(urllib3.util.connection.create_connection)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    # urllib3.connection calls it as connection.create_connection: make sure that is the spy.
    assert urllib3.connection.connection.create_connection is spy
    return spy


def worker_env(tmp_path, redis_db: int) -> dict:
    """Environment of a real Celery worker and of this process's dispatch: the CI Redis database
    ``redis_db`` as broker and index (a unique key prefix), SQLite in ``tmp_path``, loopback pages
    allowed, and a short visibility timeout so redelivery tests finish."""
    import uuid

    return {
        "CHECKER_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "CHECKER_INDEX_PREFIX": f"test:{uuid.uuid4().hex[:8]}",
        "CHECKER_DATA_DIR": str(tmp_path / "data"),
        "CHECKER_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'checker.db'}",
        "CHECKER_ALLOW_PRIVATE_URLS": "1",
        "CHECKER_VISIBILITY_TIMEOUT": "5",
    }


def make_orgs(registry, *names: str) -> list[int]:
    """Organisations named ``names``, created in ``registry``'s database; their ids."""
    from checker.models import Organisation

    with registry.Session.begin() as session:
        orgs = [Organisation(name=name) for name in names]
        session.add_all(orgs)
        session.flush()
        return [o.id for o in orgs]


def _terminated_with_this_process() -> None:
    """In the child, before exec: SIGTERM when the test process dies (Linux's PR_SET_PDEATHSIG), so a
    killed or interrupted run leaves no worker behind to take a later run's tasks from its database."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class CeleryProcess:
    """``celery -A worker.app <args>`` as a child process, started as from a shell (umask 022) and
    waited for until its log says ``ready``."""

    def __init__(self, args: list[str], env_values: dict, log, ready: str, what: str) -> None:
        import os
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[2]
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker.app", *args],
            cwd=root,
            env={**os.environ, **env_values, "PYTHONPATH": str(root)},
            stdout=self._out,
            stderr=subprocess.STDOUT,
            umask=0o022,  # as from a shell (this process may have tightened its own)
            preexec_fn=_terminated_with_this_process,
        )
        deadline = time.monotonic() + 60
        while ready not in log.read_text(errors="replace"):
            assert self.proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"{what} did not start:\n" + log.read_text(errors="replace")
            time.sleep(0.2)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._out.close()


class CeleryWorker(CeleryProcess):
    """A Celery worker (``pool="prefork"`` is the pool that enforces time limits)."""

    def __init__(self, env_values: dict, log, pool: str = "solo", concurrency: int | None = None) -> None:
        import uuid

        super().__init__(
            [
                "worker",
                f"--pool={pool}",
                *([f"--concurrency={concurrency}"] if concurrency else []),
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"w{uuid.uuid4().hex[:6]}@%h",
            ],
            env_values,
            log,
            "ready.",
            "worker",
        )
