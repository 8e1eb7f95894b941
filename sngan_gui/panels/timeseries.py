"""Plots over training steps: losses, each layer's top singular value, Lipschitz estimates.

Each draws the run's metrics history and labels every applied change with a vertical marker.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSpinBox

from core.figures import PlotSpec

from .. import theme
from ..compare.overlay import RunOverlay
from ..compare.runs import RunEntry
from ..history import smooth
from ..report.specs import curve_lines, legend_entry, marker_of
from ..run_model import DataKind, RunModel, joined_marker_text, marker_text
from .legend_row import QtLegendRow
from .base import QtPlotPanel, _style_plot, min_span, pen, steady_range, step_axis_ceiling

MAX_MARKERS = 100
# A decimated history (a long run: more lines than the history keeps) is drawn as each
# bucket's min and max, a dense zig-zag; Qt strokes that 50-100x slower with an antialiased
# pen wider than one pixel (a 3,000-point curve: 1.4 s at 1.6 px, 17 ms at 1 px, this
# machine kind under load). Such curves get a 1 px pen.
DENSE_WIDTH = 1.0


def line_width(model: RunModel) -> float:
    from ..compare.overlay import LINE_WIDTH

    return DENSE_WIDTH if model.history.stride > 1 else LINE_WIDTH


def fit_pen(curve: pg.PlotDataItem, width: float) -> None:
    pen = curve.opts["pen"]
    if pen.widthF() != width:
        pen = pg.mkPen(pen)
        pen.setWidthF(width)
        curve.setPen(pen)


class QtTimeSeriesPanel(QtPlotPanel):
    """A plot over steps with named curves and labelled vertical event markers.

    The current run alone is drawn with the panel's own curves (``curves``, ``markers``).
    Other runs, or several (:meth:`refresh_runs`), are overlaid instead: each run's curves in
    its colour, named "series · run label", its markers in its colour (``overlay``, a
    :class:`~sngan_gui.compare.overlay.RunOverlay`).
    """

    log_y = False
    ylabel = ""  # the exported figure's y axis (the panel's title says it on screen)

    def __init__(self, parent=None):
        super().__init__(parent)
        p = self.export_item
        _style_plot(p)
        p.setDownsampling(auto=True, mode="peak")
        p.setClipToView(True)
        if self.log_y:
            p.setLogMode(y=True)
        # above the data, never over it (legend_row.py); legends rarely change: cached
        self.legend = QtLegendRow(p, labelTextSize="9pt")
        self.legend.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        self._events_marked: tuple[int, int] = (0, 0)  # (run serial, events marked)
        self._x_max: float | None = None
        self._y_range: tuple[float, float] | None = None  # in view units (log10 on log axes)
        p.enableAutoRange(y=False)  # fit_y moves it, in jumps
        self.overlay = RunOverlay(p)
        self.overlaid = False
        self._drawn_runs: tuple | None = None

    def data_kinds(self, model: RunModel) -> tuple[DataKind, ...]:
        return (DataKind.METRICS, DataKind.EVENTS)

    def grow_x(self, steps) -> None:
        """Extend the step axis in jumps (to the next STEP_AXIS_BOUNDS x 10^k at least 5 %
        ahead) instead of on every refresh, so the axes are re-rendered only a few times per
        run."""
        if not len(steps):
            return
        last = float(steps[-1])
        if self._x_max is not None and last <= self._x_max:
            return
        self._x_max = step_axis_ceiling(1.05 * max(last, 1.0))
        p = self.export_item
        p.enableAutoRange(x=False)
        p.setXRange(0, self._x_max, padding=0.02)

    def fit_y(self) -> None:
        """Keep every plotted value in view, moving the y range only when a value leaves it
        or it is far too wide: pyqtgraph's auto-range moved it on every redraw, and each move
        re-renders the axis and its grid lines, most of the app's painting."""
        lo, hi = np.inf, -np.inf
        drawn = ([c for k in self.overlay.run_keys() for c in self.overlay.curves(k).values()]
                 if self.overlaid else self.curves.values())
        for c in drawn:
            y = c.getData()[1]  # as displayed: log10 of the values on a log axis
            if y is None or not len(y):
                continue
            y = y[np.isfinite(y)]
            if y.size:
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
        new = steady_range(self._y_range, lo, hi, min_span(lo, hi, self.log_y))
        if new is not None:
            self._y_range = new
            self.export_item.setYRange(*new, padding=0)

    def curve(self, key: str, label: str, color: str, style=Qt.SolidLine) -> pg.PlotDataItem:
        c = self.curves.get(key)
        if c is None:
            c = self.export_item.plot([], [], name=label, pen=pen(color, style=style),
                                      connect="finite")
            self.curves[key] = c
        return c

    def sync_markers(self, model: RunModel) -> None:
        """Add a marker for each of the run's events not marked yet."""
        serial, done = self._events_marked
        if serial != model.serial:
            self._clear_markers()
            done = 0
        for event in model.events[done:]:
            self.add_marker(event.step, marker_text(event.change))
        self._events_marked = (model.serial, len(model.events))

    def add_marker(self, step: float, text: str) -> pg.InfiniteLine:
        if self.markers and self.markers[-1].value() == step:  # one marker per step
            line = self.markers[-1]
            line.texts.append(text)
            line.label.setFormat(joined_marker_text(line.texts))
            return line
        line = pg.InfiniteLine(
            pos=step, angle=90, movable=False,
            pen=pen(theme.MARKER_COLOR, 1.0, Qt.DashLine),
            label=text, labelOpts={"position": 0.93, "color": theme.MARKER_COLOR,
                                   "fill": (27, 29, 35, 220), "movable": False})
        line.texts = [text]
        line.setZValue(-5)
        self.export_item.addItem(line, ignoreBounds=True)
        self.markers.append(line)
        if len(self.markers) > MAX_MARKERS:
            self.export_item.removeItem(self.markers.pop(0))
        return line

    def _clear_markers(self) -> None:
        for line in self.markers:
            self.export_item.removeItem(line)
        self.markers.clear()

    def reset(self) -> None:
        super().reset()
        self._clear_markers()
        self._events_marked = (0, 0)
        for c in self.curves.values():
            c.setData([], [])
        self.drop_curves()
        self._x_max = None
        self._y_range = None
        self.export_item.enableAutoRange(x=True)
        self.overlay.clear()
        self._drawn_runs = None

    def drop_curves(self) -> None:
        """Remove the curves of the run drawn that a new run does not share (the panel's own
        series stay)."""

    def figure_spec(self) -> PlotSpec:
        """The curves, markers and legend as shown (a run alone, or several overlaid)."""
        if self.overlaid:
            overlay = self.overlay
            lines = curve_lines(c for k in overlay.run_keys() for c in overlay.curves(k).values())
            legend = [legend_entry(*e) for e in overlay.legend_entries()]
            markers = [marker_of(m) for m in overlay.marker_lines()]
        else:
            lines, legend = curve_lines(self.curves.values()), None
            markers = [marker_of(m) for m in self.markers]
        return PlotSpec(title=self.title, xlabel="generator step", ylabel=self.ylabel,
                        log_y=self.log_y, lines=lines, markers=markers, legend=legend)

    def invalidate(self) -> None:
        super().invalidate()
        self._drawn_runs = None

    # ------------------------------------------------------------------ several runs
    def refresh_runs(self, runs: list[tuple[RunEntry, RunModel]], named: bool = False) -> bool:
        """Draw these runs: the current run alone with the panel's own curves, other runs or
        several overlaid and named (``named``, or two or more); True if drawn."""
        if len(runs) < 2 and not named:
            self._set_overlaid(False)
            if not runs:
                if self._serial is not None:
                    self.reset()  # no run shown: an empty plot, not the last one drawn
                return False
            drawn = self.refresh(runs[0][1])
            self.sync_markers(runs[0][1])  # after a reset for a new run, not before
            return drawn
        self._set_overlaid(True)
        key = tuple((e.key, m.serial, m.versions(self.data_kinds(m)), e.label,
                     e.pen_color.name(), int(e.dash.value)) for e, m in runs)
        if key == self._drawn_runs:
            return False
        self._drawn_runs = key
        self.overlay.retain([e.key for e, _ in runs])
        last = 0.0
        for i, (entry, model) in enumerate(runs):
            self.draw_run(entry, model)
            self.overlay.markers(entry, [(ev.step, marker_text(ev.change)) for ev in model.events],
                                 index=i)
            if len(model.history):
                last = max(last, float(model.history.steps[-1]))
        self.overlay.sync_legend()
        self.grow_x([last])
        self.fit_y()
        return True

    def draw_run(self, entry: RunEntry, model: RunModel) -> None:
        """Draw one of several overlaid runs (through ``self.overlay``)."""
        raise NotImplementedError

    def _set_overlaid(self, on: bool) -> None:
        if on == self.overlaid:
            return
        self.overlaid = on
        legend = self.legend
        for key, c in self.curves.items():
            c.setVisible(not on)
            if on:
                legend.removeItem(c)
            else:
                legend.addItem(c, c.name())
        for line in self.markers:
            line.setVisible(not on)
        if not on:
            self.overlay.clear()
            self._drawn_runs = None
            self._drawn = None  # the single run is drawn again
        self._y_range = None  # other curves: fit the y range to them


