"""Secrets in the repository: detect-secrets scans every file git tracks (the lock files and
the baseline aside), and any finding that `.secrets.baseline` does not list fails `make lint`.

    python scripts/check_secrets.py            # the check
    python scripts/check_secrets.py --update   # accept today's findings (review them first)

The baseline holds the test suite's fake keys and secrets (each is a made-up value a test
needs), by hash, not by value. Findings are compared by file, kind and hash, not by line, so
editing a file above a known fake value does not fail the check.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ".secrets.baseline"
# Lock files are lists of sha256 hashes, and the baseline holds the findings' hashes: high
# entropy by design, and no secret.
EXCLUDED_FILES = r"^(requirements/.*\.lock|\.secrets\.baseline)$"

Finding = tuple[str, str, str]  # file, kind, hashed value


def scan(root: Path) -> dict[str, Any]:
    """detect-secrets' report over the files git tracks under `root`."""
    scanner = Path(sys.executable).with_name("detect-secrets")
    done = subprocess.run([str(scanner), "scan", "--exclude-files", EXCLUDED_FILES], cwd=root,
                          check=True, capture_output=True, text=True)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def findings(report: dict[str, Any]) -> dict[Finding, int]:
    """Each finding with the line it is on."""
    return {(path, found["type"], found["hashed_secret"]): found["line_number"]
            for path, found_in_file in report["results"].items() for found in found_in_file}


def new_findings(root: Path) -> list[str]:
    """What the scan finds that the baseline does not list, one line each."""
    baseline_path = root / BASELINE
    known = findings(json.loads(baseline_path.read_text("utf-8"))) \
        if baseline_path.exists() else {}
    return [f"{path}:{line}: {kind}" for (path, kind, hashed), line
            in sorted(findings(scan(root)).items()) if (path, kind, hashed) not in known]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true",
                        help=f"write today's findings to {BASELINE}")
    args = parser.parse_args(argv)
    if args.update:
        report = scan(ROOT)
        (ROOT / BASELINE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        print(f"{BASELINE}: {len(findings(report))} findings accepted")
        return 0
    found = new_findings(ROOT)
    for line in found:
        print(f"possible secret: {line}")
    if found:
        print("Remove it (and rotate it if it was real), or, if it is a test's made-up value, "
              "accept it: python scripts/check_secrets.py --update")
        return 1
    print("no secret outside the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
