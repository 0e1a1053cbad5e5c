"""Rival figures as a horizontal bar chart, in SVG made on the server (no script, no external file).

The chart is an image with a title and a description naming every bar and its figure (its text
equivalent for screen readers); the page also shows the same figures as a table. Colours are
presentation attributes and classes, never ``style`` attributes, which the pages' Content Security
Policy forbids.
"""

from __future__ import annotations

import itertools
from html import escape

from markupsafe import Markup

WIDTH = 640
LABEL_WIDTH = 300
BAR_HEIGHT = 22
GAP = 8
_ids = itertools.count(1)


def svg(title: str, bars: list[tuple[str, str, float]]) -> Markup:
    """An SVG bar chart of ``bars`` (label, figure as reported, number), longest bar for the largest
    number; the figure as reported ("~11,000", "60+") is written at the end of each bar."""
    chart_id = f"chart-{next(_ids)}"
    largest = max((number for _, _, number in bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 90
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    description = "; ".join(f"{label}: {figure}" for label, figure, _ in bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    for index, (label, figure, number) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(2, round(room * max(number, 0) / largest))
        middle = y + BAR_HEIGHT / 2 + 5
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end" class="chart-label" fill="#1d232b" '
            f'font-size="13">{escape(_shorten(label))}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" class="bar bar-{index % 4}" '
            f'fill="{_COLOURS[index % 4]}"></rect>',
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" class="chart-figure" fill="#1d232b" '
            f'font-size="13" font-weight="bold">{escape(figure)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


_COLOURS = ("#7a1f2b", "#2b5d7a", "#5b6673", "#8a6d1f")


def _shorten(text: str, most: int = 38) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
