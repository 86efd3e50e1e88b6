"""The suite runs its modules in parallel (scripts/test: pytest-xdist, a module per worker at a time), so a
Redis database that a module flushes or fills with Celery queues must be that module's alone. Database 15
(tests/conftest.py's REDIS_URL) is the shared one, where every test works under a fresh key prefix."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED_DB = 15
NAMED_DB = re.compile(r"(?:REDIS_DB|BROKER_DB)\s*=\s*\(?\s*(\d+)|6379/(\d+)")


def test_each_redis_database_belongs_to_one_module() -> None:
    owners: dict[int, set[str]] = defaultdict(set)
    for path in TESTS.rglob("test_*.py"):
        for match in NAMED_DB.finditer(path.read_text("utf-8")):
            owners[int(match.group(1) or match.group(2))].add(str(path.relative_to(TESTS)))
    assert len(owners) > 3  # the pattern still finds the modules' databases
    shared = {db: sorted(mods) for db, mods in owners.items() if db not in (0, SHARED_DB) and len(mods) > 1}
    assert not shared, f"Redis databases used by more than one test module: {shared}"
