"""Bar charts for the web pages: each label sits above its bar, so the chart reads at
390 px as well as on a desktop (the SVG scales to its container's width)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 400
VALUE_SPACE = 44
ROW = 44
LABEL_SIZE = 14
BAR_HEIGHT = 14


@dataclass(frozen=True)
class WebBar:
    key: str
    label: str
    value: int
    label_y: int
    bar_y: int
    width: float


@dataclass(frozen=True)
class WebChart:
    bars: list[WebBar]
    width: int
    height: int
    bar_height: int = BAR_HEIGHT


def web_chart(values: list[tuple[str, str, int]]) -> WebChart:
    """Bars for (key, label, value) triples, in the order given, one scale for all."""
    largest = max((value for _, _, value in values), default=0)
    unit = (WIDTH - VALUE_SPACE) / largest if largest else 0.0
    bars = [
        WebBar(
            key=key,
            label=label,
            value=value,
            label_y=n * ROW + LABEL_SIZE + 2,
            bar_y=n * ROW + LABEL_SIZE + 8,
            width=round(value * unit, 2),
        )
        for n, (key, label, value) in enumerate(values)
    ]
    return WebChart(bars=bars, width=WIDTH, height=len(bars) * ROW + 4)
