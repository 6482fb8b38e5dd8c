"""Bar charts drawn on the server as SVG geometry for a template: no JavaScript, and no `style`
attribute (the console's CSP allows its stylesheet alone; colours and fonts are classes in
console.css, positions are SVG attributes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
