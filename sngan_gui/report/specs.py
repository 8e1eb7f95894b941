"""What an app panel shows, as the plain data of a report figure (``core.figures``): the
panels describe their own curves, markers and legend with these helpers, in the colours and
dash patterns of the screen."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.figures import LegendEntry, Line, Marker

QT_DASHES = {Qt.SolidLine: "solid", Qt.DashLine: "dash", Qt.DotLine: "dot",
             Qt.DashDotLine: "dashdot", Qt.DashDotDotLine: "dashdotdot"}


def color_hex(color) -> str:
    """A Qt colour (or anything QColor takes) as '#rrggbb', '#rrggbbaa' when translucent."""
    c = QColor(color)
    text = c.name()
    return text if c.alpha() == 255 else text + f"{c.alpha():02x}"


def dash_name(style: Qt.PenStyle) -> str:
    return QT_DASHES.get(style, "solid")


def curve_line(curve: pg.PlotDataItem) -> Line | None:
    """A panel's curve as drawn (before pyqtgraph's display downsampling); None when empty
    or hidden."""
    x, y = curve.getOriginalDataset()
    if not curve.isVisible() or x is None or not len(x):
        return None
    pen = pg.mkPen(curve.opts["pen"])
    return Line(np.asarray(x, dtype=float), np.asarray(y, dtype=float), curve.name() or "",
                color_hex(pen.color()), dash_name(pen.style()))


def curve_lines(curves) -> list[Line]:
    return [line for c in curves if (line := curve_line(c)) is not None]


def marker_of(line: pg.InfiniteLine) -> Marker:
    """An event marker: its step, its label and its colour."""
    text = line.label.toPlainText() if line.label is not None else ""
    return Marker(float(line.value()), text, color_hex(line.pen.color()))


def legend_entry(label: str, color, dash: Qt.PenStyle = Qt.SolidLine) -> LegendEntry:
    return LegendEntry(label, color_hex(color), dash_name(dash))
