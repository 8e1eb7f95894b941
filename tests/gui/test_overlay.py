"""Several runs overlaid in one plot: colours, names, markers, removal."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.config import Config
from sngan_gui.compare import QtRunCollection
from sngan_gui.compare.overlay import RunOverlay
from sngan_gui.exporters import plot_series


def _cfg(**values):
    cfg = Config()
    cfg.update({k.replace("__", "."): v for k, v in values.items()})
    return cfg


def _plot(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    plot = w.getPlotItem()
    plot.addLegend()
    return w, plot


def _legend_names(plot):
    return [label.text for _, label in plot.legend.items]


def test_two_runs_overlay_with_labels_colours_and_markers(qtbot):
    w, plot = _plot(qtbot)
    runs = QtRunCollection()
    a = runs.add(_cfg(constraints__spectral__enabled=True))
    b = runs.add(_cfg())
    overlay = RunOverlay(plot)
    x = np.arange(0, 100, 10.0)
    for i, key in enumerate((a, b)):
        e = runs.entry(key)
        overlay.curve(e, "loss_d", x, x * (i + 1), series_label="D loss", dash_index=0)
        overlay.curve(e, "loss_g", x, -x * (i + 1), series_label="G loss", dash_index=1)
        overlay.markers(e, [(20.0, "SN on")] if key == a else [], index=i)
    overlay.sync_legend()
    # the legend names each run once (its colour) and each series once (its dash)
    assert _legend_names(plot) == ["spectral on", "spectral off", "D loss", "G loss"]
    samples = {label.text: sample.item.opts["pen"] for sample, label in plot.legend.items}
    assert samples["spectral off"].color() == runs.entry(b).pen_color
    assert samples["G loss"].style() == Qt.DashLine
    ca, cb = overlay.curves(a), overlay.curves(b)
    assert ca["loss_d"].opts["pen"].color() == runs.entry(a).pen_color
    assert cb["loss_d"].opts["pen"].color() == runs.entry(b).pen_color
    assert ca["loss_g"].opts["pen"].style() == Qt.DashLine
    np.testing.assert_array_equal(cb["loss_d"].getOriginalDataset()[1], x * 2)
    marker, = [it for it in plot.items if isinstance(it, pg.InfiniteLine)]
    assert marker.value() == 20.0 and marker.pen.color() == runs.entry(a).pen_color
    # the curves carry run and series (the CSV of the plot: one column per run and series)
    assert [s.name for s in plot_series(plot)] == [
        "D loss · spectral on", "G loss · spectral on", "D loss · spectral off",
        "G loss · spectral off"]

    # renaming and recolouring restyle the same curves
    runs.rename(a, "SN")
    runs.recolour(a, "#00ff00")
    overlay.curve(runs.entry(a), "loss_d", x, x, series_label="D loss")
    overlay.markers(runs.entry(a), [(20.0, "SN on")])
    overlay.sync_legend()
    assert overlay.curves(a)["loss_d"] is ca["loss_d"] and ca["loss_d"].name() == "D loss · SN"
    assert _legend_names(plot) == ["SN", "spectral off", "D loss", "G loss"]
    assert ca["loss_d"].opts["pen"].color().name() == "#00ff00"
    assert marker.pen.color().name() == "#00ff00"
    assert len([it for it in plot.items if isinstance(it, pg.InfiniteLine)]) == 1  # not twice

    # removing a run leaves the other
    overlay.retain([b])
    assert overlay.run_keys() == [b]
    assert _legend_names(plot) == ["spectral off", "D loss", "G loss"]
    assert not [it for it in plot.items if isinstance(it, pg.InfiniteLine)]
    assert set(plot.items) == set(cb.values())


def test_one_series_per_run_is_named_by_the_run_and_dashed_by_its_style(qtbot):
    w, plot = _plot(qtbot)
    w.resize(700, 400)
    w.show()
    qtbot.waitExposed(w)
    runs = QtRunCollection()
    keys = [runs.add(_cfg(run__seed=i)) for i in range(9)]
    overlay = RunOverlay(plot)
    for k in keys:
        overlay.curve(runs.entry(k), "lip_bound", [0, 1], [1, 2])
    overlay.sync_legend()
    assert _legend_names(plot) == [f"seed {i}" for i in range(9)]
    assert plot.legend.columnCount == 2
    eighth = overlay.curves(keys[7])["lip_bound"].opts["pen"]
    assert eighth.style() == Qt.DashLine  # colours repeat after seven, dashed
    overlay.drop_series(keys[0], keep=[])
    assert overlay.curves(keys[0]) == {}
    overlay.clear()
    assert plot.legend.items == [] and plot.legend.columnCount == 1
