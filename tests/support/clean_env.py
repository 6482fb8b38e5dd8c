"""An offline stand-in for what the buildpack installs from a requirements.txt.

The distributions a requirements.txt names, plus everything their Requires-Dist pulls in (with
extras and environment markers), are taken from this virtualenv's installed metadata and
symlinked into a fresh directory: no network, no pip, and nothing else of the virtualenv is
visible there. A missing requirement therefore shows as an ImportError.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether a Requires-Dist entry holds here for a dependent installed with `extras`."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})


def resolve(requirements: Iterable[str]) -> dict[str, importlib.metadata.Distribution]:
    """Normalized name -> installed distribution, for the requirements and their closure.

    Fails when a distribution is not installed or its installed version is outside a range
    that asks for it: the import check would then test something pip could not install.
    """
    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = found.get(name) or importlib.metadata.distribution(name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"installed {name} {dist.version} is outside {requirement}"
        )
        found[name] = dist
        pending += [r for r in map(Requirement, dist.requires or []) if _applies(r, extras)]
    return found


@functools.cache
def _owners() -> dict[tuple[str, ...], frozenset[str]]:
    """Path under site-packages (a file or any of its folders) -> the installed distributions
    with files there."""
    owners: dict[tuple[str, ...], set[str]] = {}
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        for file in dist.files or ():
            for end in range(1, len(file.parts) + 1):
                owners.setdefault(file.parts[:end], set()).add(name)
    return {path: frozenset(names) for path, names in owners.items()}


def _link_point(parts: tuple[str, ...], name: str) -> tuple[str, ...]:
    """The shallowest folder (or the file) of `parts` only distribution `name` has files in:
    linking whole folders keeps the environment quick to build; shared ones such as
    `google/` or `google/cloud/` are made real so each distribution adds its own part."""
    owners = _owners()
    for end in range(1, len(parts) + 1):
        if owners.get(parts[:end]) == {name}:
            return parts[:end]
    return parts


def materialize(distributions: Iterable[importlib.metadata.Distribution], target: Path) -> int:
    """Lay the distributions' installed files (dist-info included, so metadata lookups work)
    out under `target` as in site-packages, by symlinks. Returns the number of links."""
    linked: set[tuple[str, ...]] = set()
    for dist in distributions:
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            if file.parts[0] == "..":  # console scripts, installed outside site-packages
                continue
            parts = _link_point(file.parts, name)
            source = Path(str(dist.locate_file("/".join(parts))))
            if parts in linked or not source.exists():
                continue
            link = target.joinpath(*parts)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
            linked.add(parts)
    return len(linked)
