"""Package every function for Cloud Functions (2nd gen), each with only what it imports.

    python scripts/package_functions.py [--out build/functions]

Each `functions/<name>/` becomes `<out>/<name>-<sha256 prefix>.zip` holding the function's
files at the root (`main.py`), the shared modules it reaches beside them (`vss/...`) and a
`requirements.txt`, which the Python buildpack installs.

What a function reaches is computed, not listed: starting at its `main.py`, every import
statement is followed through the shared modules, at module level and inside functions alike
(a lazy import still runs in production; only `if TYPE_CHECKING:` blocks are skipped). The
third-party modules met on the way are mapped to the installed distributions that provide
them, and requirements.txt lists those distributions with the version ranges of
`[project].dependencies` in pyproject.toml, plus functions-framework, which runs every function.
A third-party import that pyproject.toml does not declare fails the packaging: a module that
only arrives as a dependency of a dependency can vanish with that dependency's next release.

Archives are deterministic (sorted entries, fixed timestamps and modes), so the same tree
always gives the same bytes and the same name: Terraform redeploys a function only when its
archive changed, and checking out an older commit reproduces its archives exactly (rollback).

`<out>/sources.tfvars.json` sets the `function_sources` variable of infra/terraform.
Standard library only, but run it with the project's virtualenv (`make package`): the
distributions installed there tell which one provides each imported module.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.metadata
import io
import json
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TFVARS_NAME = "sources.tfvars.json"
HASH_CHARS = 16
# The runtime that loads main.py: no function imports it by every path, all of them need it.
ALWAYS_REQUIRED = ("functions-framework",)
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_EXTENSION_SUFFIXES = {".so", ".pyd"}
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class PackagingError(Exception):
    """The tree cannot be packaged as it is; the message says what to fix."""


def _natural_order(text: str) -> list[str | int]:
    """Sort key putting `a.py:9` before `a.py:10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


class UndeclaredImports(PackagingError):
    """Imports no declared dependency provides, one line each (`file:line: ...`)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = sorted(set(problems), key=_natural_order)
        super().__init__(
            "imports that pyproject.toml [project].dependencies does not cover:\n  "
            + "\n  ".join(self.problems)
        )


@dataclass(frozen=True)
class Archive:
    function: str
    path: Path
    sha256: str
    requirements: tuple[str, ...]  # the requirement lines of its requirements.txt


# --- declared dependencies -----------------------------------------------------------------


def normalize(name: str) -> str:
    """PEP 503 form of a distribution name, so `Flask`, `flask` and `flask_x` compare."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    """The distribution a requirement line names (`google-api-core[grpc]>=2` -> google-api-core)."""
    match = _REQUIREMENT_NAME.match(line)
    if match is None:
        raise PackagingError(f"cannot read a distribution name in requirement {line!r}")
    return match.group(1)


def declared_dependencies(repo: Path) -> dict[str, str]:
    """Normalized distribution name -> its line in `[project].dependencies`, in file order."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    return {normalize(requirement_name(line)): line for line in project["dependencies"]}


# --- the import statements of one file -----------------------------------------------------


@dataclass(frozen=True)
class ImportStatement:
    """`import module` (no names) or `from module import names`, made absolute."""

    module: str
    names: tuple[str, ...]
    line: int

    def candidates(self) -> list[str]:
        """The modules the statement may load: `from a import b` loads `a.b` when b is a
        submodule (resolved later, against files), and `a` in any case."""
        return [f"{self.module}.{name}" for name in self.names if name != "*"] + [self.module]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportCollector(ast.NodeVisitor):
    """Every import statement, wherever it sits (module level, function, class, try)."""

    def __init__(self, package: str, where: str) -> None:
        self.package = package  # the package relative imports start from
        self.where = where  # the file, for messages
        self.found: list[ImportStatement] = []

    def visit_If(self, node: ast.If) -> None:
        # Imports for the type checker alone never run; the else branch does.
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(ImportStatement(alias.name, (), node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self._absolute(node.module or "", node.level, node.lineno)
        names = tuple(alias.name for alias in node.names)
        self.found.append(ImportStatement(module, names, node.lineno))

    def _absolute(self, module: str, level: int, line: int) -> str:
        if level == 0:
            return module
        parts = self.package.split(".") if self.package else []
        if level > len(parts):  # what Python refuses too, beyond the top-level package
            raise PackagingError(f"{self.where}:{line}: relative import beyond the top level")
        base = parts[: len(parts) - (level - 1)]
        return ".".join([*base, module] if module else base)


def imports_of(path: Path, package: str) -> list[ImportStatement]:
    """The import statements of the file, relative ones resolved against `package`."""
    collector = _ImportCollector(package, str(path))
    collector.visit(ast.parse(path.read_bytes(), filename=str(path)))
    return collector.found


# --- first-party modules -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceModule:
    name: str
    path: Path  # `<root>/a/b.py` or `<root>/a/b/__init__.py`
    root: Path  # the directory that is on sys.path when it runs

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def find_module(name: str, roots: Iterable[Path]) -> SourceModule | None:
    """The first root's source of module `name`, as the import system would find it."""
    for root in roots:
        base = root.joinpath(*name.split("."))
        for path in (base / "__init__.py", base.with_name(base.name + ".py")):
            if path.is_file():
                return SourceModule(name, path, root)
    return None


def _with_parents(name: str) -> list[str]:
    """`a.b.c` -> a, a.b, a.b.c: importing a submodule runs its packages' __init__ first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


# --- installed distributions ---------------------------------------------------------------


def _module_of(parts: tuple[str, ...]) -> str | None:
    """The module a distribution's file (path parts under site-packages) defines, if any."""
    if not parts or parts[0] == ".." or any(p in _SKIP_DIRS for p in parts):
        return None
    if parts[0].endswith((".dist-info", ".egg-info", ".data")):
        return None
    *packages, filename = parts
    if filename.endswith(".py"):
        stem = filename[:-3]
    elif Path(filename).suffix in _EXTENSION_SUFFIXES:
        stem = filename.split(".", 1)[0]  # grpc/_cython/cygrpc.cpython-311-x86_64-linux-gnu.so
    else:
        return None
    names = packages if stem == "__init__" else [*packages, stem]
    if not names or not all(n.isidentifier() for n in names):
        return None
    return ".".join(names)


@dataclass
class DistributionIndex:
    """Which installed distributions provide each module, at module granularity.

    `importlib.metadata.packages_distributions()` stops at top-level names, and `google` alone
    is provided by a dozen distributions; files tell `google.cloud.firestore` apart from
    `google.cloud.storage`.
    """

    providers: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> DistributionIndex:
        index = cls()
        for dist in importlib.metadata.distributions():
            if not dist.metadata["Name"]:  # a leftover directory of an interrupted install
                continue
            name = normalize(dist.metadata["Name"])
            for file in dist.files or ():
                module = _module_of(file.parts)
                if module is not None:
                    index.providers.setdefault(module, set()).add(name)
        return index

    def provided(self, name: str) -> str | None:
        """The deepest module of dotted `name` some distribution ships as a file:
        `google.cloud.firestore.Client` -> `google.cloud.firestore`; `google.cloud`, a
        namespace every google-cloud-* distribution shares, -> None."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.providers:
                return module
        return None


# --- the closure of one function -----------------------------------------------------------


@dataclass(frozen=True)
class ThirdPartyImport:
    statement: ImportStatement
    source: Path


@dataclass
class Closure:
    """First-party modules a function's main.py reaches, and its third-party imports."""

    modules: dict[str, SourceModule] = field(default_factory=dict)
    third_party: list[ThirdPartyImport] = field(default_factory=list)


def _site(source: Path, repo: Path, line: int) -> str:
    return f"{source.relative_to(repo).as_posix()}:{line}"


def import_closure(function_dir: Path, roots: list[Path], repo: Path) -> Closure:
    """Follow the imports of `function_dir/main.py` through every first-party module."""
    closure = Closure()
    main = find_module("main", [function_dir])
    if main is None:
        raise PackagingError(f"{function_dir.relative_to(repo)} has no main.py")
    pending = [main]
    while pending:
        module = pending.pop()
        if module.name in closure.modules:
            continue
        closure.modules[module.name] = module
        for statement in imports_of(module.path, module.package):
            top = statement.module.split(".")[0]
            if find_module(top, roots) is not None:
                pending += _first_party(statement, module.path, roots, repo)
            elif top not in sys.stdlib_module_names:
                closure.third_party.append(ThirdPartyImport(statement, module.path))
    return closure


def _first_party(
    statement: ImportStatement, source: Path, roots: list[Path], repo: Path
) -> list[SourceModule]:
    """The first-party modules an import statement runs, parent packages included."""
    if find_module(statement.module, roots) is None:
        where = ", ".join(r.relative_to(repo).as_posix() or "." for r in roots)
        raise PackagingError(
            f"{_site(source, repo, statement.line)}: imports {statement.module}, "
            f"which is not a module under {where}"
        )
    found = []
    for candidate in statement.candidates():
        for name in _with_parents(candidate):
            module = find_module(name, roots)
            if module is not None:
                found.append(module)
    return found


def required_distributions(
    closure: Closure, index: DistributionIndex, declared: dict[str, str], repo: Path
) -> list[str]:
    """Requirement lines (pyproject's, in its order) the closure needs; raises with every
    import no declared distribution provides."""
    needed = {normalize(name) for name in ALWAYS_REQUIRED}
    problems = [f"{name} runs every function and is not declared"
                for name in sorted(needed - declared.keys())]
    for item in closure.third_party:
        site = _site(item.source, repo, item.statement.line)
        candidates = item.statement.candidates()
        modules = {m for c in candidates if (m := index.provided(c)) is not None}
        if not modules:
            problems.append(f"{site}: imports {item.statement.module}, which no installed "
                            "distribution provides (run with the project's venv: make package)")
        undeclared: dict[str, str] = {}  # its distributions -> the module to name
        for module in sorted(modules, key=len):  # `a` before `a.b`, which has the same source
            providers = index.providers[module]
            needed |= providers & declared.keys()
            if not providers & declared.keys():
                undeclared.setdefault(", ".join(sorted(providers)), module)
        problems += [f"{site}: imports {module}, provided by {dists}, not declared"
                     for dists, module in undeclared.items()]
    if problems:
        raise UndeclaredImports(problems)
    return [line for name, line in declared.items() if name in needed]


def requirements_txt(function: str, lines: list[str]) -> str:
    header = (f"# Generated by scripts/package_functions.py: the dependencies in pyproject.toml "
              f"that functions/{function} imports; do not edit.")
    return "\n".join([header, *lines]) + "\n"


# --- archive contents ----------------------------------------------------------------------


def _files(root: Path, *, into_packages: bool = True) -> Iterator[Path]:
    """Files under `root`, sorted, without caches; `into_packages=False` stops at
    subdirectories that are packages of their own."""
    for path in sorted(root.iterdir()):
        if path.name in _SKIP_DIRS:
            continue
        if path.is_dir():
            if into_packages or not (path / "__init__.py").is_file():
                yield from _files(path, into_packages=into_packages)
        elif path.is_file() and path.suffix not in _SKIP_SUFFIXES:
            yield path


def shared_entries(closure: Closure, shared_root: Path) -> dict[str, Path]:
    """Archive name -> file for the shared modules reached, with the data files (prompts,
    py.typed) of the packages reached, which code reads through importlib.resources."""
    entries: dict[str, Path] = {}
    for module in closure.modules.values():
        if module.root != shared_root:
            continue
        entries[module.path.relative_to(shared_root).as_posix()] = module.path
        if module.is_package:
            for path in _files(module.path.parent, into_packages=False):
                if path.suffix != ".py":
                    entries[path.relative_to(shared_root).as_posix()] = path
    return entries


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the mode below is honoured
    info.external_attr = 0o644 << 16
    return info


def build_zip(entries: dict[str, bytes]) -> bytes:
    """The archive's bytes: entries sorted by name, with fixed timestamps and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            archive.writestr(_entry(name), entries[name], compresslevel=9)
    return buffer.getvalue()


def function_dirs(repo: Path) -> list[Path]:
    """Every `functions/<name>/` that has a `main.py`, sorted by name."""
    return sorted(p.parent for p in (repo / "functions").glob("*/main.py"))


def archive_entries(
    function_dir: Path, repo: Path, index: DistributionIndex, declared: dict[str, str]
) -> tuple[dict[str, bytes], list[str]]:
    """Everything one function's archive holds, and its requirement lines."""
    shared_root = repo / "shared"
    closure = import_closure(function_dir, [function_dir, shared_root], repo)
    lines = required_distributions(closure, index, declared, repo)
    entries = {p.relative_to(function_dir).as_posix(): p.read_bytes()
               for p in _files(function_dir)}
    for name, path in shared_entries(closure, shared_root).items():
        entries[name] = path.read_bytes()
    entries["requirements.txt"] = requirements_txt(function_dir.name, lines).encode()
    return entries, lines


def package(repo: Path, out: Path, index: DistributionIndex | None = None) -> list[Archive]:
    """Write one archive per function and the tfvars file; remove superseded archives."""
    dirs = function_dirs(repo)
    if not dirs:
        raise PackagingError(f"no functions/<name>/main.py under {repo}")
    index = index or DistributionIndex.from_environment()
    declared = declared_dependencies(repo)
    # Every function is analysed before anything is written, and every bad import reported.
    built, problems = [], []
    for function_dir in dirs:
        try:
            built.append((function_dir.name, *archive_entries(function_dir, repo, index, declared)))
        except UndeclaredImports as exc:
            problems += exc.problems
    if problems:
        raise UndeclaredImports(problems)
    out.mkdir(parents=True, exist_ok=True)

    archives = []
    for name, entries, lines in built:
        data = build_zip(entries)
        digest = hashlib.sha256(data).hexdigest()
        path = out / f"{name}-{digest[:HASH_CHARS]}.zip"
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        for stale in out.glob(f"{name}-*.zip"):
            if stale != path and stale.stem[len(name) + 1 :].isalnum():
                stale.unlink()
        archives.append(Archive(name, path.resolve(), digest, tuple(lines)))

    tfvars = {
        "function_sources": {
            a.function: {"path": str(a.path), "sha256": a.sha256} for a in archives
        }
    }
    (out / TFVARS_NAME).write_text(json.dumps(tfvars, indent=2, sort_keys=True) + "\n")
    return archives


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "functions")
    args = parser.parse_args(argv)
    try:
        archives = package(REPO, args.out)
    except PackagingError as exc:
        print(f"package_functions: {exc}", file=sys.stderr)
        return 1
    for archive in archives:
        size_kib = archive.path.stat().st_size / 1024
        names = ", ".join(requirement_name(r) for r in archive.requirements)
        print(f"{archive.function:<14} {archive.path.name}  {size_kib:7.1f} KiB  {names}")
    print(f"function_sources -> {args.out / TFVARS_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
