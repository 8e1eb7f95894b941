"""The filmstrip: every shown run's samples at one step, side by side (View > Filmstrip).

Each run (ticked in the run list) gets a cell: its label in its colour, the step of the samples
shown (the nearest one it has when it has none at the step asked for, said so), its quality
figures at that step from its metrics.jsonl (fd and classes; modes and hq for 2D data, with the
step they were measured at when it differs), and the samples: the image grid, or for 2D data
the samples and the critic landscape side by side. The slider steps through every step any
shown run has samples at; "Latest" follows the newest step every shown run has reached, as
runs train. "Export figure…" writes the same frames as one report figure (``core.filmstrip``,
``core.figures``) with a caption naming the runs, the step and what differs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSlider, QVBoxLayout, QWidget)

from core import filmstrip as film
from core.figures import STYLES, export_figure
from core.filmstrip import FilmFrame

from . import paths, theme
from .filmstrip_sources import FilmSources, LandscapeArchive
from .live_text import QtElidedLabel
from .panels.snapshots import FAKE_POINTS, HEAT_STOPS
from .report.dialog import FigureRequest, QtExportFigureDialog
from .report.specs import color_hex

REFRESH_MS = 300  # runs report many times a second: the cells are redrawn at most this often
NOTE_2D = ("2D runs: a run folder keeps no past landscape (only its last checkpoint's), so "
           "the steps offered are the landscapes this window saw while the run trained and "
           "the latest one.")


class QtFilmCell(QFrame):
    """One run's frame: label, step, quality figures, and its samples."""

    def __init__(self, two_d: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("filmCell")
        self.setFrameShape(QFrame.StyledPanel)
        self.two_d = two_d
        self.frame: FilmFrame | None = None
        self._shown: tuple | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(1)
        self.title = QtElidedLabel("")
        self.title.setObjectName("filmCellTitle")
        self.step = QLabel("")
        self.step.setObjectName("filmCellStep")
        self.figures = QLabel("")
        self.figures.setObjectName("filmCellFigures")
        self.figures.setStyleSheet("font-size: 11pt;")
        for label in (self.title, self.step, self.figures):
            lay.addWidget(label)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("filmCellView")
        lay.addWidget(self.view, 1)
        self.image = pg.ImageItem()
        if two_d:
            self.samples_plot = self.view.addPlot(title="samples")
            self.critic_plot = self.view.addPlot(title="critic D(x)")
            for p in (self.samples_plot, self.critic_plot):
                p.setAspectLocked(True)
                p.hideButtons()
                p.setMouseEnabled(False, False)
            self.real = pg.ScatterPlotItem(size=3, pen=None,
                                           brush=pg.mkBrush(theme.REAL_COLOR + "aa"))
            self.fake = pg.ScatterPlotItem(size=3, pen=None,
                                           brush=pg.mkBrush(theme.FAKE_COLOR + "dd"))
            self.samples_plot.addItem(self.real)
            self.samples_plot.addItem(self.fake)
            cmap = pg.ColorMap([p for p, _ in HEAT_STOPS], [c for _, c in HEAT_STOPS])
            self.image.setLookupTable(cmap.getLookupTable(nPts=256))
            self.critic_plot.addItem(self.image)
        else:
            box = self.view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
            box.addItem(self.image)
            self.box = box

    def show_frame(self, frame: FilmFrame) -> None:
        key = (frame.label, frame.color, frame.asked, frame.step, frame.quality_step,
               id(frame.pixels), id(frame.landscape), frame.figures())
        if key == self._shown:
            return  # the runs report many times a second: redraw only what changed
        self._shown = key
        self.frame = frame
        self.title.setText(frame.label)
        self.title.setToolTip(frame.label)
        self.title.setStyleSheet(f"color: {frame.color}; font-weight: bold; font-size: 11pt;")
        self.step.setText(frame.step_note())
        self.figures.setText(frame.figures())
        tip = ""
        if frame.quality is not None:
            tip = "\n".join(f"{k}: {v}" for k, v in frame.quality.items()
                            if k in ("step", "fd", "kid", "classes", "precision", "recall",
                                     "density", "coverage", "confidence", "modes", "hq",
                                     "quality_floor", "quality_ceiling", "quality_scorer"))
        self.figures.setToolTip(tip)
        if self.two_d:
            self._show_2d(frame)
        elif frame.pixels is None:
            self.image.clear()
        else:
            pixels = np.asarray(frame.pixels)
            if pixels.ndim == 3 and pixels.shape[2] == 1:
                pixels = pixels[..., 0]
            self.image.setImage(pixels, levels=(0, 255), autoLevels=False)
            self.box.autoRange(padding=0)

    def _show_2d(self, frame: FilmFrame) -> None:
        land = frame.landscape
        if frame.real is not None:
            self.real.setData(pos=np.asarray(frame.real))
        if land is None:
            self.fake.clear()
            self.image.clear()
            return
        self.fake.setData(pos=np.asarray(land.samples[:FAKE_POINTS])[:, :2])
        values = np.asarray(land.values, dtype=np.float32)
        finite = values[np.isfinite(values)]
        lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
        self.image.setImage(values, levels=(float(lo), float(max(hi, lo + 1e-6))),
                            autoLevels=False)
        x0, x1, y0, y1 = land.extent
        self.image.setRect(x0, y0, x1 - x0, y1 - y0)
        for p in (self.samples_plot, self.critic_plot):
            p.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)


