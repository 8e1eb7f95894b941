"""Several runs in one time-series plot: one curve per run and series, in the run's colour,
named after the run (so CSV and figure exports name it), and each run's event markers in its
colour.

A run's curves are told apart from another run's by colour; a run's series (D loss, G loss,
D(real), D(fake)) by dash pattern. The legend says it once: one line per run (its colour and
label) and, for a plot with several series per run, one per series (grey, its dash), instead
of runs x series lines. A panel keeps one :class:`RunOverlay`, calls :meth:`RunOverlay.curve`
for what it draws of each shown run, :meth:`RunOverlay.retain` with the runs still shown (the
curves and markers of the others go), then :meth:`RunOverlay.sync_legend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core.figures import short_label, short_labels

from .runs import RunEntry

SERIES_DASHES = (Qt.SolidLine, Qt.DashLine, Qt.DotLine, Qt.DashDotLine, Qt.DashDotDotLine)
SERIES_LEGEND_COLOR = "#8b919c"  # a series' legend line: its dash in a neutral grey
LINE_WIDTH = 1.6
MAX_MARKERS_PER_RUN = 100
LEGEND_COLUMNS_FROM = 7  # entries from which the legend uses two columns...
LEGEND_TWO_COLUMNS_PX = 360  # ...in a plot at least this wide...
LEGEND_WIDTH_SHARE = 0.8     # ...and when the two columns take at most this share of it
LEGEND_CHARS = 26  # a longer run label is shortened in the legend (curves keep it whole)


def legend_text(label: str) -> str:
    """``label`` as the on-screen legend shows it (``core.figures.short_label``)."""
    return short_label(label, LEGEND_CHARS)


def curve_name(run_label: str, series_label: str | None) -> str:
    """'D loss · spectral on' (a series of a run), or the run's label alone."""
    return f"{series_label} · {run_label}" if series_label else run_label


@dataclass
class _RunItems:
    curves: dict[str, pg.PlotDataItem] = field(default_factory=dict)
    markers: list[pg.InfiniteLine] = field(default_factory=list)
    marked: int = 0          # events marked so far
    color: str = ""


