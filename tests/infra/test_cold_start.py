"""What a function's cold start imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from emulators.bytecode import imported_modules

ROOT = Path(__file__).resolve().parents[2]


def test_functions_that_search_nothing_start_without_the_retrieval_core():
    """numpy and jieba (about 150 ms of every cold start) load with the first search, not
    with the task services every function imports."""
    light = ("api", "on_upload", "deadline", "dead_letter", "console")
    modules = sorted({m for name in light for m in imported_modules(
        ROOT / "functions" / name / "main.py") if m.startswith("vss.")})
    loaded = subprocess.run(
        [sys.executable, "-c", "import importlib, sys\n"
         "for name in sys.argv[1:]:\n"
         "    try:\n        importlib.import_module(name)\n"
         "    except ModuleNotFoundError:\n        pass  # a name imported from a module\n"
         "print(' '.join(sorted({'numpy', 'jieba'} & set(sys.modules))))", *modules],
        capture_output=True, text=True, check=True, cwd=ROOT / "shared")
    assert "vss.api.app" in modules and loaded.stdout.split() == []