class QtFilmstrip(QWidget):
    """The filmstrip window of ``window`` (a QtMainWindow): see the module docstring."""

    def __init__(self, window):
        super().__init__(window, Qt.Window)
        self.window_ = window
        self.setObjectName("filmstripWindow")
        self.setWindowTitle("Filmstrip — the shown runs' samples at one step")
        self.archive = LandscapeArchive()
        self.sources = FilmSources(self.archive)
        self.steps: list[int] = []   # every step a shown run has samples at
        self.asked: int | None = None
        self.frames: list[FilmFrame] = []
        self.cells: list[QtFilmCell] = []
        self._keys: tuple = ()
        manager = window.compare
        manager.runChanged.connect(self._run_changed)
        for signal in (manager.runs.added, manager.runs.removed, manager.runs.changed):
            signal.connect(lambda *_: self.schedule())
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        self.resize(1200, 640)
        window.installEventFilter(self)  # closes with the main window

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window_ and event.type() == QEvent.Close:
            self.close()
        return False

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Step"))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("filmstripSlider")
        self.slider.setToolTip("Every step a shown run saved samples at")
        self.slider.valueChanged.connect(self._slid)
        bar.addWidget(self.slider, 1)
        self.step_label = QLabel("")
        self.step_label.setObjectName("filmstripStep")
        self.step_label.setMinimumWidth(self.step_label.fontMetrics().horizontalAdvance(
            "step 1,000,000"))
        bar.addWidget(self.step_label)
        self.latest = QCheckBox("Latest")
        self.latest.setObjectName("filmstripLatest")
        self.latest.setToolTip("Follow the newest step every shown run has reached")
        self.latest.setChecked(True)
        self.latest.toggled.connect(lambda on: on and self.refresh())
        bar.addWidget(self.latest)
        self.export_button = QPushButton("Export figure…")
        self.export_button.setObjectName("filmstripExport")
        self.export_button.setToolTip("The frames as one report figure (PNG 300 dpi, PDF, SVG) "
                                      "with a caption naming the runs and the step")
        self.export_button.clicked.connect(self.export_dialog)
        bar.addWidget(self.export_button)
        lay.addLayout(bar)
        self.note = QLabel("")
        self.note.setObjectName("filmstripNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.MUTED};")
        lay.addWidget(self.note)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        lay.addLayout(self.grid, 1)

    # ------------------------------------------------------------------ following the runs
    def _run_changed(self, run) -> None:
        self.archive.note(run.model)
        self.schedule()

    def schedule(self) -> None:
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def shown_runs(self) -> list:
        """(entry, run) of each run ticked in the run list, in its order."""
        manager = self.window_.compare
        return [(e, e.source) for e in manager.runs.visible() if e.source is not None]

    def refresh(self) -> None:
        """Read what the shown runs have now and show them at the step asked for."""
        runs = self.shown_runs()
        per_run = [self.sources.steps(run.model, run.path) for _e, run in runs]
        self.steps = sorted(set().union(*per_run)) if per_run else []
        if self.latest.isChecked() or self.asked is None:
            self.asked = film.latest_common(per_run)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.steps) - 1))
        if self.asked is not None and self.steps:
            self.slider.setValue(self.steps.index(film.nearest_step(self.steps, self.asked)))
        self.slider.setEnabled(len(self.steps) > 1)
        self.slider.blockSignals(False)
        self.frames = [] if self.asked is None else [
            self.sources.frame(e.label, color_hex(e.pen_color), run.model, run.path,
                               self.asked, steps)
            for (e, run), steps in zip(runs, per_run)]
        self._show(runs)

    def _slid(self, index: int) -> None:
        if 0 <= index < len(self.steps):
            self.latest.setChecked(False)
            self.asked = self.steps[index]
            self.refresh()

    def show_step(self, step: int) -> None:
        """Show the runs at ``step`` (stops following the latest step)."""
        self.latest.setChecked(False)
        self.asked = step
        self.refresh()

    def _show(self, runs) -> None:
        keys = tuple((e.key, not run.model.is_image) for e, run in runs) if self.frames else ()
        if keys != self._keys:
            self._keys = keys
            for cell in self.cells:
                self.grid.removeWidget(cell)
                cell.deleteLater()
            self.cells = [QtFilmCell(two_d) for _key, two_d in keys]
            per_row = film.frame_columns(self.frames) // (2 if any(k[1] for k in keys) else 1) \
                if keys else 1
            for i, cell in enumerate(self.cells):
                self.grid.addWidget(cell, i // per_row, i % per_row)
        for cell, frame in zip(self.cells, self.frames):
            cell.show_frame(frame)
        self.step_label.setText("" if self.asked is None else f"step {self.asked:,}")
        self.export_button.setEnabled(bool(self.frames))
        notes = []
        if not runs:
            notes.append("No run is shown: tick runs in the run list.")
        elif not self.frames:
            notes.append("The shown runs have no samples yet.")
        if any(f.two_d for f in self.frames):
            notes.append(NOTE_2D)
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))

    # ------------------------------------------------------------------ export
    def caption(self, keys: list[int] | None = None, frames=None) -> str:
        runs = self.window_.compare.runs
        frames = self.frames if frames is None else frames
        keys = [e.key for e, _run in self.shown_runs()] if keys is None else keys
        return film.filmstrip_caption(frames, self.asked, runs.caption(keys) if keys else "")

    def figure(self, request: FigureRequest) -> list[Path]:
        """Write the chosen runs' frames as one figure (``request.panels``: their keys)."""
        chosen = {int(k) for k in request.panels}
        pairs = [(e.key, f) for (e, _run), f in zip(self.shown_runs(), self.frames)
                 if e.key in chosen]
        if not pairs:
            raise ValueError("no run chosen for the figure")
        frames = [f for _key, f in pairs]
        caption = request.caption
        if caption == self.caption() and len(frames) < len(self.frames):
            caption = self.caption([k for k, _f in pairs], frames)  # the chosen runs only
        specs = film.frame_specs(frames, heat_stops=HEAT_STOPS, real_color=theme.REAL_COLOR,
                                 fake_color=theme.FAKE_COLOR, fake_points=FAKE_POINTS)
        result = export_figure(specs, request.path, caption=caption,
                               style=film.figure_style(frames, STYLES[request.style]),
                               columns=film.frame_columns(frames, request.columns),
                               formats=request.formats)
        return result.paths

    def export_dialog(self) -> None:
        if not self.frames:
            return
        runs = self.shown_runs()
        folder = self.window_.run_dir or paths.runs_dir()
        dlg = QtExportFigureDialog([(str(e.key), e.label) for e, _run in runs],
                                   caption=self.caption(), style="report",
                                   path=Path(folder) / f"filmstrip_step{self.asked}",
                                   parent=self)
        dlg.setWindowTitle("Export filmstrip figure")
        form = dlg.layout()
        form.itemAt(0, QFormLayout.LabelRole).widget().setText("Runs")
        dlg.columns.setValue(min(3, film.frame_columns(self.frames)
                                 // (2 if any(f.two_d for f in self.frames) else 1)))
        dlg.columns.setToolTip("Runs per row")
        if dlg.exec():
            self.window_.exports.run(lambda: self.figure(dlg.request()))

    # ------------------------------------------------------------------ opening
    def open(self) -> None:
        """Show the filmstrip window (raised when it is open already)."""
        self.show()
        self.raise_()
        self.activateWindow()

    def open_export(self) -> None:
        self.open()
        self.refresh()
        self.export_dialog()
