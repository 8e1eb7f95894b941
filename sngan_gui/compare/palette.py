"""Colours for runs: one per run, told apart by everyone, on the dark screen and on paper.

The colours are Paul Tol's "bright" qualitative scheme (designed to stay distinct under the
common colour-vision deficiencies and in greyscale print); the two most different come first,
so an A/B comparison is blue against red. From the eighth run on, colours repeat with another
dash pattern. :func:`readable_on` darkens or lightens a colour just enough to keep a 3:1
contrast with a background (WCAG's figure for graphics), so a report on white keeps the hue.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

# Paul Tol, "bright" (https://personal.sron.nl/~pault/): blue, red, green, yellow, cyan,
# purple, grey.
RUN_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
RUN_DASHES = (Qt.SolidLine, Qt.DashLine, Qt.DotLine, Qt.DashDotLine)
MIN_CONTRAST = 3.0


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


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG 2) of a colour, 0 (black) to 1 (white)."""
    r, g, b = (_linear(c) for c in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(color: QColor | str, background: QColor | str,
                minimum: float = MIN_CONTRAST) -> QColor:
    """``color``, moved towards black (on a light background) or white (on a dark one) in
    small steps until it has ``minimum`` contrast with ``background``; unchanged if it has."""
    c, bg = QColor(color), QColor(background)
    target = QColor("#000000") if luminance(bg) > 0.5 else QColor("#ffffff")
    out = QColor(c)
    for i in range(1, 21):
        if contrast(out, bg) >= minimum:
            break
        t = i / 20
        out = QColor.fromRgbF(c.redF() + (target.redF() - c.redF()) * t,
                              c.greenF() + (target.greenF() - c.greenF()) * t,
                              c.blueF() + (target.blueF() - c.blueF()) * t)
    out.setAlphaF(c.alphaF())
    return out
