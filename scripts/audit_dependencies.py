"""Known vulnerabilities in the locked dependencies: pip-audit reads each lock file's pins and
asks PyPI's advisory data about each release; any vulnerability not excepted in
requirements/audit-exceptions.txt (an advisory id, then why it does not apply) fails
`make lint`.

    python scripts/audit_dependencies.py [--strict]

A release pip-audit could not look up (PyPI unreachable, or a package PyPI does not have) is
counted and reported on one line; `--strict` fails on it too (for CI with network access).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
AUDITED = ("dev", "checkov", "build", "tasks-emulator")  # stack.lock is a part of dev.lock
EXCEPTIONS = LOCKS / "audit-exceptions.txt"


def excepted() -> list[str]:
    """The advisory ids the exceptions file accepts (each line: an id, then its reason)."""
    return [m[1] for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s", EXCEPTIONS.read_text(
        "utf-8"), re.M)]


def audit(lock: Path, ignored: list[str]) -> dict[str, Any]:
    auditor = Path(sys.executable).with_name("pip-audit")
    command = [str(auditor), "--disable-pip", "--require-hashes", "--progress-spinner", "off",
               "--format", "json", "-r", str(lock)]
    for advisory in ignored:
        command += ["--ignore-vuln", advisory]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        raise SystemExit(f"pip-audit failed on {lock.name}: {done.stderr.strip()[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true",
                        help="fail when a release could not be looked up")
    args = parser.parse_args(argv)
    ignored = excepted()
    vulnerable: list[str] = []
    audited = skipped = 0
    for name in AUDITED:
        for dependency in audit(LOCKS / f"{name}.lock", ignored)["dependencies"]:
            if "skip_reason" in dependency:
                skipped += 1
                continue
            audited += 1
            vulnerable += [f"{dependency['name']}=={dependency['version']}: {v['id']} (fixed "
                           f"in {', '.join(v.get('fix_versions') or ['no release yet'])})"
                           for v in dependency.get("vulns", [])]
    for line in vulnerable:
        print(f"known vulnerability: {line}")
    print(f"pip-audit: {audited} releases audited, {len(vulnerable)} known vulnerabilities, "
          f"{len(ignored)} excepted"
          + (f"; {skipped} could not be looked up (is PyPI's JSON API reachable?)"
             if skipped else ""))
    return 1 if vulnerable or (args.strict and skipped) else 0


if __name__ == "__main__":
    sys.exit(main())
