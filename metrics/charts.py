"""Trend charts as inline SVG drawn on the server: bars (counts) or a line (durations, rates).

``chart_for`` turns a metric's series into coordinates in a fixed view box; every point
carries the link to the rows behind it, so the chart is clickable without JavaScript and
the table beside it says the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 560, 140
LEFT, RIGHT, TOP, BOTTOM = 76, 8, 10, 22  # room on the left for "25 h 30 min"


@dataclass
class ChartPoint:
    x: float
    cx: float
    y: float | None
    width: float
    height: float
    label: str
    title: str
    url: str


@dataclass
class Chart:
    kind: str  # "bars" or "line"
    width: int = WIDTH
    height: int = HEIGHT
    points: list[ChartPoint] = field(default_factory=list)
    path: str = ""
    y_labels: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: int = WIDTH - RIGHT


def chart_for(
    values: list[float | None],
    labels: list[str],
    titles: list[str],
    urls: list[str],
    *,
    kind: str,
    y_format,
) -> Chart:
    chart = Chart(kind=kind)
    count = len(values)
    if not count:
        return chart
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max([v for v in values if v is not None] or [0.0])
    top = top if top > 0 else 1.0
    step = plot_w / count
    segments: list[str] = []
    pen_down = False
    for i, value in enumerate(values):
        x = LEFT + i * step
        if value is None:
            y = None
            height = 0.0
            pen_down = False
        else:
            height = plot_h * value / top
            y = TOP + plot_h - height
            cx = x + step / 2
            segments.append(f"{'L' if pen_down else 'M'}{cx:.1f},{y:.1f}")
            pen_down = True
        chart.points.append(
            ChartPoint(
                x=round(x + step * 0.15, 1),
                cx=round(x + step / 2, 1),
                y=None if y is None else round(y, 1),
                width=round(max(step * 0.7, 1.0), 1),
                height=round(height, 1),
                label=labels[i],
                title=titles[i],
                url=urls[i],
            )
        )
    chart.path = " ".join(segments)
    chart.y_labels = [(TOP + plot_h * (1 - f), y_format(top * f)) for f in (0.0, 0.5, 1.0)]
    every = max(1, count // 6)
    chart.x_labels = [(LEFT + i * step + step / 2, labels[i]) for i in range(0, count, every)]
    return chart
