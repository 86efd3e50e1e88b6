"""Private data files (issue 9, finding 7): the data folder is its owner's only (0700), and so are the
SQLite database with its -wal and -shm files, the index files, the secret key and the demo credentials
(0600), whatever the umask the process started with; the secret key is created atomically, so processes
starting together on a fresh data folder agree on it."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from checker import migrate, store
from tests.web.conftest import close_app, make_app, populate


@pytest.fixture
def loose_umask():
    """The umask most processes start with (022: new files readable by everyone); restored after."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_and_its_wal_files_are_private(tmp_path, loose_umask):
    db = tmp_path / "data" / "checker.db"
    engine = store.make_engine(f"sqlite:///{db}")
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:  # an open connection keeps -wal and -shm on disk
            conn.execute(text("INSERT INTO organisations (name, created_at) VALUES ('O', '2024-01-01')"))
            conn.commit()
            files = {p.name: mode(p) for p in db.parent.iterdir()}
    finally:
        engine.dispose()
    assert mode(db.parent) == 0o700
    assert files == {"checker.db": 0o600, "checker.db-wal": 0o600, "checker.db-shm": 0o600}


def test_a_data_folder_that_exists_keeps_its_mode(tmp_path, loose_umask):
    folder = tmp_path / "shared-data"
    folder.mkdir()
    os.chmod(folder, 0o750)  # chosen by whoever made it
    engine = store.make_engine(f"sqlite:///{folder / 'checker.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    assert mode(folder) == 0o750 and mode(folder / "checker.db") == 0o600


def test_everything_the_app_writes_in_its_data_folder_is_private(tmp_path, loose_umask):
    from web.cli import setup_demo

    app = make_app(tmp_path, SECRET_KEY=None)
    try:
        populate(app)  # accounts, articles (index files), scans
        setup_demo(app.extensions["checker.registry"])  # the demo credentials file
    finally:
        close_app(app)
    data = tmp_path / "data"
    found = {p.relative_to(data).as_posix(): mode(p) for p in [data, *data.rglob("*")]}
    assert {"secret_key", "checker.db", "demo-credentials.txt"} <= set(found)
    assert any(name.startswith("index/") and name.endswith(".npy") for name in found), found
    loose = {name: oct(m) for name, m in found.items() if m & 0o077}
    assert not loose, f"readable by others: {loose}"


ROUNDS = 15
RACERS = 8


def _race_for_the_key(folders: list[str], barrier, results) -> None:
    from web import _secret_key_file

    for folder in folders:
        barrier.wait()
        results.put((folder, _secret_key_file(Path(folder))))


def test_processes_starting_together_agree_on_the_secret_key(tmp_path):
    # gunicorn's workers boot at the same moment on a fresh data folder: each must end with the one key
    # on disk, or sessions signed by one worker would be refused by the others.
    ctx = multiprocessing.get_context("spawn")  # no fork of a process with threads
    folders = [str(tmp_path / f"round-{n}") for n in range(ROUNDS)]
    barrier, results = ctx.Barrier(RACERS), ctx.Queue()
    racers = [ctx.Process(target=_race_for_the_key, args=(folders, barrier, results)) for _ in range(RACERS)]
    for p in racers:
        p.start()
    keys: dict[str, set[str]] = {}
    for _ in range(ROUNDS * RACERS):
        folder, key = results.get(timeout=120)
        keys.setdefault(folder, set()).add(key)
    for p in racers:
        p.join(30)
        assert p.exitcode == 0
    for folder in folders:
        on_disk = (Path(folder) / "secret_key").read_text("ascii").strip()
        assert keys[folder] == {on_disk}, f"{folder}: {len(keys[folder])} different keys"
        assert len(on_disk) == 64 and mode(Path(folder) / "secret_key") == 0o600
        assert sorted(p.name for p in Path(folder).iterdir()) == ["secret_key"]  # no temporary file left


def test_an_empty_secret_key_file_is_an_error_not_a_new_key(tmp_path):
    from web import _secret_key_file

    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        _secret_key_file(tmp_path)


def test_the_cli_keeps_its_data_folder_private(tmp_path, loose_umask):
    """`checker import` from a shell with umask 022: the folder, the database and the index files are
    the user's only (the web app is tested above; the CLI is another entry point that creates data)."""
    import subprocess
    import sys

    data = tmp_path / "data"
    articles = tmp_path / "a.jsonl"
    articles.write_text(
        '{"title": "T", "text": "' + "word " * 200 + '", "url": "https://a.example/1"}\n', "utf-8"
    )
    env = {**os.environ, "CHECKER_DATA_DIR": str(data), "NO_COLOR": "1"}
    env.pop("CHECKER_DATABASE_URL", None)
    checker = Path(sys.executable).with_name("checker")
    subprocess.run([checker, "import", str(articles)], check=True, capture_output=True, env=env)
    assert mode(data) == 0o700
    loose = {
        str(p.relative_to(data)): oct(mode(p))
        for p in data.rglob("*")
        if mode(p) != (0o700 if p.is_dir() else 0o600)
    }
    assert not loose, f"readable by others: {loose}"
