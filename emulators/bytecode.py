"""Compile, once, the modules the functions import, before the functions start.

uv compiles no bytecode as it installs (pip does), so in a fresh virtualenv the seven
functions, started together, would each compile the same few thousand modules of the Google
clients, Flask and pydantic: on 2 cores that was about 6 s of a fresh stack's start. One
process importing what the functions' entry points import writes the bytecode (whatever
PYTHONDONTWRITEBYTECODE says: the venv and the project are the project's own) while the
emulators boot; the functions then load it. With the bytecode already there, nothing runs
(importing it all again cost about a second of a start). Modules a function imports later, on
first use, are compiled then, once.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Imports each module named on the command line, ignoring any that fails: a function that
# cannot import fails on its own start, with its own log.
_IMPORT_ALL = """
import importlib, sys
sys.dont_write_bytecode = False
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


# Large modules every function imports: compiled, the venv was compiled (by pip, or by a
# stack that started before); a start then costs no process.
_MARKERS = ("google.cloud.firestore_v1.client", "google.api_core.grpc_helpers", "flask.app",
            "pydantic.main", "functions_framework")


def _compiled(module: str) -> bool:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return True  # nothing to compile: the function fails on its own start
    origin = spec.origin if spec is not None else None
    if origin is None or not origin.endswith(".py"):
        return True
    return Path(importlib.util.cache_from_source(origin)).is_file()


def imported_modules(source: Path) -> set[str]:
    """The modules a Python file imports at its top level (absolute imports only), and the
    names it imports from them, which may be modules too."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from google.cloud import pubsub_v1` imports a module; `from flask import
            # Flask` names a class, whose import then fails and is skipped.
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def compile_imports(sources: Iterable[Path], cwd: Path) -> subprocess.Popen[bytes] | None:
    """Start importing what `sources` import, in a process of its own (wait on it before
    starting them); None when the venv's bytecode is there already."""
    if all(_compiled(module) for module in _MARKERS):
        return None
    modules = sorted(set().union(*(imported_modules(s) for s in sources)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.Popen([sys.executable, "-c", _IMPORT_ALL, *modules], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
