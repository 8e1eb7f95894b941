"""Draw the 2D data: paint points and strokes on the samples panel, clear them, load and save
them as CSV, and use the drawing as the dataset (``data.dataset = "drawn"``, its points in
``data.drawn.points``, so a run folder's config.toml holds them; core/points.py).

A click adds a point; a drag adds points along the stroke every 2σ (``data.drawn.std``), so
the Gaussians of neighbouring points overlap and a stroke trains as one piece (one mode, see
``core.points.mode_labels``). While drawing, the landscape and samples stay visible below, so a
user can trace over them; the mouse paints instead of panning (the wheel still zooms).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseDragEvent
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QToolButton

from core.points import MAX_POINTS, PointsError, mode_labels, read_points_csv, write_points_csv

DRAW_COLOR = "#ffd166"
EMPTY_VIEW = (-4.0, 4.0)  # the canvas before any landscape is drawn


class DrawViewBox(pg.ViewBox):
    """A ViewBox whose left mouse button paints while ``painter`` is set (else it pans)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.painter: Callable[[float, float, bool], None] | None = None

    def _paint(self, ev, start: bool) -> bool:
        if self.painter is None or ev.button() != Qt.MouseButton.LeftButton:
            return False
        ev.accept()
        if start and isinstance(ev, MouseDragEvent):
            # a drag starts once the mouse has moved a few pixels: its stroke starts where
            # the button went down, not where the drag was recognised
            p = self.mapSceneToView(ev.buttonDownScenePos())
            self.painter(p.x(), p.y(), True)
            start = False
        p = self.mapSceneToView(ev.scenePos())
        self.painter(p.x(), p.y(), start)
        return True

    def mouseDragEvent(self, ev, axis=None):
        if not self._paint(ev, ev.isStart()):
            super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):
        if not self._paint(ev, True):
            super().mouseClickEvent(ev)


