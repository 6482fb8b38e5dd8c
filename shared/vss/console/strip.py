"""The editing script as a strip of bars for the task page: each segment's narration and the
key lines it pauses for, placed by their time on the timeline (the same layout as the review
page's, drawn as SVG by the template)."""

from __future__ import annotations

from dataclasses import dataclass

from vss.domain.artifacts import EditingScript


@dataclass(frozen=True)
class Bar:
    kind: str  # "narration" | "key-line"
    start: float  # seconds on the timeline
    duration: float
    x: float  # percent of the strip's width
    width: float
    label: str


def timeline_bars(script: EditingScript) -> list[Bar]:
    """Bars of every segment and key line; a script without timeline positions is laid end
    to end in its order."""
    spans: list[tuple[str, float, float, str]] = []
    cursor = 0.0
    for number, segment in enumerate(script.editing_script, start=1):
        start = segment.timeline_start if segment.timeline_start is not None else cursor
        spans.append(("narration", start, segment.narration_duration,
                      f"Segment {number}: {segment.narration[:60]}"))
        cursor = start + segment.narration_duration
        for line in segment.key_lines:
            line_start = line.timeline_start if line.timeline_start is not None else cursor
            spans.append(("key-line", line_start, line.duration,
                          f"Key line after segment {number} (scene {line.scene_id})"))
            cursor = line_start + line.duration
    total = max((start + length for _, start, length, _ in spans), default=0.0)
    if total <= 0:
        return []
    return [Bar(kind, start, length, round(100 * start / total, 3),
                max(round(100 * length / total, 3), 0.1), label)
            for kind, start, length, label in spans]