class RunOverlay:
    """The curves and markers of several runs in one PlotItem (see the module docstring)."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self._runs: dict[int, _RunItems] = {}
        self._legend_runs: dict[int, tuple[str, str, Qt.PenStyle]] = {}  # label, colour, dash
        self._legend_series: dict[str, tuple[str, Qt.PenStyle]] = {}     # label, dash
        self._legend_shown: tuple | None = None
        self._proxies: list[pg.PlotDataItem] = []

    # ----------------------------------------------------------------- curves
    def curve(self, run: RunEntry, series: str, x: np.ndarray, y: np.ndarray, *,
              series_label: str | None = None, dash_index: int = 0,
              width: float = LINE_WIDTH) -> pg.PlotDataItem:
        """Create or update the curve of ``series`` for ``run`` and give it its data."""
        items = self._runs.setdefault(run.key, _RunItems())
        name = curve_name(run.label, series_label)
        dash = SERIES_DASHES[dash_index % len(SERIES_DASHES)] if series_label else run.dash
        pen = pg.mkPen(run.pen_color, width=width, style=dash)
        c = items.curves.get(series)
        if c is None:
            c = pg.PlotDataItem([], [], name=name, pen=pen, connect="finite")
            self.plot.addItem(c)
            if self.plot.legend is not None:
                self.plot.legend.removeItem(c)  # the legend names runs and series once...
                if not series_label:  # ...or shows this run's only curve, under a short name
                    self.plot.legend.addItem(c, legend_text(name))
            items.curves[series] = c
        else:
            if c.name() != name:
                self._rename(c, name, in_legend=not series_label)
            if c.opts["pen"] != pen:
                c.setPen(pen)
        c.setData(x, y)
        color = run.pen_color.name()
        self._legend_runs[run.key] = (run.label, color, run.dash)
        if series_label:
            self._legend_series[series] = (series_label, dash)
        return c

    def sync_legend(self) -> None:
        """Show each run once (and each series once, when runs have several): call after
        drawing. Curves of runs with one series are in the legend themselves."""
        legend = self.plot.legend
        if legend is None:
            return
        runs, series = self._legend_lists()
        shown = (tuple(runs), tuple(series))
        if shown == self._legend_shown:
            return
        self._legend_shown = shown
        for proxy in self._proxies:
            legend.removeItem(proxy)
        self._proxies = []
        if series:
            texts = short_labels([label for label, _, _ in runs], LEGEND_CHARS)
            for (label, color, dash), text in zip(runs, texts):
                self._proxy(label, pg.mkPen(color, width=LINE_WIDTH + 1, style=dash), text)
            for label, dash in series:
                self._proxy(label, pg.mkPen(SERIES_LEGEND_COLOR, width=LINE_WIDTH, style=dash))
        self._legend_columns()

    def _legend_lists(self) -> tuple[list, list]:
        """(label, colour, dash) of each run and (label, dash) of each series, in order."""
        runs = [self._legend_runs[k] for k in self._runs if k in self._legend_runs]
        return runs, list(self._legend_series.values())

    def legend_entries(self) -> list[tuple[str, str, Qt.PenStyle]]:
        """The legend as shown, (label, colour, dash) per line: each run and each series once
        when runs have several series, else each run's curve."""
        runs, series = self._legend_lists()
        if series:
            return runs + [(label, SERIES_LEGEND_COLOR, dash) for label, dash in series]
        return [(c.name(), c.opts["pen"].color().name(), c.opts["pen"].style())
                for items in self._runs.values() for c in items.curves.values()]

    def marker_lines(self) -> list[pg.InfiniteLine]:
        return [line for items in self._runs.values() for line in items.markers]

    def _proxy(self, label: str, pen, text: str | None = None) -> None:
        proxy = pg.PlotDataItem([], [], pen=pen, name=label)  # in the legend, not the plot
        self.plot.legend.addItem(proxy, legend_text(label) if text is None else text)
        self._proxies.append(proxy)

    def curves(self, key: int) -> dict[str, pg.PlotDataItem]:
        items = self._runs.get(key)
        return dict(items.curves) if items else {}

    def run_keys(self) -> list[int]:
        return list(self._runs)

    def drop_series(self, key: int, keep: Iterable[str]) -> None:
        """Remove the run's curves whose series is not in ``keep`` (e.g. a layer that went)."""
        items = self._runs.get(key)
        if items is None:
            return
        keep = set(keep)
        for series in [s for s in items.curves if s not in keep]:
            self._remove_curve(items.curves.pop(series))
        drawn = {s for i in self._runs.values() for s in i.curves}
        for series in [s for s in self._legend_series if s not in drawn]:
            del self._legend_series[series]

    def _rename(self, c: pg.PlotDataItem, name: str, in_legend: bool = True) -> None:
        legend = self.plot.legend
        c.opts["name"] = name
        if legend is not None and in_legend:
            legend.removeItem(c)
            legend.addItem(c, legend_text(name))

    def _remove_curve(self, c: pg.PlotDataItem) -> None:
        self.plot.removeItem(c)  # also takes it out of the legend

    def _legend_columns(self) -> None:
        """Two columns for a long legend in a plot wide enough to hold them side by side."""
        legend = self.plot.legend
        if hasattr(legend, "fit"):  # a legend row above the plot fits its own columns
            legend.fit()
        elif legend is not None:
            n = len(legend.items)
            want = 2 if n >= LEGEND_COLUMNS_FROM and self.plot.width() >= LEGEND_TWO_COLUMNS_PX \
                else 1
            if legend.columnCount != want:
                legend.setColumnCount(want)
            if want == 2 and legend.boundingRect().width() > LEGEND_WIDTH_SHARE * self.plot.width():
                legend.setColumnCount(1)  # side by side they would cover the plot's width

    # ----------------------------------------------------------------- markers
    def markers(self, run: RunEntry, events: Sequence[tuple[float, str]],
                index: int = 0) -> list[pg.InfiniteLine]:
        """Mark the run's events (step, text) not marked yet, in the run's colour; a recoloured
        run's markers are recoloured. ``index`` staggers the labels of different runs."""
        items = self._runs.setdefault(run.key, _RunItems())
        color = run.pen_color
        if items.color and items.color != color.name():
            for line in items.markers:
                self._style_marker(line, color)
        items.color = color.name()
        if len(events) < items.marked:  # the run's events were read again from the start
            self._clear_markers(items)
        for step, text in events[items.marked:]:
            line = pg.InfiniteLine(pos=step, angle=90, movable=False, label=text,
                                   labelOpts={"position": 0.93 - 0.07 * (index % 6),
                                              "fill": (27, 29, 35, 220), "movable": False})
            self._style_marker(line, color)
            line.setZValue(-5)
            self.plot.addItem(line, ignoreBounds=True)
            items.markers.append(line)
            if len(items.markers) > MAX_MARKERS_PER_RUN:
                self.plot.removeItem(items.markers.pop(0))
        items.marked = len(events)
        return list(items.markers)

    @staticmethod
    def _style_marker(line: pg.InfiniteLine, color: QColor) -> None:
        line.setPen(pg.mkPen(color, width=1.0, style=Qt.DashLine))
        if line.label is not None:
            line.label.setColor(color)

    def _clear_markers(self, items: _RunItems) -> None:
        for line in items.markers:
            self.plot.removeItem(line)
        items.markers.clear()
        items.marked = 0

    # ----------------------------------------------------------------- runs
    def remove(self, key: int) -> None:
        items = self._runs.pop(key, None)
        if items is None:
            return
        for c in items.curves.values():
            self._remove_curve(c)
        self._clear_markers(items)
        self._legend_runs.pop(key, None)
        if not self._runs:
            self._legend_series.clear()
        self.sync_legend()

    def retain(self, keys: Iterable[int]) -> None:
        """Keep only these runs' curves and markers."""
        keep = set(keys)
        for key in [k for k in self._runs if k not in keep]:
            self.remove(key)

    def clear(self) -> None:
        self.retain(())
