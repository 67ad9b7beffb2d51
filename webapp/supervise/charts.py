"""Chart geometry for server-rendered inline SVG: the templates draw what these functions measure, no JavaScript.

Bar charts are tables whose value cells hold a bar, so the numbers are the text alternative and stay readable at
any width; the line chart is one SVG (role="img", with a description) followed by its data table.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def percent(rate: float | None) -> str:
    """A rate as Vietnamese writes it: '33,3 %', '25 %'; a dash when there is nothing to divide."""
    if rate is None:
        return "—"
    value = round(rate * 100, 1)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text} %"


@dataclass
class Bar:
    label: str
    value: float
    text: str  # what the value cell says
    length: float  # 0-100, the share of the longest possible bar
    tone: str  # CSS class: ok, late, brand, none
    href: str | None = None


def bar(label: str, value: float | None, text: str, scale: float, tone: str, href: str | None = None) -> Bar:
    """One bar; SCALE is the value that fills the whole width."""
    length = 0.0 if not value or scale <= 0 else max(1.0, min(100.0, 100.0 * value / scale))
    return Bar(label, value or 0.0, text, round(length, 2), tone if value is not None else "none", href)


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    points: list[tuple[float, float, str, int]]  # x, y, label, value
    path: str  # the polyline's points attribute
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str]]
    ceiling: int  # the value at the top of the plot
    ceiling_y: float


def line_chart(values: Sequence[int], labels: Sequence[str], ceiling: int, width: int = 480,
               height: int = 240, floor: int = 0, inverted: bool = False) -> LineChart:
    """A line of VALUES over LABELS (weeks, years), the y axis from FLOOR to CEILING (e.g. the number of agencies).

    INVERTED puts FLOOR at the top: a rank, where 1 is best, reads as "higher is better".
    """
    left, top, right, bottom = 48, 16, width - 32, height - 40  # room for the last date's label
    ceiling = max(ceiling, max(values, default=0), floor + 1)
    count = len(values)
    step = (right - left) / (count - 1) if count > 1 else 0.0

    def x(index: int) -> float:
        return round(left + index * step if count > 1 else (left + right) / 2, 1)

    def y(value: float) -> float:
        share = (value - floor) / (ceiling - floor)
        return round(top + (bottom - top) * share if inverted else bottom - (bottom - top) * share, 1)

    points = [(x(i), y(v), labels[i], v) for i, v in enumerate(values)]
    ticks = sorted({floor, (floor + ceiling) // 2, ceiling})
    # At most about six dates under the axis, so they never overlap; the table below has every week.
    every = max(1, -(-count // 6))
    x_ticks = [(x(i), labels[i]) for i in range(0, count, every)]
    return LineChart(width, height, left, top, right, bottom, points,
                     " ".join(f"{px},{py}" for px, py, _, _ in points), [(y(t), t) for t in ticks], x_ticks,
                     ceiling, y(ceiling))


@dataclass
class Segment:
    key: str  # CSS class of the part
    label: str
    value: int
    x: float  # 0-100
    width: float


def stacked_bar(parts: Sequence[tuple[str, str, int]], total: int | None = None) -> list[Segment]:
    """One bar split into PARTS (key, label, value), each as wide as its share of TOTAL (default: their sum)."""
    whole = total if total is not None else sum(v for _, _, v in parts)
    segments, x = [], 0.0
    for key, label, value in parts:
        width = round(100.0 * value / whole, 2) if whole > 0 else 0.0
        segments.append(Segment(key, label, value, round(x, 2), width))
        x += width
    return segments
