"""The frame every plot panel shares, the log axis and the plot style.

A panel is a framed widget with a title row (and its options) over a pyqtgraph widget that
carries the object name tests and exports use (``lossPlot``, ``sigmaPlot``, ...);
``export_item`` is the PlotItem handed to pyqtgraph's exporters. A panel draws one
:class:`sngan_gui.run_model.RunModel`: it names the kinds of data it shows
(:meth:`QtPlotPanel.data_kinds`) and :meth:`QtPlotPanel.refresh` redraws it only when one of
them has a new version; another run (or the same run continued, which counts as new) is drawn
on a panel reset first, so nothing of the run drawn before stays (curves, legend entries, the
info line). Curves are created once per run and only ``setData`` is called afterwards.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFrame, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

from core.figures import PlotSpec

from .. import theme
from ..live_text import QtElidedLabel, QtLiveText
from ..run_model import DataKind, RunModel


INFO_ROOM = "now: 1.00, 1.00, 1.0"  # the least of a panel's info line shown beside its title


def pen(color: str, width: float = 1.6, style=Qt.SolidLine):
    return pg.mkPen(QColor(color), width=width, style=style)


class QtPlotPanel(QFrame):
    """A titled frame around one plot, with room for options on the title row."""

    title = ""
    tooltip = ""
    name = ""          # object name of the plot widget

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("plotPanel")
        self.setFrameShape(QFrame.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(2)
        self.header = QHBoxLayout()
        self.header.setSpacing(6)
        # the title (naming the run shown, with several): a long label must not widen the window
        self.title_label = label = QtElidedLabel(self.title)
        label.setObjectName("panelTitle")
        label.setToolTip(self.tooltip)
        self.header.addWidget(label)
        self.info = QtLiveText("")  # changes at every redraw: repainted, never laid out
        self.info.setObjectName("panelInfo")
        # in a narrow panel the title gives way first: the numbers stay readable
        self.info.setMinimumWidth(self.info.fontMetrics().horizontalAdvance(INFO_ROOM))
        self.header.addWidget(self.info, 1)
        lay.addLayout(self.header)
        self.widget = self.make_widget()
        self.widget.setObjectName(self.name)
        self.widget.setToolTip(self.tooltip)
        lay.addWidget(self.widget, 1)
        self._drawn: tuple | None = None  # (run serial, versions) last drawn
        self._serial: int | None = None   # the run drawn since the last reset

    def make_widget(self) -> QWidget:
        return pg.PlotWidget(axisItems={"left": QtLogFriendlyAxis("left")})

    @property
    def export_item(self) -> pg.PlotItem:
        return self.widget.getPlotItem()

    # ------------------------------------------------------------------ drawing a run
    def data_kinds(self, model: RunModel) -> tuple[DataKind, ...]:
        """The kinds of the run's data this panel shows."""
        raise NotImplementedError

    def draw(self, model: RunModel) -> None:
        raise NotImplementedError

    def figure_spec(self) -> PlotSpec:
        """What this panel shows, as a panel of a report figure (:mod:`core.figures`)."""
        raise NotImplementedError

    def _key(self, model: RunModel) -> tuple:
        return (model.serial, model.versions(self.data_kinds(model)))

    def stale(self, model: RunModel) -> bool:
        return self._key(model) != self._drawn

    def refresh(self, model: RunModel) -> bool:
        """Draw ``model`` unless this panel shows its current data already; True if drawn."""
        key = self._key(model)
        if key == self._drawn:
            return False
        if model.serial != self._serial:
            self.reset()  # another run: start from an empty panel
            self._serial = model.serial
        self._drawn = key  # recorded when drawn, so an export in between cannot skip it
        self.draw(model)
        return True

    def invalidate(self) -> None:
        """Draw again at the next refresh (an option of the panel changed)."""
        self._drawn = None

    def reset(self) -> None:
        """Forget the drawn run and clear what it drew (a new run comes)."""
        self._drawn = None
        self._serial = None
        self.info.setText("")


# A steady range is redrawn around the data once they fill less than 1 / RANGE_SLACK of it.
# At 4 the 2D samples panel kept G's first wide spread long after G had contracted: on grid25
# the 25 modes filled 40 % of the width.
RANGE_SLACK = 2.0


def steady_range(current: tuple[float, float] | None, lo: float, hi: float,
                 min_span: float) -> tuple[float, float] | None:
    """A new axis range for data spanning [lo, hi], or None to keep ``current``: it moves only
    when the data leave it or fill less than 1 / RANGE_SLACK of it. pyqtgraph's auto-range
    moves it on every redraw, and each move re-renders the axis and its grid lines, which was
    most of the app's painting."""
    if not hi >= lo:
        return None
    span = max(hi - lo, min_span)
    if current is not None and current[0] <= lo and hi <= current[1] \
            and current[1] - current[0] <= RANGE_SLACK * span:
        return None
    mid = (lo + hi) / 2  # data narrower than min_span sit in the middle of it
    lo, hi = min(lo, mid - span / 2), max(hi, mid + span / 2)
    pad = 0.15 * span
    return lo - pad, hi + pad


