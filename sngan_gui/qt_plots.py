"""Plot panels, one class per plot. Curves are created once and only ``setData`` is called
afterwards, from the worker's snapshots (pyqtgraph PlotSpeedTest pattern).

Each panel is a framed widget with a title row (and its options) over a pyqtgraph widget that
carries the object name the tests and exports use (``lossPlot``, ``sigmaPlot``, ...).
``export_item`` is the PlotItem handed to pyqtgraph's exporters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QComboBox, QGraphicsItem, QSizePolicy, QFrame, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout,
                               QWidget)

from . import theme
from .history import History, smooth

MAX_MARKERS = 100


def _pen(color: str, width: float = 1.6, style=Qt.SolidLine):
    return pg.mkPen(QColor(color), width=width, style=style)


class QtPlotPanel(QFrame):
    """A titled frame around one plot, with room for options on the title row."""

    title = ""
    tooltip = ""
    name = ""          # object name of the plot widget
    # Snapshot entries that say when this panel's data was measured: while they stay the same,
    # a new snapshot holds nothing new for it and it is not redrawn (see snapshot_key).
    snapshot_keys: tuple[str, ...] = ()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("plotPanel")
        self.setFrameShape(QFrame.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(2)
        self.header = QHBoxLayout()
        self.header.setSpacing(6)
        label = QLabel(self.title)
        label.setObjectName("panelTitle")
        label.setToolTip(self.tooltip)
        self.header.addWidget(label)
        self.info = QLabel("")
        self.info.setObjectName("panelInfo")
        # long info lines are cut, never widen the window
        self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.header.addWidget(self.info, 1)
        lay.addLayout(self.header)
        self.widget = self.make_widget()
        self.widget.setObjectName(self.name)
        self.widget.setToolTip(self.tooltip)
        lay.addWidget(self.widget, 1)

    def make_widget(self) -> QWidget:
        w = pg.PlotWidget(axisItems={"left": QtLogFriendlyAxis("left")})
        return w

    @property
    def export_item(self) -> pg.PlotItem:
        return self.widget.getPlotItem()

    def reset(self) -> None:
        pass

    def snapshot_key(self, snap: dict[str, Any]) -> tuple | None:
        """What identifies this panel's data in ``snap`` (None: always redraw)."""
        return tuple(snap.get(k) for k in self.snapshot_keys) if self.snapshot_keys else None


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= x."""
    k = 10 ** math.floor(math.log10(x))
    return next(m * k for m in (1, 2, 5, 10) if m * k >= x)


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


def _style_plot(p: pg.PlotItem, xlabel: str = "step", ylabel: str = "") -> None:
    p.showGrid(x=True, y=True, alpha=theme.GRID_ALPHA)
    p.setLabel("bottom", xlabel)
    if ylabel:
        p.setLabel("left", ylabel)
    p.setMenuEnabled(True)
    font = QFont()
    font.setPointSize(9)
    for axis in ("bottom", "left"):
        item = p.getAxis(axis)
        item.setTickFont(font)
        # With grid lines an axis's bounding rect covers the whole plot, so every curve update
        # repainted it (QPicture replay, ~2 ms per axis). Cached, it is a pixmap blit until
        # its range or size actually changes.
        item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
    p.getViewBox().setDefaultPadding(0.02)


class QtTimeSeriesPanel(QtPlotPanel):
    """A plot over steps with named curves and labelled vertical event markers."""

    log_y = False

    def __init__(self, parent=None):
        super().__init__(parent)
        p = self.export_item
        _style_plot(p)
        p.setDownsampling(auto=True, mode="peak")
        p.setClipToView(True)
        if self.log_y:
            p.setLogMode(y=True)
        self.legend = p.addLegend(offset=(-8, 8), labelTextSize="9pt", brush=pg.mkBrush(27, 29, 35, 200))
        self.legend.setCacheMode(QGraphicsItem.DeviceCoordinateCache)  # legends rarely change
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        self._version = -1
        self._x_max: float | None = None

    def grow_x(self, steps) -> None:
        """Extend the step axis in jumps (to a 1/2/5 x 10^k bound 20% ahead) instead of on
        every refresh, so the axes are re-rendered only a few times per run."""
        if not len(steps):
            return
        last = float(steps[-1])
        if self._x_max is not None and last <= self._x_max:
            return
        self._x_max = _nice_ceiling(1.2 * max(last, 1.0))
        p = self.export_item
        p.enableAutoRange(x=False)
        p.setXRange(0, self._x_max, padding=0.02)

    def curve(self, key: str, label: str, color: str, style=Qt.SolidLine) -> pg.PlotDataItem:
        c = self.curves.get(key)
        if c is None:
            c = self.export_item.plot([], [], name=label, pen=_pen(color, style=style),
                                      connect="finite")
            self.curves[key] = c
        return c

    def add_marker(self, step: float, text: str) -> pg.InfiniteLine:
        line = pg.InfiniteLine(
            pos=step, angle=90, movable=False,
            pen=_pen(theme.MARKER_COLOR, 1.0, Qt.DashLine),
            label=text, labelOpts={"position": 0.93, "color": theme.MARKER_COLOR,
                                   "fill": (27, 29, 35, 220), "movable": False})
        line.setZValue(-5)
        self.export_item.addItem(line, ignoreBounds=True)
        self.markers.append(line)
        if len(self.markers) > MAX_MARKERS:
            self.export_item.removeItem(self.markers.pop(0))
        return line

    def reset(self) -> None:
        for line in self.markers:
            self.export_item.removeItem(line)
        self.markers.clear()
        for c in self.curves.values():
            c.setData([], [])
        self._version = -1
        self._x_max = None
        self.export_item.enableAutoRange(x=True)

    def refresh(self, metrics: History) -> None:
        raise NotImplementedError


class QtLossPanel(QtTimeSeriesPanel):
    title = "Losses"
    name = "lossPlot"
    tooltip = ("D and G loss (D loss includes any gradient penalty) and the mean raw D output on "
               "real and fake batches, averaged over each logging interval.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header.addWidget(QLabel("smoothing"))
        self.smoothing = QSpinBox()
        self.smoothing.setObjectName("smoothingSpin")
        self.smoothing.setRange(1, 200)
        self.smoothing.setValue(1)
        self.smoothing.setToolTip("Trailing moving average over this many logged points "
                                  "(1 = raw values). Exports hold the plotted values.")
        self.smoothing.valueChanged.connect(lambda _: setattr(self, "_version", -1))
        self.header.addWidget(self.smoothing)
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            col, label = theme.SERIES[key]
            self.curve(key, label, col, Qt.DashLine if key.startswith("d_") else Qt.SolidLine)

    def refresh(self, metrics: History) -> None:
        if metrics.version == self._version:
            return
        self._version = metrics.version
        x = metrics.steps
        w = self.smoothing.value()
        for key, c in self.curves.items():
            c.setData(x, smooth(metrics.column(key), w))
        self.grow_x(x)


class QtSigmaPanel(QtTimeSeriesPanel):
    title = "Top singular value per D layer"
    name = "sigmaPlot"
    log_y = True
    tooltip = ("σ(W) = max‖Wv‖/‖v‖ of each layer's effective weight as a matrix [out, in·k·k] "
               "(log axis). Spectral norm holds it at 1: W_SN = W / σ(W).")

    def refresh(self, metrics: History) -> None:
        if metrics.version == self._version:
            return
        self._version = metrics.version
        x = metrics.steps
        for i, key in enumerate(sorted(metrics.columns_with_prefix("sigma."))):
            c = self.curve(key, key[len("sigma."):], theme.color(i))
            y = metrics.column(key)
            c.setData(x, np.where(y > 0, y, np.nan))
        self.grow_x(x)
        last = {k[6:]: metrics.last(k) for k in metrics.columns_with_prefix("sigma.")}
        if last:
            self.info.setText("now: " + ", ".join(f"{v:.3g}" for v in last.values()))


class QtLipschitzPanel(QtTimeSeriesPanel):
    title = "Lipschitz constant of D"
    name = "lipschitzPlot"
    log_y = True
    tooltip = ("Upper bound: product of the per-layer operator norms, Lip(D) ≤ Π σ(W_l).\n"
               "Empirical: the largest ‖∇ₓD(x)‖ seen on real, fake and interpolated points.")

    def __init__(self, parent=None):
        super().__init__(parent)
        for key in ("lip_bound", "lip_grad"):
            col, label = theme.SERIES[key]
            self.curve(key, label, col)

    def refresh(self, metrics: History) -> None:
        if metrics.version == self._version:
            return
        self._version = metrics.version
        for key, c in self.curves.items():
            y = metrics.column(key)
            c.setData(metrics.steps, np.where(y > 0, y, np.nan))
        self.grow_x(metrics.steps)
        b, g = metrics.last("lip_bound"), metrics.last("lip_grad")
        parts = []
        if math.isfinite(b):
            parts.append(f"bound {b:.3g}")
        if math.isfinite(g):
            parts.append(f"‖∇D‖ {g:.3g}")
        if math.isfinite(b) and math.isfinite(g) and g > 0:
            parts.append(f"gap ×{b / g:.3g}")
        self.info.setText("   ".join(parts))


class QtSpectrumPanel(QtPlotPanel):
    title = "Normalized spectrum σᵢ/σ₁"
    name = "spectrumPlot"
    tooltip = ("All singular values of each D layer's weight matrix divided by the largest one, "
               "as in the SN-GAN paper's figure. For conv layers the info line compares σ of the "
               "reshaped kernel with the true operator norm of the convolution.")
    snapshot_keys = ("spectra_step", "fast_step")  # spectra; the info line's conv norms

    def __init__(self, parent=None):
        super().__init__(parent)
        p = self.export_item
        _style_plot(p, "index i / rank", "σᵢ / σ₁")
        p.setYRange(0, 1.05)
        p.setXRange(0, 1)
        self.legend = p.addLegend(offset=(10, -10), labelTextSize="9pt", brush=pg.mkBrush(27, 29, 35, 200))
        self.curves: dict[str, pg.PlotDataItem] = {}

    def reset(self) -> None:
        for c in self.curves.values():
            c.setData([], [])

    def update_snapshot(self, snap: dict[str, Any]) -> None:
        spectra = snap.get("spectra")
        if not spectra:
            return
        for i, (name, s) in enumerate(spectra.items()):
            s = np.asarray(s, dtype=float)
            if s.size == 0 or not np.isfinite(s[0]) or s[0] <= 0:
                continue
            c = self.curves.get(name)
            if c is None:
                c = self.export_item.plot([], [], name=name, pen=_pen(theme.color(i)))
                self.curves[name] = c
            x = np.arange(s.size) / max(s.size - 1, 1)
            c.setData(x, s / s[0])
        conv = snap.get("conv_norm") or {}
        sigma = snap.get("sigma") or {}
        text = f"step {snap.get('spectra_step', '?')}"
        if conv:  # the log line's fast probe, whose step may differ from the spectra's
            text += (f" · step {snap.get('fast_step', '?')}: reshaped σ vs true conv norm: "
                     + ", ".join(f"{k} {sigma.get(k, float('nan')):.3g}/{v:.3g}"
                                 for k, v in conv.items()))
        self.info.setText(text)
        self.info.setToolTip(text)


class QtHistogramPanel(QtPlotPanel):
    title = "Weight histogram"
    name = "histogramPlot"
    tooltip = "Distribution of the effective weights (after constraints) of the chosen D layer."
    snapshot_keys = ("spectra_step",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer = QComboBox()
        self.layer.setObjectName("histLayerCombo")
        self.layer.setToolTip("D layer whose weights are shown")
        self.layer.setMinimumContentsLength(8)
        self.layer.currentTextChanged.connect(self._redraw)
        self.header.addWidget(self.layer)
        # the layer box takes the header's room: keep "step N" readable beside it
        self.info.setMinimumWidth(self.info.fontMetrics().horizontalAdvance("step 0000000"))
        p = self.export_item
        _style_plot(p, "weight", "count")
        self.curve = p.plot([], [], name="count", stepMode="center", fillLevel=0,
                            pen=_pen(theme.ACCENT, 1.2), brush=pg.mkBrush(90, 169, 230, 90))
        self._hist: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def reset(self) -> None:
        self._hist = {}
        self.curve.setData([], [])

    def set_layers(self, layers: list[str]) -> None:
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(layers)
        if current in layers:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)

    def update_snapshot(self, snap: dict[str, Any]) -> None:
        hist = snap.get("hist")
        if not hist:
            return
        self._hist = hist
        self.info.setText(f"step {snap.get('spectra_step', '?')}")
        if self.layer.count() != len(hist):
            self.set_layers(list(hist))
        self._redraw()

    def _redraw(self, *_):
        h = self._hist.get(self.layer.currentText())
        if h is None:
            return
        counts, edges = h
        self.curve.setData(edges, counts)


class QtSamplesPanel(QtPlotPanel):
    """Image grid from fixed noise, or for 2D data real/fake points over the critic heat map
    with gradient arrows on the fakes."""

    title = "Samples"
    name = "samplesView"
    tooltip = ("Images: G(z) for a fixed noise batch. 2D: real (blue) and generated (orange) "
               "points over D's value (heat map); arrows show ∇ₓD at generated points, the "
               "direction G is pushed.")

    def snapshot_key(self, snap: dict[str, Any]) -> tuple | None:
        if snap.get("kind") == "image":
            return ("image", snap.get("sample_step"))
        # 2D: landscape + coverage, and the fast probe's gradient arrows
        return ("2d", snap.get("landscape_step"), snap.get("fast_step"))

    def make_widget(self):
        return pg.GraphicsLayoutWidget()

    @property
    def export_item(self) -> pg.PlotItem:
        return self.plot

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.widget.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.plot.hideButtons()
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        # Diverging map that fades into the background, so the points stay readable on top.
        self.heat_cmap = pg.ColorMap([0.0, 0.5, 1.0], [(48, 104, 160), (30, 32, 38), (168, 70, 52)])
        self.real = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(theme.REAL_COLOR + "aa"),
                                       name="real")
        self.fake = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(theme.FAKE_COLOR + "dd"),
                                       name="generated")
        self.arrows = pg.PlotCurveItem(pen=_pen("#ffffff", 1.0), connect="pairs", name="grad D")
        for item in (self.real, self.fake, self.arrows):
            self.plot.addItem(item)
        self.legend = self.plot.addLegend(offset=(8, 8), labelTextSize="9pt",
                                          brush=pg.mkBrush(27, 29, 35, 200))
        self.legend.addItem(self.real, "real")
        self.legend.addItem(self.fake, "generated")
        self.mode = None
        self.grid: np.ndarray | None = None
        self._set_mode("2d")

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        image = mode == "image"
        for item in (self.real, self.fake, self.arrows):
            item.setVisible(not image)
        self.legend.setVisible(not image)
        self.plot.showAxis("left", not image)
        self.plot.showAxis("bottom", not image)
        if image:
            self.plot.invertY(True)
            self.image.setLookupTable(None)
        else:
            self.plot.invertY(False)
            self.image.setLookupTable(self.heat_cmap.getLookupTable(nPts=256))

    def reset(self) -> None:
        self.image.clear()
        self.real.clear()
        self.fake.clear()
        self.arrows.setData([], [])
        self.grid = None
        self.info.setText("")

    def update_snapshot(self, snap: dict[str, Any]) -> None:
        grid = snap.get("grid")
        if grid is not None and snap.get("kind") == "image":
            self._set_mode("image")
            self.grid = np.asarray(grid, dtype=np.uint8)
            self.image.setImage(self.grid, levels=(0, 255), autoLevels=False)
            self.image.setRect(0, 0, self.grid.shape[1], self.grid.shape[0])
            self.info.setText(f"fixed noise · step {snap.get('sample_step', snap.get('step', '?'))}")
            return
        if snap.get("fake") is None:
            return
        self._set_mode("2d")
        extent = snap.get("extent")
        critic = snap.get("critic")
        if critic is not None and extent is not None:
            critic = np.asarray(critic, dtype=np.float32)
            lo, hi = np.nanpercentile(critic, [2, 98]) if np.isfinite(critic).any() else (0, 1)
            if hi <= lo:
                hi = lo + 1e-6
            self.image.setImage(critic, levels=(float(lo), float(hi)), autoLevels=False)
            x0, x1, y0, y1 = extent
            self.image.setRect(x0, y0, x1 - x0, y1 - y0)
        real, fake = snap.get("real"), snap.get("fake")
        if real is not None:
            self.real.setData(pos=np.asarray(real)[:, :2])
        self.fake.setData(pos=np.asarray(fake)[:, :2])
        arrows = snap.get("arrows")
        if arrows is not None and len(arrows):
            a = np.asarray(arrows, dtype=float)
            span = (extent[1] - extent[0]) if extent else 1.0
            norm = np.linalg.norm(a[:, 2:4], axis=1)
            scale = 0.06 * span / max(float(np.nanmax(norm)) if norm.size else 1.0, 1e-12)
            seg = np.empty((2 * len(a), 2))
            seg[0::2] = a[:, :2]
            seg[1::2] = a[:, :2] + scale * a[:, 2:4]
            self.arrows.setData(seg[:, 0], seg[:, 1])
        parts = []
        if snap.get("modes") is not None:
            total = snap.get("modes_total")
            parts.append(f"modes {snap['modes']}" + (f"/{total}" if total else ""))
        if snap.get("hq") is not None:
            parts.append(f"high quality {100 * float(snap['hq']):.0f}%")
        parts.append(f"step {snap.get('landscape_step', snap.get('step', '?'))}")
        self.info.setText(" · ".join(parts))
