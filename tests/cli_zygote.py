"""A fork server for the CLI tests: ``checker`` in a process of its own, without paying for its imports.

A ``checker`` subprocess spends about 1 s of this machine's CPU importing (SQLAlchemy, the ORM models,
numpy, rich, and for the plugin commands Celery and Flask) before it runs a command for 0.1-0.2 s, and the
CLI tests run it hundreds of times. This server imports once, then forks a child per command. The child
is a process of its own, as a console script would be: its own standard streams (the caller's files,
passed over the socket), environment, working directory, exit status and umask, and fresh module state
(the server only imports; it never runs a command). What differs from ``subprocess.run([checker, ...])``
is only what the server decided before forking: the interpreter's start-up and the hash seed.

Run as ``python tests/cli_zygote.py SOCKET``; it prints ``ready`` once it listens. One request per
connection: a JSON object ``{"argv", "env", "cwd"}`` with three file descriptors (stdin, stdout,
stderr). The server answers ``{"pid": N}`` once it forked, then ``{"status": S}`` when the child ended
(its exit status, or minus the signal that killed it). Requests are served one after another: the
tests' calls are.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path


def preload() -> None:
    """Import what any ``checker`` command imports, the plugin commands included."""
    from importlib.metadata import entry_points

    import checker.cli  # noqa: F401

    for ep in entry_points(group="checker.commands"):
        ep.load()
    # A forked child may fork again (the scan and registration pools): that is only safe from a process
    # with one thread, which these imports must not have changed.
    assert threading.active_count() == 1, threading.enumerate()


def run_child(argv: list[str], env: dict[str, str], cwd: str, fds: list[int]) -> None:
    """In the forked child: become the command, run it, and leave with its exit status."""
    os.setsid()  # a process group of its own, so a timed-out command is killed with its children
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(argv)
    code: int
    try:
        from checker.cli import main

        main()
        code = 0
    except SystemExit as exc:  # what the interpreter does with sys.exit's argument
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # an uncaught exception: the traceback on stderr, status 1
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)


def serve(path: str) -> None:
    preload()
    # The console script's sys.path[0] is its bin folder, not this file's.
    sys.path[0] = str(Path(sys.executable).parent)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            if not message:  # the tests are done
                return
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                run_child(request["argv"], request["env"], request["cwd"], fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(json.dumps({"status": code}).encode() + b"\n")
            except OSError:  # the caller gave up (a timeout) and closed its end
                pass


class Zygote:
    """The tests' side: start the server, and run commands through it as ``subprocess.run`` would."""

    def __init__(self, env: dict[str, str]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="checker-zygote-")
        self.path = os.path.join(self._dir.name, "socket")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.path],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", f"the CLI fork server did not start (it said {line!r})"

    def run(
        self, argv: list[str], env: dict[str, str], cwd: str, stdin: bytes | None, timeout: float
    ) -> subprocess.CompletedProcess:
        with (
            tempfile.TemporaryFile() as in_,
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
        ):
            in_.write(stdin or b"")
            in_.seek(0)
            conn.settimeout(timeout)
            conn.connect(self.path)
            message = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
            socket.send_fds(conn, [message], [in_.fileno(), out.fileno(), err.fileno()])
            with conn.makefile("rb") as replies:
                pid = json.loads(replies.readline())["pid"]
                try:
                    status = json.loads(replies.readline())["status"]
                except TimeoutError:
                    os.killpg(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(argv, timeout) from None
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(argv, status, out.read(), err.read())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._dir.cleanup()


if __name__ == "__main__":
    serve(sys.argv[1])
