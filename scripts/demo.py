"""`make demo`: the whole job on the bundled sample, as an edge operator runs it.

    vss admin create-tenant     (once: the credentials are kept in the stack's state folder)
    vss run examples/blueprint_contract_girlfriend.json --out build/demo --minutes 1
    vss demo-media ... --editing-script build/demo/editing_script.json --chapters <those to make>
    vss render build/demo/editing_script.json --media build/demo/media --out build/demo/preview.mp4

then a summary of what came out and where. The placeholder episodes hold only the ranges the
editing script reads (plus a second either side): a few seconds each to write, not the whole
episodes. Each step is skipped when its output is already there and current, so a second
`make demo` takes seconds. Expects the stack up (`make up`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "blueprint_contract_girlfriend.json"
OUT = ROOT / "build" / "demo"
MINUTES = "1"  # Kokoro speaks at about real time on two cores: a short narration renders fast
VSS = Path(sys.executable).parent / "vss"


@dataclass(frozen=True)
class Layout:
    """Where the demo puts things: the artifacts in `out`, the episodes in `out/media`."""

    out: Path

    @property
    def media(self) -> Path:
        return self.out / "media"

    @property
    def video(self) -> Path:
        return self.out / "preview.mp4"

    @property
    def report(self) -> Path:
        return self.out / "preview.render.json"


def _step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _vss(*args: str, env: dict[str, str], capture: bool = False) -> str:
    done = subprocess.run([str(VSS), *args], env=env, cwd=ROOT, text=True, check=False,
                          stdout=subprocess.PIPE if capture else None)
    if done.returncode != 0:
        sys.exit(f"demo: `vss {' '.join(args[:2])} ...` failed (exit {done.returncode}); "
                 "its message is above")
    return done.stdout or ""


def _state_dir() -> Path:
    return Path(os.environ.get("VSS_STATE_DIR") or ROOT / ".vss")


def demo_tenant(env: dict[str, str]) -> dict[str, str]:
    """The demo tenant: the one made by an earlier run while the stack still knows it (the
    emulators keep no data across `make down`), else a new one."""
    from vss.edge.client import EdgeClient

    saved = _state_dir() / "demo-tenant.json"
    if saved.is_file():
        creds = json.loads(saved.read_text())
        client = EdgeClient(env["VSS_API_URL"], creds["instance_id"], creds["api_key"])
        known = client.session.get(f"{client.base}/tasks/", params={"page_size": 1}, timeout=10)
        if known.status_code == 200:
            print(f"demo tenant {creds['tenant_id']} (instance {creds['instance_id']})")
            return dict(creds)
    creds = json.loads(_vss("admin", "create-tenant", "--name", "demo", env=env, capture=True))
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.touch(mode=0o600)
    saved.write_text(json.dumps(creds))
    print(f"created demo tenant {creds['tenant_id']} (instance {creds['instance_id']})")
    return dict(creds)


def demo_env(command: str) -> dict[str, str]:
    """The environment a `vss` command needs to act as the demo tenant on the local stack."""
    from vss.config import load_local_env

    env_file = load_local_env()
    if "VSS_API_URL" not in os.environ:
        sys.exit(f"{command}: the local stack is not running: `make up` "
                 f"(make {command} does it)")
    creds = demo_tenant(dict(os.environ))
    return {**os.environ, **env_file, "VSS_INSTANCE_ID": creds["instance_id"],
            "VSS_API_KEY": creds["api_key"]}


def chapters_used(editing: dict[str, Any]) -> set[int]:
    return {clip["chapter_id"] for segment in editing["editing_script"]
            for clip in segment["b_roll_clips"] + segment.get("key_lines", [])}


def missing_media(chapters: set[int], media: Path, cut: Path | None = None) -> set[int]:
    """The chapters without an episode file; with `cut` (the editing script), also those whose
    file is older than it: written for an earlier cut, it may lack this one's ranges."""
    from vss.domain.dataset import parse_dataset
    from vss.domain.media_names import candidate_names

    dataset = parse_dataset(EXAMPLE.read_bytes())
    sources = {c.id: c.source_file for c in dataset.chapters}
    since = cut.stat().st_mtime if cut is not None else None

    def current(path: Path) -> bool:
        return path.is_file() and (since is None or path.stat().st_mtime >= since)

    return {c for c in chapters
            if not any(current(media / name) for name in candidate_names(c, sources.get(c)))}


