"""Geometry of the horizontal bar chart drawn as inline SVG in the HTML reports.

The template only places what is computed here, so a bar's length is always its count
times one scale, and each bar carries its count for whoever reads the SVG back.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 300  # agency names are long; they sit left of the bars
PLOT_WIDTH = 420
VALUE_WIDTH = 40
BAR_HEIGHT = 20
GAP = 8
TOP = 10


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def text_y(self) -> float:
        return self.y + self.height * 0.72


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: float
    height: float
    unit: float  # pixels per counted item
    label_x: float
    plot_x: float


def bar_chart(values: list[tuple[str, str, int]]) -> BarChart:
    """Bars for (key, label, value) triples, in the order given."""
    largest = max((value for _, _, value in values), default=0)
    unit = PLOT_WIDTH / largest if largest else 0.0
    bars = [
        Bar(
            key=key,
            label=label,
            value=value,
            x=LABEL_WIDTH,
            y=TOP + i * (BAR_HEIGHT + GAP),
            width=round(value * unit, 2),
            height=BAR_HEIGHT,
        )
        for i, (key, label, value) in enumerate(values)
    ]
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + GAP)
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=height,
        unit=round(unit, 4),
        label_x=LABEL_WIDTH - 8,
        plot_x=LABEL_WIDTH,
    )
