"""The closing report of `vss run`: the task, its stages' wall times, and each artifact with
how it was checked."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from vss.edge.checksums import BY_HASH, BY_LENGTH, BY_RECORD, UNCHECKED
from vss.edge.run import RunOutcome


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


def print_run_summary(outcome: RunOutcome, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    view, state = outcome.view, outcome.state
    steps = ["uploaded" if outcome.uploaded else "upload reused",
             "task created" if outcome.created else
             "task resumed" if outcome.resumed else "task reused",
             f"{len(outcome.downloaded)} downloaded, {len(outcome.skipped)} already here"]
    console.print(f"task {view.get('id')} {view.get('status')}: {', '.join(steps)}",
                  soft_wrap=True)
    timings = state.timings
    stages = [s for s in view.get("stages") or [] if s in timings]
    if stages or timings:
        figures = [f"{s} {timings[s]:.1f} s" for s in stages]
        figures += [f"{s} between two polls" for s in state.between_polls]
        figures += [f"{k} {timings[k]:.1f} s" for k in ("upload", "download") if k in timings]
        console.print("wall time: " + ", ".join(figures), soft_wrap=True)
    table = Table(title=f"artifacts in {outcome.out}", title_justify="left")
    for column in ("file", "size", "checked"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for record in sorted(state.files.values(), key=lambda r: r.name):
        table.add_row(record.name, _size(record.size), record.checked)
    console.print(table)
    checks = Counter(r.checked for r in state.files.values())
    if checks[BY_LENGTH]:
        console.print(f"note: {checks[BY_LENGTH]} files were checked by length only (storage "
                      "sent no x-goog-hash)")
    elif checks and set(checks) == {BY_RECORD}:
        console.print(f"all {checks[BY_RECORD]} files match the sha256 their task recorded")
    elif checks and set(checks) <= {BY_HASH, BY_RECORD}:
        console.print(f"all {checks.total()} files match the sha256 their task recorded or "
                      "the md5/crc32c storage sent")
    if checks[UNCHECKED]:
        console.print(f"warning: {checks[UNCHECKED]} files came with neither a hash nor a length: "
                      "not verified")
