"""The lock files (requirements/*.lock) pin every dependency pyproject.toml names, within its range, so
the README's commands, CI and the Docker image install what the project declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(lock: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")):
            name, _, version = line.partition("==")
            out[canonicalize_name(name.strip())] = version.strip()
    return out


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(("lock", "extras"), [("run.lock", ["postgres"]), ("test.lock", ["test"])])
def test_every_declared_dependency_is_pinned_within_its_range(lock, extras):
    pinned = pins(lock)
    declared = [Requirement(r) for r in PROJECT["dependencies"]]
    declared += [Requirement(r) for extra in extras for r in PROJECT["optional-dependencies"][extra]]
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pinned, (
            f"{req.name} is not in requirements/{lock}: regenerate it (requirements/README.md)"
        )
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {req.name}=={pinned[name]}, outside pyproject.toml's {req.specifier}"
        )
