"""The review page: a self-contained `index.html` next to the rendered video.

It plays the video (by its file name, so the folder can be moved or zipped as it is), lists the
narration script with timestamps that seek, each segment's source clips with why they were
chosen and whether their cuts checked out, the dubbing's fit and loudness per segment (when the
dubbing script is given) and the render's duration, cut and loudness checks. No external file,
font or script: it opens from the disk, offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from vss.domain.language import has_han
from vss.edge.render.plan import RenderError
from vss.edge.render.report import RenderReport

__all__ = ["review_context", "write_review"]


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _script_extras(script: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Each segment's clips as the script has them (b-roll, then key lines): the editing
    stage's reasons and scores."""
    return [list(seg.get("b_roll_clips", [])) + list(seg.get("key_lines") or [])
            for seg in script.get("editing_script", [])]


def _dubbing_figures(item: dict[str, Any]) -> list[str]:
    figures = []
    fit = item.get("fit") or {}
    if fit:
        text = f"fit: {fit.get('action')}"
        if fit.get("slot_seconds") is not None:
            text += f", slot {fit['slot_seconds']:.2f} s"
        if fit.get("tempo") not in (None, 1, 1.0):
            text += f", tempo x{fit['tempo']:.3f}"
        if fit.get("overrun_seconds"):
            text += f", overrun {fit['overrun_seconds']:.2f} s"
        figures.append(text)
    loud = item.get("loudness") or {}
    if loud:
        figures.append(f"{loud.get('lufs', float('nan')):.1f} LUFS, true peak "
                       f"{loud.get('true_peak_dbtp', float('nan')):.1f} dBTP")
    if item.get("start_seconds") is not None:
        figures.append(f"on the narration track at {item['start_seconds']:.3f} s")
    if item.get("duration_seconds") is not None:
        figures.append(f"dubbed {item['duration_seconds']:.3f} s")
    if item.get("voice") or item.get("engine"):
        figures.append(" ".join(str(x) for x in (item.get("engine"), item.get("voice")) if x))
    return figures


def review_context(report: RenderReport, script: dict[str, Any],
                   dubbing: dict[str, Any] | None) -> dict[str, Any]:
    """What the template shows, computed here so the template only lays it out."""
    extras = _script_extras(script)
    cuts: dict[int, list[str]] = {}
    off: set[int] = set()
    for cut in report.cut_checks:
        mark = {"on_frame": "✓", "indistinguishable": "still"}.get(cut.status,
                                                                    f"off {cut.offset:+d}")
        cuts.setdefault(cut.clip, []).append(f"{cut.side} {mark}")
        if cut.status == "off":
            off.add(cut.clip)
    total = report.duration or 1.0
    clips = []
    for k, clip in enumerate(report.clips):
        row = clip.model_dump()
        seg_items = extras[clip.segment] if clip.segment < len(extras) else []
        source = seg_items[clip.number - 1] if clip.number - 1 < len(seg_items) else {}
        row.update(reason=source.get("reason"), clock=_clock(clip.timeline_start),
                   cut=", ".join(cuts.get(k, [])), off=k in off,
                   left=round(100 * clip.timeline_start / total, 4),
                   width=round(100 * clip.frames / report.fps / total, 4))
        clips.append(row)
    dub_items = (dubbing or {}).get("dubbing_script") or []
    segments = []
    for n, cue in enumerate(report.cues):
        end = report.cues[n + 1].timeline_start if n + 1 < len(report.cues) else report.duration
        segments.append({
            "number": cue.segment + 1, "start": cue.timeline_start, "end": end,
            "clock": _clock(cue.timeline_start), "text": cue.text, "audio": cue.audio,
            "duration": cue.duration,
            "figures": _dubbing_figures(dub_items[n]) if n < len(dub_items) else [],
            "clips": [c for c in clips if c["segment"] == cue.segment]})
    text = " ".join(cue.text for cue in report.cues)
    return {
        "title": script.get("title") or Path(report.output).stem, "video": report.output,
        "lang": "zh" if has_han(text) else "en", "report": report, "clips": clips,
        "segments": segments,
        "dubbing_total": (dubbing or {}).get("total_duration"),
        "dubbing_engine": ", ".join((dubbing or {}).get("engines") or [])
                          or (dubbing or {}).get("engine"),
    }


def _read_json(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RenderError([f"cannot read {path} for the review page: {exc}"]) from None
    return data if isinstance(data, dict) else None


def write_review(video: Path, report: RenderReport, script: Path,
                 dubbing: Path | None = None) -> Path:
    """`index.html` in the video's folder."""
    environment = Environment(loader=PackageLoader("vss.edge", "templates"),
                              autoescape=select_autoescape(["html", "j2"]),
                              trim_blocks=False, lstrip_blocks=False)
    page = environment.get_template("review.html.j2").render(
        **review_context(report, _read_json(script) or {}, _read_json(dubbing)))
    path = video.parent / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
