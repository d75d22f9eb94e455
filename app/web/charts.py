"""Bar charts drawn on the server as SVG, so they need no script; a table always gives the figures."""

from dataclasses import dataclass

BAR_HEIGHT, GAP, LABEL_WIDTH, PLOT_WIDTH = 28, 12, 220, 420


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: int
    width: int

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 8


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one per label, scaled to the largest value."""

    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    plot_width: int = PLOT_WIDTH

    @property
    def width(self) -> int:
        return self.label_width + self.plot_width + 60


def bar_chart(figures: list[tuple[str, int]]) -> BarChart:
    """Lay out the bars; a zero gets no bar, only its figure."""
    top = max((value for _, value in figures), default=0) or 1
    bars = [
        Bar(label, value, i * (BAR_HEIGHT + GAP), round(PLOT_WIDTH * value / top))
        for i, (label, value) in enumerate(figures)
    ]
    return BarChart(bars, max(1, len(bars) * (BAR_HEIGHT + GAP)))
