"""Charts of a window's samples as plain numbers for inline SVG (rendered on the server, no JavaScript).

``check_chart`` maps every sample to x/y in a fixed view box: the value line
(broken where there is no value), the absolute bounds, the baseline, the
limit derived from it, failed and unmeasured samples, the gaps, and "now".
The template only draws what it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from monitoring.choices import BaselineStatus, CheckKind, Outcome
from monitoring.models import MonitoringWindow, PollGap, Sample, WindowCheck
from monitoring.services.config import bounds_from
from monitoring.verdicts import fmt, relative_limit

WIDTH = 640
HEIGHT = 150
LEFT = 56  # room for the y labels
RIGHT = 8
TOP = 10
BOTTOM = 22  # room for the time labels and the error ticks


@dataclass
class Line:
    y: float
    label: str
    css: str


@dataclass
class Mark:
    x: float
    y: float
    css: str
    title: str


@dataclass
class Chart:
    kind: str
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    paths: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    bars: list[Mark] = field(default_factory=list)
    dots: list[Mark] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (x, width)
    y_labels: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    now_x: float | None = None
    summary: str = ""
    bar_width: float = 4.0

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top

    @property
    def label_x(self) -> int:
        return self.plot_left - 6


def _x_end(window: MonitoringWindow) -> datetime:
    """A window stopped early is drawn up to where it stopped, not over its empty planned time."""
    if window.finished_at is not None and window.finished_at < window.ends_at:
        return max(window.finished_at, window.started_at + window.poll_interval)
    return window.ends_at


def _x_scale(window: MonitoringWindow, now: datetime):
    start = window.started_at
    span = max((_x_end(window) - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        fraction = (moment - start).total_seconds() / span
        return round(LEFT + min(max(fraction, 0.0), 1.0) * (WIDTH - RIGHT - LEFT), 1)

    return x


def check_chart(
    check: WindowCheck,
    samples: list[Sample],
    window: MonitoringWindow,
    gaps: list[PollGap],
    now: datetime,
) -> Chart:
    x = _x_scale(window, now)
    chart = Chart(kind=check.kind)
    chart.gaps = [(x(g.from_time), round(max(x(g.to_time) - x(g.from_time), 2.0), 1)) for g in gaps]
    chart.x_labels = [
        (LEFT, f"{window.started_at:%H:%M:%S}"),
        (WIDTH - RIGHT, f"{window.ends_at:%H:%M:%S}"),
    ]
    if window.started_at <= now <= window.ends_at and window.finished_at is None:
        chart.now_x = x(now)
    if check.kind == CheckKind.HEALTH:
        return _health(chart, samples, x, window)
    return _metric(chart, check, samples, x)


def _health(chart: Chart, samples: list[Sample], x, window: MonitoringWindow) -> Chart:
    chart.height = 64
    chart.plot_bottom = chart.height - BOTTOM
    slots = max(int((_x_end(window) - window.started_at) // window.poll_interval), len(samples), 1)
    chart.bar_width = max(min((chart.plot_right - chart.plot_left) / slots - 1, 8.0), 1.5)
    css: dict[str, str] = {
        Outcome.PASS: "pass",
        Outcome.FAIL: "fail",
        Outcome.ERROR: "error",
        Outcome.INCONCLUSIVE: "nodata",
    }
    half = chart.bar_width / 2
    for sample in samples:
        chart.bars.append(
            Mark(
                round(x(sample.taken_at) - half, 1),
                chart.plot_top,
                css.get(sample.outcome, "nodata"),
                f"{sample.taken_at:%H:%M:%S}: {sample.detail}",
            )
        )
    counts = {o: sum(1 for s in samples if s.outcome == o) for o in css}
    chart.summary = (
        f"{len(samples)} probes: {counts[Outcome.PASS]} as expected, {counts[Outcome.FAIL]} unhealthy, "
        f"{counts[Outcome.ERROR]} unreachable."
    )
    return chart


def _metric(chart: Chart, check: WindowCheck, samples: list[Sample], x) -> Chart:
    bounds = bounds_from(check.config)
    unit = bounds.unit
    baseline = None
    if check.baseline is not None and check.baseline.status == BaselineStatus.TAKEN:
        baseline = check.baseline.value
    finite = [s.value for s in samples if s.value is not None and math.isfinite(s.value)]
    references: list[tuple[float, str, str]] = []
    if bounds.max_value is not None:
        references.append((bounds.max_value, f"max {fmt(bounds.max_value, unit)}", "bound"))
    if bounds.min_value is not None:
        references.append((bounds.min_value, f"min {fmt(bounds.min_value, unit)}", "bound"))
    if baseline is not None and math.isfinite(baseline):
        references.append((baseline, f"baseline {fmt(baseline, unit)}", "baseline"))
        if bounds.relative:
            limit, _how = relative_limit(bounds, baseline)
            if math.isfinite(limit):
                references.append((limit, f"limit {fmt(limit, unit)}", "limit"))
    if bounds.noise_floor is not None and bounds.relative:
        references.append((bounds.noise_floor, f"floor {fmt(bounds.noise_floor, unit)}", "floor"))
    pool = finite + [r[0] for r in references]
    low, high = (min(pool), max(pool)) if pool else (0.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    if min(pool or [0]) >= 0 and low < 0:
        low = 0.0

    def y(value: float) -> float:
        if math.isinf(value):
            return float(chart.plot_top if value > 0 else chart.plot_bottom)
        fraction = (value - low) / (high - low)
        return round(
            chart.plot_bottom - min(max(fraction, 0.0), 1.0) * (chart.plot_bottom - chart.plot_top),
            1,
        )

    chart.lines = [Line(y(value), label, css) for value, label, css in references]
    chart.y_labels = [(chart.plot_top + 4, fmt(high, unit)), (chart.plot_bottom, fmt(low, unit))]
    segment: list[str] = []
    for sample in samples:
        value = sample.value
        if value is None or math.isnan(value):
            if segment:
                chart.paths.append(" ".join(segment))
            segment = []
            css = "error" if sample.outcome == Outcome.ERROR else "nodata"
            chart.marks.append(
                Mark(
                    x(sample.taken_at),
                    chart.plot_bottom + 6,
                    css,
                    f"{sample.taken_at:%H:%M:%S}: {sample.detail}",
                )
            )
            continue
        point = f"{x(sample.taken_at)},{y(value)}"
        segment.append(point)
        chart.dots.append(
            Mark(
                x(sample.taken_at), y(value), "dot", f"{sample.taken_at:%H:%M:%S}: {sample.detail}"
            )
        )
        if sample.outcome == Outcome.FAIL or math.isinf(value):
            chart.marks.append(
                Mark(
                    x(sample.taken_at),
                    y(value),
                    "fail",
                    f"{sample.taken_at:%H:%M:%S}: {sample.detail}",
                )
            )
    if segment:
        chart.paths.append(" ".join(segment))
    last = next((s for s in reversed(samples) if s.value is not None), None)
    chart.summary = (
        f"{len(samples)} samples; latest {fmt(last.value, unit)}."
        if last
        else f"{len(samples)} samples; no value yet."
    )
    return chart
