"""Colours for runs: one per run, told apart by everyone, on the dark screen and on paper.

The colours are Paul Tol's "bright" qualitative scheme (designed to stay distinct under the
common colour-vision deficiencies and in greyscale print); the two most different come first,
so an A/B comparison is blue against red. From the eighth run on, colours repeat with another
dash pattern. Report figures darken or lighten a colour just enough to keep a 3:1 contrast
with their background (``core.figures.readable_on``), so a report on white keeps the hue.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

# Paul Tol, "bright" (https://personal.sron.nl/~pault/): blue, red, green, yellow, cyan,
# purple, grey.
RUN_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
RUN_DASHES = (Qt.SolidLine, Qt.DashLine, Qt.DotLine, Qt.DashDotLine)


def run_style(index: int) -> tuple[QColor, Qt.PenStyle]:
    """The colour and dash pattern of the ``index``-th run style (0-based; cycles)."""
    n = len(RUN_COLORS)
    return QColor(RUN_COLORS[index % n]), RUN_DASHES[(index // n) % len(RUN_DASHES)]


def next_style_index(used: set[int] | list[int]) -> int:
    """The first style index not in ``used`` (a removed run frees its colour)."""
    used = set(used)
    i = 0
    while i in used:
        i += 1
    return i