class QtDrawTool(QObject):
    """The draw mode of a samples panel: its header buttons, the drawn points and their
    scatter. ``used(points)`` asks for the drawing to become the dataset; ``message(text)``
    reports what happened (a refused file, a full drawing) in one line."""

    used = Signal(list)
    message = Signal(str)

    def __init__(self, plot: pg.PlotItem, header, parent=None):
        super().__init__(parent)
        self.plot = plot
        self.view: DrawViewBox = plot.getViewBox()
        self.points: list[list[float]] = []
        self.std = lambda: 0.05  # data.drawn.std of the form (connect_form)
        self.drawn_config = lambda: []  # the config's drawn points, to edit them again
        self.is_empty = lambda: True  # whether the panel shows nothing yet (its owner sets it)
        self.scatter = pg.ScatterPlotItem(size=6, pen=pg.mkPen("#1e2026", width=0.8),
                                          brush=pg.mkBrush(DRAW_COLOR))  # not in the legend
        self.scatter.setZValue(10)
        self.scatter.setVisible(False)
        plot.addItem(self.scatter)
        self.toggle = self._button("✎ Draw", "drawButton",
                                   "Draw the 2D data: click for a point, drag for a stroke "
                                   "(points every 2σ); then Use makes it the dataset (a new "
                                   "run). The drawing's separate pieces are its modes.")
        self.toggle.setCheckable(True)
        self.toggle.toggled.connect(self.set_drawing)
        self.count = QLabel("")
        self.count.setObjectName("drawCount")
        self.clear_button = self._button("Clear", "drawClear", "Remove every drawn point")
        self.load_button = self._button("Load…", "drawLoad", "Load points from a CSV file (x,y)")
        self.save_button = self._button("Save…", "drawSave", "Save the points as CSV (x,y)")
        self.use_button = self._button("Use", "drawUse",
                                       "Train on the drawing: data.dataset = drawn with these "
                                       "points (takes effect in a new run)")
        self.clear_button.clicked.connect(self.clear)
        self.load_button.clicked.connect(self._load_dialog)
        self.save_button.clicked.connect(self._save_dialog)
        self.use_button.clicked.connect(self.use)
        self.extras = (self.count, self.clear_button, self.load_button, self.save_button,
                       self.use_button)
        for w in (*self.extras, self.toggle):
            header.addWidget(w)
        self.set_drawing(False)

    def _button(self, text: str, name: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setObjectName(name)
        b.setToolTip(tip)
        return b

    def connect_form(self, form, use: Callable[[list], None], say: Callable[[str], None]) -> None:
        """Take σ and the current drawn points from a config form; ``use`` gets the points,
        ``say`` the one-line messages."""
        self.std = lambda: form.cfg.data.drawn.std
        self.drawn_config = lambda: form.cfg.data.drawn.points
        self.used.connect(use)
        self.message.connect(say)

    # ---------------------------------------------------------------- mode
    @property
    def drawing(self) -> bool:
        return self.view.painter is not None

    def set_drawing(self, on: bool) -> None:
        if self.toggle.isChecked() != on:
            self.toggle.setChecked(on)  # comes back here through toggled
            return
        self.view.painter = self.paint if on else None
        self.scatter.setVisible(on)
        for w in self.extras:
            w.setVisible(on)
        if on:
            if not self.points and self.drawn_config():
                self.points = [list(p) for p in self.drawn_config()]  # edit the config's
            if self.is_empty():
                self.plot.setRange(xRange=EMPTY_VIEW, yRange=EMPTY_VIEW, padding=0)
            self._redraw()

    # ---------------------------------------------------------------- painting
    def paint(self, x: float, y: float, start: bool) -> None:
        """Add the point (x, y): always at a stroke's start, else every 2σ along the stroke
        from the last point (filling a fast drag's gap)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        spacing = 2.0 * self.std()
        if start or not self.points:
            self._add([[x, y]])
            return
        x0, y0 = self.points[-1]
        dist = math.hypot(x - x0, y - y0)
        n = int(dist / spacing)
        if n:  # points k·spacing along the way, k = 1..n
            fractions = [k * spacing / dist for k in range(1, n + 1)]
            self._add([[x0 + (x - x0) * f, y0 + (y - y0) * f] for f in fractions])

    def add_points(self, points) -> None:
        """Add points as a script or test would paint them (each one a click)."""
        for x, y in points:
            self.paint(float(x), float(y), True)

    def _add(self, new: list[list[float]]) -> None:
        room = MAX_POINTS - len(self.points)
        if room <= 0:
            self.message.emit(f"the drawing has {MAX_POINTS} points, the most a dataset takes")
            return
        self.points.extend(new[:room])
        self._redraw()

    def clear(self) -> None:
        self.points = []
        self._redraw()

    def _redraw(self) -> None:
        pts = np.asarray(self.points, dtype=float).reshape(-1, 2)
        self.scatter.setData(pos=pts)
        if len(pts):
            modes = int(mode_labels(pts, self.std()).max()) + 1
            self.count.setText(f"{len(pts)} points · {modes} mode{'s' * (modes != 1)}")
        else:
            self.count.setText("click or drag to draw")
        self.use_button.setEnabled(bool(self.points))
        self.save_button.setEnabled(bool(self.points))

    # ---------------------------------------------------------------- files
    def load_csv(self, path: str | Path) -> bool:
        """Replace the drawing by a CSV file's points; a bad file is one line (``message``)."""
        try:
            self.points = read_points_csv(path)
        except PointsError as exc:
            self.message.emit(str(exc))
            return False
        self._redraw()
        return True

    def save_csv(self, path: str | Path) -> Path | None:
        try:
            return write_points_csv(path, self.points)
        except OSError as exc:
            self.message.emit(f"cannot write {path}: {exc.strerror or exc}")
            return None

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.toggle, "Load points", "", "CSV (*.csv)")
        if path:
            self.load_csv(path)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.toggle, "Save points", "drawing.csv",
                                              "CSV (*.csv)")
        if path and self.save_csv(path) is not None:
            self.message.emit(f"saved {len(self.points)} points to {path}")

    def use(self) -> None:
        """Ask for the drawing to become the dataset; leaves the draw mode."""
        if self.points:
            self.used.emit([list(p) for p in self.points])
            self.set_drawing(False)