def render_is_current(at: Layout) -> bool:
    """The video is there, newer than every input, and passed every check."""
    report = at.report
    if not (at.video.is_file() and report.is_file()):
        return False
    inputs = [at.out / "editing_script.json", at.out / "dubbing_script.json",
              *at.media.glob("*.mp4")]
    if any(p.stat().st_mtime > report.stat().st_mtime for p in inputs):
        return False
    checks = json.loads(report.read_text())
    return all(checks[k]["ok"] for k in ("duration_check", "cuts", "loudness"))


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def print_summary(at: Layout) -> None:
    """What came out, with the figures that say whether it is good, and where it all is."""
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    from vss.edge.state import load_state

    out = at.out
    dubbing = json.loads((out / "dubbing_script.json").read_text(encoding="utf-8"))
    editing = json.loads((out / "editing_script.json").read_text(encoding="utf-8"))
    render = json.loads(at.report.read_text(encoding="utf-8"))
    state = load_state(out)
    segments = dubbing["dubbing_script"]
    fits = Counter(s["fit"]["action"] for s in segments if s.get("fit"))
    overrun = max((s["fit"]["overrun_seconds"] for s in segments if s.get("fit")), default=0.0)
    lufs = [s["loudness"]["lufs"] for s in segments if s.get("loudness")]
    peaks = [s["loudness"]["true_peak_dbtp"] for s in segments if s.get("loudness")]
    clips = sum(len(s["b_roll_clips"]) for s in editing["editing_script"])
    d, cuts, loud = render["duration_check"], render["cuts"], render["loudness"]
    mark = {True: "ok", False: "FAILED"}

    figures = Table(title="make demo", title_justify="left")
    figures.add_column("figure")
    figures.add_column("value")
    figures.add_row("task", f"{state.task_id if state else '?'} ({state.status if state else '?'})")
    figures.add_row("narration segments", f"{len(segments)} ({dubbing.get('engine')} voice)")
    figures.add_row("narration duration", f"{dubbing['total_duration']:.2f} s")
    figures.add_row("fit to slots", ", ".join(f"{n} {a}" for a, n in sorted(fits.items()))
                    + f"; largest overrun {overrun:.2f} s")
    if lufs:
        figures.add_row("segment loudness", f"{min(lufs):.1f} to {max(lufs):.1f} LUFS, true peak "
                        f"<= {max(peaks):.1f} dBTP")
    figures.add_row("editing", f"{clips} clips over {len(editing['editing_script'])} segments, "
                    f"{editing['fps']:g} fps")
    figures.add_row("video", f"{d['video_frames']} frames, {d['video_seconds']:.2f} s "
                    f"(timeline {d['timeline_seconds']:.2f} s) {mark[d['ok']]}")
    figures.add_row("cuts on their frame", f"{cuts['on_frame']} of {cuts['checked']} "
                    f"{mark[cuts['ok']]}")
    figures.add_row("video loudness", f"{loud['integrated_lufs']:.1f} LUFS, true peak "
                    f"{loud['true_peak_dbtp']:.1f} dBTP {mark[loud['ok']]}")
    if state:
        steps = [f"{k} {v:.1f} s" for k, v in state.timings.items() if k != "wait"]
        steps += [f"{s} between two polls" for s in state.between_polls]
        figures.add_row("wall time (vss run)", ", ".join(steps))
    figures.add_row("render", f"{render['render_seconds']:.1f} s "
                    f"({render['speed_x_realtime']:.1f}x real time)")

    where = Table(title="where", title_justify="left")
    where.add_column("artifact")
    where.add_column("path")
    wavs = sorted(out.glob("narration_[0-9]*.wav"))
    for label, path in (("video", at.video), ("review page", out / "index.html"),
                        ("render report", at.report),
                        ("narration script", out / "narration.json"),
                        ("dubbing script", out / "dubbing_script.json"),
                        ("narration track", out / "narration_track.wav"),
                        ("subtitles", out / "narration.srt"),
                        ("editing script", out / "editing_script.json"),
                        ("editing report", out / "validation_report.json")):
        if path.exists():
            where.add_row(label, _where(path))
    if wavs:
        where.add_row(f"segment WAVs ({len(wavs)})", f"{_where(out)}/narration_*.wav")
    exports = sorted(out.glob("timeline*"))
    if exports:
        where.add_row("NLE exports", ", ".join(_where(p) for p in exports))
    where.add_row("placeholder episodes", _where(at.media))
    console = Console(highlight=False)
    console.print(figures)
    console.print(where)


def main(argv: list[str] | None = None) -> int:
    import argparse


    parser = argparse.ArgumentParser(prog="demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="default: build/demo")
    parser.add_argument("--minutes", default=MINUTES, help="narration length (default: 1)")
    args = parser.parse_args(argv)
    at = Layout(args.out.absolute())

    env = demo_env("demo")

    _step(f"vss run {_where(EXAMPLE)} --out {_where(at.out)} --minutes {args.minutes}")
    _vss("run", str(EXAMPLE), "--out", str(at.out), "--minutes", args.minutes, env=env)
    cut = at.out / "editing_script.json"
    chapters = chapters_used(json.loads(cut.read_text(encoding="utf-8")))
    missing = missing_media(chapters, at.media, cut)
    _step(f"vss demo-media: episodes {','.join(map(str, sorted(chapters)))} "
          f"({len(missing)} to make, the cut's ranges only)")
    if missing:
        _vss("demo-media", str(EXAMPLE), "--out", str(at.media), "--editing-script", str(cut),
             "--chapters", ",".join(map(str, sorted(missing))), env=env)
    _step(f"vss render -> {_where(at.video)}")
    if render_is_current(at):
        print("already rendered and checked")
    else:
        _vss("render", str(cut), "--media", str(at.media), "--out",
             str(at.video), "--dataset", str(EXAMPLE), "--dubbing",
             str(at.out / "dubbing_script.json"), env=env)
    _step("summary")
    print_summary(at)
    _step("look at it")
    print(f"review page         {(at.out / 'index.html').as_uri()}")
    print(f"operations console  {env['VSS_CONSOLE_URL']}  (sign in with the token "
          "`.venv/bin/vss admin console-token` prints)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