class QtLossPanel(QtTimeSeriesPanel):
    title = "Losses"
    ylabel = "loss; mean D output"
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
        self.smoothing.valueChanged.connect(lambda _: self.invalidate())
        self.header.addWidget(self.smoothing)
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            col, label = theme.SERIES[key]
            self.curve(key, label, col, Qt.DashLine if key.startswith("d_") else Qt.SolidLine)

    def draw(self, model: RunModel) -> None:
        metrics = model.history
        x = metrics.steps
        w = self.smoothing.value()
        for key, c in self.curves.items():
            c.setData(x, smooth(metrics.column(key), w))
            fit_pen(c, line_width(model))
        self.grow_x(x)
        self.fit_y()

    def draw_run(self, entry: RunEntry, model: RunModel) -> None:
        metrics, w = model.history, self.smoothing.value()
        for i, key in enumerate(self.curves):
            self.overlay.curve(entry, key, metrics.steps, smooth(metrics.column(key), w),
                               series_label=theme.SERIES[key][1], dash_index=i,
                               width=line_width(model))


class QtSigmaPanel(QtTimeSeriesPanel):
    title = "Top σ per D layer"
    ylabel = "σ (largest singular value)"
    name = "sigmaPlot"
    log_y = True
    tooltip = ("σ(W) = max‖Wv‖/‖v‖ of each layer's effective weight as a matrix [out, in·k·k] "
               "(log axis). Spectral norm holds it at 1: W_SN = W / σ(W).")

    def drop_curves(self) -> None:
        for c in self.curves.values():  # one per layer: another run has other layers
            self.export_item.removeItem(c)
        self.curves.clear()

    def draw(self, model: RunModel) -> None:
        metrics = model.history
        x = metrics.steps
        for i, key in enumerate(sorted(metrics.columns_with_prefix("sigma."))):
            c = self.curve(key, key[len("sigma."):], theme.color(i))
            y = metrics.column(key)
            c.setData(x, np.where(y > 0, y, np.nan))
            fit_pen(c, line_width(model))
        self.grow_x(x)
        self.fit_y()
        last = {k[6:]: metrics.last(k) for k in metrics.columns_with_prefix("sigma.")}
        if last:
            self.info.setText("now: " + ", ".join(f"{v:.3g}" for v in last.values()))

    def draw_run(self, entry: RunEntry, model: RunModel) -> None:
        metrics = model.history
        keys = sorted(metrics.columns_with_prefix("sigma."))
        for i, key in enumerate(keys):
            y = metrics.column(key)
            self.overlay.curve(entry, key, metrics.steps, np.where(y > 0, y, np.nan),
                               series_label=key[len("sigma."):], dash_index=i,
                               width=line_width(model))
        self.overlay.drop_series(entry.key, keys)
        self.info.setText("")


