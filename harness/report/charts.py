"""Loss curves as inline SVG: labelled axes (step, loss), a y axis from a sensible baseline.

The y axis starts at 0 when every loss is positive (a 5 % drop looks like one), else at the
lowest loss; the chart is drawn in a 480x200 viewBox that scales to the width of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.report.inputs import number


@dataclass
class Chart:
    """A loss curve, drawn as an inline SVG polyline."""

    device: str
    source: str  # "run": recorded by the check; "benchmark": from a pytest-benchmark file
    count: int
    first: float
    last: float
    low: float
    high: float
    points: str
    skipped: int  # non-finite values left out
    floor: float = 0.0  # the bottom of the y axis
    ceiling: float = 1.0  # the top of the y axis
    width: int = 480
    height: int = 200
    left: int = 58
    top: int = 12
    right: int = 14
    bottom: int = 36

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def y_ticks(self) -> list[tuple[float, str]]:
        """(y coordinate, label) of the y axis' ticks: its bottom, middle and top."""
        ticks = []
        for share in (0.0, 0.5, 1.0):
            value = self.floor + (self.ceiling - self.floor) * share
            ticks.append((self.top + self.plot_height * (1 - share), f"{value:.3g}"))
        return ticks

    @property
    def x_ticks(self) -> list[tuple[float, str]]:
        """(x coordinate, label) of the x axis' ticks: the first and last step (and the middle)."""
        ticks = [(float(self.left), "1")]
        if self.count >= 5:
            middle = (self.count + 1) // 2
            x = self.left + self.plot_width * (middle - 1) / (self.count - 1)
            ticks.append((x, str(middle)))
        if self.count > 1:
            ticks.append((float(self.left + self.plot_width), str(self.count)))
        return ticks

    @property
    def description(self) -> str:
        return (
            f"Loss on {self.device} over {self.count} steps: "
            f"{self.first:.4g} first, {self.last:.4g} last, {self.low:.4g} lowest"
        )


def loss_chart(device: str, losses: Sequence[Any], source: str) -> Chart | None:
    """The chart of ``losses`` (one per step); None when none is a finite number."""
    values = [v for v in (number(x) for x in losses) if v is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    floor = 0.0 if low >= 0 else low
    ceiling = high if high > floor else floor + 1.0
    chart = Chart(
        device=device,
        source=source,
        count=len(values),
        first=values[0],
        last=values[-1],
        low=low,
        high=high,
        points="",
        skipped=len(losses) - len(values),
        floor=floor,
        ceiling=ceiling,
    )
    span = ceiling - floor
    steps = max(len(values) - 1, 1)
    coordinates = []
    for index, value in enumerate(values):
        x = chart.left + chart.plot_width * index / steps
        y = chart.top + chart.plot_height * (ceiling - value) / span
        coordinates.append(f"{x:.1f},{y:.1f}")
    chart.points = " ".join(coordinates)
    return chart