def min_span(lo: float, hi: float, log: bool) -> float:
    """The narrowest y span a plot shows for data in [lo, hi]: a tenth of a decade on a log
    axis; on a linear one a thousandth of the values' size, so small real changes show, but
    for constant data (one point, a count that stays 0) a fifth of the value, or 1 around 0:
    a span of 1e-6 drew "(x1e-09)" ticks from -100 to 100 for a row of zeros."""
    if log:
        return 0.05
    if hi == lo:
        return 0.2 * abs(hi) if hi != 0 else 1.0
    return 1e-3 * max(abs(hi), abs(lo), 1e-3)


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= x."""
    k = 10 ** math.floor(math.log10(x))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= x)


# The step axis's bounds: fine enough that a finished run fills most of its plot (with 1, 2,
# 5 x 10^k a 2,000-step run was drawn on a 0-5,000 axis, 60 % of it empty), coarse enough that
# a growing run re-renders its axis only about a dozen times per decade.
STEP_AXIS_BOUNDS = (1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10)


def step_axis_ceiling(x: float) -> float:
    """The smallest of STEP_AXIS_BOUNDS x 10^k that is >= x."""
    k = 10 ** math.floor(math.log10(x))
    return next(m * k for m in STEP_AXIS_BOUNDS if m * k >= x * (1 - 1e-12))


class QtLogFriendlyAxis(pg.AxisItem):
    """An axis whose log-mode labels stay readable: when pyqtgraph would label every minor
    tick (2, 3, ..., 9 x 10^k), only the mantissas 1, 2 and 5 keep their text; when the range
    is too narrow for two of pyqtgraph's log ticks (sigma under SN: 0.99 to 1.12), the ticks
    are evenly spaced values (1, 1.05, 1.1) with enough digits to tell them apart, so a
    0.1 wobble is not read as a jump."""

    MAX_LABELS = 6
    MIN_TICKS = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # pyqtgraph drops a whole tick level once its text would fill more than 20% of the
        # axis with >= 6 labels, which on short panels hid every label below 1 (0.5, 0.2).
        self.setStyle(textFillLimits=[(0, 0.8), (2, 0.65), (4, 0.5), (6, 0.45)])
        self._linear_step: float | None = None  # set while the narrow-range ticks are in use

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        shown = sum(minVal <= v <= maxVal for _, values in ticks for v in values)
        self._linear_step = None
        if shown >= self.MIN_TICKS or not (math.isfinite(minVal) and math.isfinite(maxVal)):
            return ticks
        lo, hi = 10.0 ** minVal, 10.0 ** maxVal
        if not hi > lo:
            return ticks
        step = _nice_ceiling((hi - lo) / 4)
        first = math.ceil(lo / step) * step
        values = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
        self._linear_step = step
        return [(None, [math.log10(v) for v in values if v > 0])]

    def logTickStrings(self, values, scale, spacing):
        if self._linear_step is not None:
            places = max(0, math.ceil(-math.log10(self._linear_step) - 1e-9))
            return [f"{10.0 ** v * scale:.{places}f}" for v in values]
        strings = super().logTickStrings(values, scale, spacing)
        if sum(bool(s) for s in strings) <= self.MAX_LABELS:
            return strings
        out = []
        for v, text in zip(values, strings):
            mantissa = 10 ** (v - math.floor(v + 1e-9))
            keep = any(abs(mantissa - k) < 1e-3 * k for k in (1.0, 2.0, 5.0))
            out.append(text if keep else "")
        return out


def tick_font() -> QFont:
    """The axes' tick labels: a size smaller than the app's text."""
    font = QFont()
    font.setPointSize(9)
    return font


def _style_plot(p: pg.PlotItem, xlabel: str = "step", ylabel: str = "") -> None:
    p.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
    p.setLabel("bottom", xlabel)
    if ylabel:
        p.setLabel("left", ylabel)
    p.setMenuEnabled(True)
    for axis in ("bottom", "left"):
        item = p.getAxis(axis)
        item.setTickFont(tick_font())
        # With grid lines an axis's bounding rect covers the whole plot, so every curve update
        # repainted it (a QPicture replay per axis). Cached, it is a pixmap blit until
        # its range or size actually changes.
        item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
    p.getViewBox().setDefaultPadding(0.02)


