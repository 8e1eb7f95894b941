"""Panels that draw the run's latest probe snapshot: the normalized spectra, the weight
histogram, and the samples (image grid, or 2D points over the critic's landscape)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox

from core.contract import FastProbe, Landscape, SampleGrid
from core.figures import Arrows, Heatmap, Line, PlotSpec, Points

from .. import theme
from ..report.specs import color_hex, curve_lines
from ..run_model import DataKind, RunModel
from .base import QtPlotPanel, _style_plot, pen, steady_range, tick_font
from .legend_row import QtLegendRow
from .draw import DrawViewBox, QtDrawTool

FAKE_POINTS = 1000  # of the coverage samples, drawn over the landscape
# D(x)'s diverging colours, fading into the background so the points stay readable on top
HEAT_STOPS = ((0.0, "#3068a0"), (0.5, "#1e2026"), (1.0, "#a84634"))
HIST_FILL = (90, 169, 230, 90)


class QtSpectrumPanel(QtPlotPanel):
    title = "Spectrum σᵢ/σ₁"
    name = "spectrumPlot"
    tooltip = ("All singular values of each D layer's weight matrix divided by the largest one, "
               "as in the SN-GAN paper's figure. For conv layers the info line compares σ of the "
               "reshaped kernel with the true operator norm of the convolution.")

    def __init__(self, parent=None):
        super().__init__(parent)
        p = self.export_item
        _style_plot(p, "index i / rank", "σᵢ / σ₁")
        p.setYRange(0, 1.05)
        p.setXRange(0, 1)
        self.legend = QtLegendRow(p, labelTextSize="9pt")  # above the data, never over it
        self.curves: dict[str, pg.PlotDataItem] = {}

    def data_kinds(self, model: RunModel) -> tuple[DataKind, ...]:
        return (DataKind.SPECTRA, DataKind.FAST)  # spectra; the info line's conv norms

    def reset(self) -> None:
        super().reset()
        for c in self.curves.values():  # one per layer: another run has other layers
            self.export_item.removeItem(c)
        self.curves.clear()
        self.info.setToolTip("")

    def draw(self, model: RunModel) -> None:
        spectra, fast = model.snapshot.spectra, model.snapshot.fast
        if spectra is None:
            return
        for i, (name, s) in enumerate(spectra.singular_values.items()):
            s = np.asarray(s, dtype=float)
            if s.size == 0 or not np.isfinite(s[0]) or s[0] <= 0:
                continue
            c = self.curves.get(name)
            if c is None:
                c = self.export_item.plot([], [], name=name, pen=pen(theme.color(i)))
                self.curves[name] = c
            x = np.arange(s.size) / max(s.size - 1, 1)
            c.setData(x, s / s[0])
        text = f"step {spectra.step}"
        if fast is not None and fast.conv_norm:
            # the log line's fast probe, whose step may differ from the spectra's
            text += (f" · step {fast.step}: reshaped σ vs true conv norm: "
                     + ", ".join(f"{k} {fast.sigma.get(k, float('nan')):.3g}/{v:.3g}"
                                 for k, v in fast.conv_norm.items()))
        self.info.setText(text)
        self.info.setToolTip(text)

    def figure_spec(self) -> PlotSpec:
        return PlotSpec(title=self.title_label.text(), xlabel="index i / rank",
                        ylabel="σᵢ / σ₁", lines=curve_lines(self.curves.values()),
                        legend_loc="lower left")


class QtHistogramPanel(QtPlotPanel):
    title = "Weights"
    name = "histogramPlot"
    tooltip = "Distribution of the effective weights (after constraints) of the chosen D layer."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer = QComboBox()
        self.layer.setObjectName("histLayerCombo")
        self.layer.setToolTip("D layer whose weights are shown")
        self.layer.setMinimumContentsLength(8)
        self._chosen = ""  # the layer the user picked
        self.layer.currentTextChanged.connect(self._layer_changed)
        self.header.addWidget(self.layer)
        p = self.export_item
        _style_plot(p, "weight", "count")
        self.curve = p.plot([], [], name="count", stepMode="center", fillLevel=0,
                            pen=pen(theme.ACCENT, 1.2), brush=pg.mkBrush(*HIST_FILL))
        self._hist: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # Steady ranges, as the curve panels': auto-range moved both axes at every snapshot,
        # re-rendering them and their grid lines (most of this panel's painting).
        p.enableAutoRange(False)
        self._x_range: tuple[float, float] | None = None
        self._y_range: tuple[float, float] | None = None

    def data_kinds(self, model: RunModel) -> tuple[DataKind, ...]:
        return (DataKind.SPECTRA,)

    def reset(self) -> None:
        super().reset()
        self._hist = {}
        self._x_range = self._y_range = None
        self.curve.setData([], [])
        self.set_layers([])  # another run's D may name its layers otherwise
        self.export_item.setRange(xRange=(-1, 1), yRange=(0, 1), padding=0)  # not its scale

    def set_layers(self, layers: list[str]) -> None:
        """Offer these layers; the one the user chose last stays chosen where it exists."""
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(layers)
        if self._chosen in layers:
            self.layer.setCurrentText(self._chosen)
        self.layer.blockSignals(False)

    def draw(self, model: RunModel) -> None:
        spectra = model.snapshot.spectra
        if spectra is None or not spectra.histograms:
            return
        hist = spectra.histograms
        self._hist = {name: (h.counts, h.edges) for name, h in hist.items()}
        self.info.setText(f"step {spectra.step}")
        if [self.layer.itemText(i) for i in range(self.layer.count())] != list(hist):
            self.set_layers(list(hist))  # the layers by name: another D has other names
        self._redraw()

    def _layer_changed(self, *_) -> None:
        self._chosen = self.layer.currentText()
        self._x_range = self._y_range = None  # another layer's weights: another scale
        self._redraw()

    def _redraw(self, *_):
        h = self._hist.get(self.layer.currentText())
        if h is None:
            return
        counts, edges = h
        self.curve.setData(edges, counts)
        self._fit(np.asarray(edges, dtype=float), np.asarray(counts, dtype=float))

    def figure_spec(self) -> PlotSpec:
        layer = self.layer.currentText()
        h = self._hist.get(layer)
        lines = []
        if h is not None:
            counts, edges = (np.asarray(a, dtype=float) for a in h)
            lines.append(Line(edges[:-1], counts, color=theme.ACCENT, edges=edges,
                              fill=color_hex(pg.mkColor(*HIST_FILL))))
        run = self.title_label.text()[len(self.title):]  # " · the run shown", with several
        return PlotSpec(title=f"{self.title} · {layer}{run}" if layer else self.title + run,
                        xlabel="weight", ylabel="count", lines=lines, legend=[])

    def _fit(self, edges: np.ndarray, counts: np.ndarray) -> None:
        """Keep every bin in view, moving the axes only when needed (see ``steady_range``);
        counts start at 0."""
        if not edges.size or not counts.size:
            return
        lo, hi = float(edges[0]), float(edges[-1])
        x = steady_range(self._x_range, lo, hi, 1e-6 * max(abs(lo), abs(hi), 1e-6))
        if x is not None:
            self._x_range = x
            self.export_item.setXRange(*x, padding=0)
        y = steady_range(self._y_range, 0.0, float(counts.max()), 1.0)
        if y is not None:
            self._y_range = (0.0, y[1])
            self.export_item.setYRange(0.0, y[1], padding=0)


class QtSamplesPanel(QtPlotPanel):
    """Image grid from fixed noise, or for 2D data real/fake points over the critic heat map
    with gradient arrows on the fakes."""

    title = "Samples"
    name = "samplesView"
    tooltip = ("Images: G(z) for a fixed noise batch. 2D: real (blue) and generated (orange) "
               "points over D's value (heat map, its scale D(x) on the right); arrows show ∇ₓD "
               "at generated points, the direction G is pushed.")

    def data_kinds(self, model: RunModel) -> tuple[DataKind, ...]:
        if model.is_image:
            return (DataKind.SAMPLES,)
        # 2D: landscape + coverage, and the fast probe's gradient arrows
        return (DataKind.LANDSCAPE, DataKind.FAST)

    def make_widget(self):
        return pg.GraphicsLayoutWidget()

    @property
    def export_item(self) -> pg.PlotItem:
        return self.plot

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.widget.addPlot(viewBox=DrawViewBox())
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.plot.hideButtons()
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.heat_cmap = pg.ColorMap([p for p, _ in HEAT_STOPS], [c for _, c in HEAT_STOPS])
        self.real = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(theme.REAL_COLOR + "aa"),
                                       name="real")
        self.fake = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(theme.FAKE_COLOR + "dd"),
                                       name="generated")
        self.arrows = pg.PlotCurveItem(pen=pen("#ffffff", 1.0), connect="pairs", name="grad D")
        for item in (self.real, self.fake, self.arrows):
            self.plot.addItem(item)
        self.legend = self.plot.addLegend(offset=(8, 8), labelTextSize="9pt",
                                          brush=pg.mkBrush(27, 29, 35, 200))
        self.legend.addItem(self.real, "real")
        self.legend.addItem(self.fake, "generated")
        # The heat map's scale (2D data). Its levels move in jumps, as the axes do, so a colour
        # keeps its value from one landscape to the next and the bar is rarely redrawn.
        self.colorbar = pg.ColorBarItem(colorMap=self.heat_cmap, label="D(x)", width=10,
                                        interactive=False, colorMapMenu=False)
        self.colorbar.setObjectName("heatScale")
        self.colorbar.axis.setTickFont(tick_font())
        self.plot.layout.addItem(self.colorbar, 2, 5)
        self.plot.layout.setColumnFixedWidth(4, 5)  # a gap between the plot and the bar
        self._levels: tuple[float, float] | None = None
        self.mode = None
        self.grid: np.ndarray | None = None
        self._heat: tuple[np.ndarray, tuple] | None = None  # 2D: (critic values, extent) drawn
        self._arrows: tuple[np.ndarray, np.ndarray] | None = None  # (tails, vectors) drawn
        self._view: tuple = (None, None)  # 2D: (x range, y range) shown
        self.draw_tool = QtDrawTool(self.plot, self.header, self)  # draw the 2D data
        self.draw_tool.is_empty = lambda: self._view[0] is None
        self._set_mode("2d")

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        self._view = (None, None)
        self.plot.enableAutoRange()
        image = mode == "image"
        for item in (self.real, self.fake, self.arrows):
            item.setVisible(not image)
        self.legend.setVisible(not image)
        self.colorbar.setVisible(not image)
        self.draw_tool.toggle.setVisible(not image)
        if image:
            self.draw_tool.set_drawing(False)
        self.plot.showAxis("left", not image)
        self.plot.showAxis("bottom", not image)
        if image:
            self.plot.invertY(True)
            self.image.setLookupTable(None)
        else:
            self.plot.invertY(False)
            self.image.setLookupTable(self.heat_cmap.getLookupTable(nPts=256))

    def reset(self) -> None:
        super().reset()
        self.image.clear()
        self.real.clear()
        self.fake.clear()
        self.arrows.setData([], [])
        self.grid = None
        self._heat = self._arrows = None
        self.colorbar.setVisible(False)  # no heat map, no scale (another run's levels)
        self._view = (None, None)
        self._levels = None
        self.plot.enableAutoRange()
        self.info.setText("")

    def draw(self, model: RunModel) -> None:
        snap = model.snapshot
        if model.is_image:
            self._set_mode("image")  # no 2D axes over a run that has no grid yet
            if snap.samples is not None:
                self._draw_grid(snap.samples)
            return
        if snap.landscape is not None:
            self._draw_2d(snap.landscape, model.real_points, snap.fast, model.modes_total)

    def _keep_in_view(self, points: np.ndarray, extent) -> None:
        """The landscape and the generated points in view, the range moving in jumps (see
        steady_range)."""
        if self.draw_tool.drawing:
            return  # the canvas stays put under the pen
        finite = points[np.isfinite(points).all(1)]
        x0, x1, y0, y1 = extent
        if finite.size:
            lo, hi = finite.min(0).tolist(), finite.max(0).tolist()  # Python floats: float32
            x0, x1 = min(x0, lo[0]), max(x1, hi[0])  # scalars overflow in pyqtgraph's checks
            y0, y1 = min(y0, lo[1]), max(y1, hi[1])
        new = [steady_range(cur, lo, hi, 1e-3) for cur, lo, hi in
               ((self._view[0], x0, x1), (self._view[1], y0, y1))]
        if any(r is not None for r in new):
            self._view = tuple(r or cur for r, cur in zip(new, self._view))
            self.plot.setRange(xRange=self._view[0], yRange=self._view[1], padding=0)

    def _draw_grid(self, samples: SampleGrid) -> None:
        self._set_mode("image")
        self.grid = np.asarray(samples.pixels, dtype=np.uint8)
        self.image.setImage(self.grid, levels=(0, 255), autoLevels=False)
        self.image.setRect(0, 0, self.grid.shape[1], self.grid.shape[0])
        self.info.setText(f"fixed noise · step {samples.step}")

    def _draw_2d(self, land: Landscape, real: np.ndarray | None, fast: FastProbe | None,
                 modes_total: int | None) -> None:
        self._set_mode("2d")
        self.colorbar.setVisible(True)
        critic = np.asarray(land.values, dtype=np.float32)
        lo, hi = np.nanpercentile(critic, [2, 98]) if np.isfinite(critic).any() else (0, 1)
        levels = steady_range(self._levels, float(lo), float(hi),
                              1e-6 * max(abs(float(lo)), abs(float(hi)), 1.0))
        if levels is not None:
            self._levels = levels
            self.colorbar.setLevels(levels, update_items=False)
        self.image.setImage(critic, levels=self._levels, autoLevels=False)
        self._heat = (critic, tuple(land.extent))
        x0, x1, y0, y1 = land.extent
        self.image.setRect(x0, y0, x1 - x0, y1 - y0)
        if real is not None:
            self.real.setData(pos=real)
        fake = np.asarray(land.samples[:FAKE_POINTS])[:, :2]
        self.fake.setData(pos=fake)
        self._keep_in_view(fake, land.extent)
        if fast is not None and fast.arrows is not None and len(fast.arrows):
            a = np.asarray(fast.arrows, dtype=float)
            norm = np.linalg.norm(a[:, 2:4], axis=1)
            scale = 0.06 * (x1 - x0) / max(float(np.nanmax(norm)) if norm.size else 1.0, 1e-12)
            seg = np.empty((2 * len(a), 2))
            seg[0::2] = a[:, :2]
            seg[1::2] = a[:, :2] + scale * a[:, 2:4]
            self.arrows.setData(seg[:, 0], seg[:, 1])
            self._arrows = (seg[0::2], seg[1::2] - seg[0::2])
        modes = f"modes {land.modes}" + (f"/{modes_total}" if modes_total else "")
        self.info.setText(" · ".join([modes, f"high quality {100 * float(land.hq):.0f}%",
                                      f"step {land.step}"]))

    def figure_spec(self) -> PlotSpec:
        if self.mode == "image":
            return PlotSpec(title=self.title_label.text(), image=self.grid, axes=False, legend=[])
        spec = PlotSpec(title=self.title_label.text(), equal_aspect=True, legend_loc="below",
                        xlabel="x₁ (data)", ylabel="x₂ (data)")
        if self._heat is not None and self._levels is not None:
            values, extent = self._heat
            spec.heatmap = Heatmap(values, extent, self._levels, HEAT_STOPS, "D(x)")
        for item, name, color in ((self.real, "real", theme.REAL_COLOR),
                                  (self.fake, "generated", theme.FAKE_COLOR)):
            x, y = item.getData()
            if x is not None and len(x):
                spec.points.append(Points(np.column_stack([x, y]), name, color))
        if self._arrows is not None:
            spec.arrows = Arrows(*self._arrows, name="∇ₓD", color="#ffffff")
        return spec
