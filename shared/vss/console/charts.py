"""Charts drawn on the server as SVG geometry for a template (the usage page's bar chart, the
task page's editing strip): no JavaScript, and no `style`
attribute (the console's CSP allows its stylesheet alone; colours and fonts are classes in
console.css, positions are SVG attributes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vss.domain.artifacts import EditingScript

WIDTH, HEIGHT = 720, 240  # the viewBox; the stylesheet scales the drawing to the page
LEFT, RIGHT, TOP, BOTTOM = 80, 8, 12, 28  # room for the value labels and the day labels
MAX_X_LABELS = 8  # more would overlap at 90 days


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float  # proportional to the value: the tallest bar is the plot's height
    label: str  # "2026-01-01: $1.2500", its tooltip


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[Label]  # under some bars: first, then evenly spaced
    y_labels: list[Label]  # zero at the baseline, the largest value at the top
    baseline: float  # y of the horizontal axis
    left: float  # x of the vertical axis
    top: float  # y of the plot's top: the tallest bar's


def bar_chart(values: Sequence[tuple[str, float]], show: Callable[[float], str]) -> BarChart:
    """One bar per (name, value), left to right, as tall as value over the largest value;
    `show` writes a value for the labels."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    top = max((value for _, value in values), default=0.0)
    slot = plot_width / max(len(values), 1)
    step = -(-len(values) // MAX_X_LABELS)  # ceiling division
    bars, x_labels = [], []
    for index, (name, value) in enumerate(values):
        height = round(value / top * plot_height, 2) if top > 0 else 0.0
        x = LEFT + index * slot
        bars.append(Bar(x=round(x + slot * 0.1, 2), y=round(baseline - height, 2),
                        width=round(slot * 0.8, 2), height=height,
                        label=f"{name}: {show(value)}"))
        if index % step == 0:
            x_labels.append(Label(x=round(x + slot / 2, 2), y=baseline + 18, text=name))
    y_labels = [Label(x=LEFT - 6, y=baseline, text=show(0.0))]
    if top > 0:
        y_labels.append(Label(x=LEFT - 6, y=TOP + 4, text=show(top)))
    return BarChart(width=WIDTH, height=HEIGHT, bars=bars, x_labels=x_labels,
                    y_labels=y_labels, baseline=baseline, left=LEFT, top=TOP)


@dataclass(frozen=True)
class Span:
    kind: str  # "narration" | "key-line"
    start: float  # seconds on the timeline
    duration: float
    x: float  # percent of the strip's width
    width: float
    label: str


def timeline_spans(script: EditingScript) -> list[Span]:
    """The editing script as a strip for the task page: each segment's narration and the key
    lines it pauses for, placed by their time on the timeline (the review page's layout).
    Spans of every segment and key line; a script without timeline positions is laid end
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
    return [Span(kind, start, length, round(100 * start / total, 3),
                max(round(100 * length / total, 3), 0.1), label)
            for kind, start, length, label in spans]