class QtLipschitzPanel(QtTimeSeriesPanel):
    title = "Lipschitz constant of D"
    ylabel = "Lipschitz constant (‖∇ₓD‖ or bound)"
    name = "lipschitzPlot"
    log_y = True
    tooltip = ("Upper bound: product of the per-layer operator norms, Lip(D) ≤ Π σ(W_l).\n"
               "Empirical: the largest ‖∇ₓD(x)‖ seen on real, fake and interpolated points.\n"
               "Dashed: the mean ‖∇ₓD‖ on real–fake interpolates (what WGAN-GP pulls to 1) and "
               "near the data, at DRAGAN's perturbed real points (what DRAGAN pulls to 1).")
    SHORT = {"lip_bound": "bound", "lip_grad": "‖∇ₓD‖", "lip_grad_mean_interp": "‖∇D‖ interp",
             "lip_grad_mean_perturbed": "‖∇D‖ near data"}

    def __init__(self, parent=None):
        super().__init__(parent)
        for key in ("lip_bound", "lip_grad", "lip_grad_mean_interp", "lip_grad_mean_perturbed"):
            col, label = theme.SERIES[key]
            self.curve(key, label, col, Qt.DashLine if "mean" in key else Qt.SolidLine)

    def draw(self, model: RunModel) -> None:
        metrics = model.history
        for key, c in self.curves.items():
            y = metrics.column(key)
            c.setData(metrics.steps, np.where(y > 0, y, np.nan))
            fit_pen(c, line_width(model))
        self.grow_x(metrics.steps)
        self.fit_y()
        b, g = metrics.last("lip_bound"), metrics.last("lip_grad")
        parts = []
        if math.isfinite(b):
            parts.append(f"bound {b:.3g}")
        if math.isfinite(g):
            parts.append(f"‖∇D‖ {g:.3g}")
        if math.isfinite(b) and math.isfinite(g) and g > 0:
            parts.append(f"gap ×{b / g:.3g}")
        self.info.setText("   ".join(parts))

    def draw_run(self, entry: RunEntry, model: RunModel) -> None:
        metrics = model.history
        for i, key in enumerate(self.curves):
            y = metrics.column(key)
            self.overlay.curve(entry, key, metrics.steps, np.where(y > 0, y, np.nan),
                               series_label=self.SHORT[key], dash_index=i,
                               width=line_width(model))
        self.info.setText("")


