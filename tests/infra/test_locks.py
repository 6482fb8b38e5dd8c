"""The supply chain is locked: every Python package `make` installs comes from a lock file
with hashes (requirements/*.lock, made by `make lock`), the locks satisfy what pyproject.toml
asks for, and `make up` runs the versions `make test` tested."""

from __future__ import annotations

import re
import tomllib
from functools import cache

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import ROOT

LOCKS = ROOT / "requirements"
SELF = canonicalize_name("visify-story-studio-cloud")
_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", re.M)


@cache
def pins(lock: str) -> dict[str, tuple[str, int]]:
    """name -> (version, hashes) of a lock file."""
    text = (LOCKS / lock).read_text("utf-8")
    found = {canonicalize_name(m[1]): (m[2], m[3].count("--hash=")) for m in _PIN.finditer(text)}
    pinned_lines = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
    assert len(found) == len(pinned_lines), f"{lock}: a pin this test cannot read"
    return found


def requirements(*extras: str) -> list[Requirement]:
    """What pyproject.toml asks for with `extras` (the project's own extras followed)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in project["optional-dependencies"][extra]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == SELF:
                pending.extend(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


@pytest.mark.parametrize(("lock", "extras"), [("dev.lock", ("dev",)),
                                              ("stack.lock", ("stack",))])
def test_each_lock_pins_what_the_project_asks_for(lock, extras):
    pinned = pins(lock)
    for requirement in requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock} lacks {name}: run make lock"
        assert requirement.specifier.contains(pinned[name][0], prereleases=True), \
            f"{lock} pins {name}=={pinned[name][0]}, outside {requirement}: run make lock"


@pytest.mark.parametrize("lock", sorted(p.name for p in LOCKS.glob("*.lock")))
def test_every_pin_has_its_hashes(lock):
    assert all(hashes for _, hashes in pins(lock).values()), lock


def test_the_stack_runs_the_versions_the_tests_tested():
    dev, stack = pins("dev.lock"), pins("stack.lock")
    assert {n: v for n, (v, _) in stack.items()} == {n: dev[n][0] for n in stack}


def test_make_installs_nothing_unhashed():
    """Every pip install in the Makefile checks hashes, except the project's own source,
    built with no download, and the tool that makes the locks."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    installs = re.findall(r"^\t.*pip install[^\n]*", makefile, re.M)
    assert installs
    for line in installs:
        hashed = "--require-hashes" in line
        own_source = "--no-build-isolation -e ." in line and "--no-deps" in line
        lock_tool = "$(UV_SPEC)" in line
        assert hashed or own_source or lock_tool, line
