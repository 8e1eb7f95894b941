"""Every export the window offers, with its dialogs and one error path.

What is exported: one panel (PNG/SVG as on screen or in the report style, CSV; with two or
more runs shown a CSV has one column per run), the sample grid, everything at once (config,
metrics, events, every panel, the grid), and report figures of chosen panels. The writing
itself is in :mod:`sngan_gui.exporters` (as on screen, CSV) and :mod:`core.figures` (report
figures, from what each panel describes it shows); this module decides which, names the
default file, and reports the outcome in one place (:meth:`WindowExports.run`): "exported
PATH" only when the files were written, else a status line and a dialog naming the file and
the reason.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from core import config as config_mod
from core.figures import STYLES, export_figure, export_plot_report

from . import exporters, paths
from .app_settings import AppSettings
from .report.dialog import QtExportFigureDialog, FigureRequest


STYLE_NAMES = {"report": "report style: light, for papers",
               "screen": "as on screen: dark"}


def style_filters(fmt: str) -> dict[str, str]:
    """A file dialog's file types for a plot in each style: {filter text: style}."""
    return {f"{fmt.upper()}, {text} (*.{fmt})": style for style, text in STYLE_NAMES.items()}


class WindowExports:
    """Exports of what ``window`` shows (its ``area``, ``cfg``, ``run_dir``, ``step`` and the
    runs of ``window.compare``); ``settings`` keeps the export style."""

    def __init__(self, window: QMainWindow, settings: AppSettings):
        self.window = window
        self.settings = settings
        self.actions: dict[tuple[str, str], QAction] = {}
        self.report_style_action: QAction | None = None

    @property
    def panels(self):
        return self.window.area.panels

    @property
    def style(self) -> str:
        return self.settings.export_style

    def caption(self, name: str | None = None) -> str:
        """A caption naming the runs shown (panel ``name``'s: a snapshot panel shows the
        current run only) and how they differ."""
        runs = self.window.compare.runs
        if self.panels.get(name) in self.window.area.snapshot_panels:
            key = runs.find(source=self.window.compare.current)
            return runs.caption([key.key]) if key is not None else ""
        return runs.caption() if len(runs) else ""

    def _grid(self):
        samples = self.window.area.samples
        return samples.grid if samples.mode == "image" else None

    # ------------------------------------------------------------------ writing
    def plot(self, name: str, path: str | Path, style: str | None = None) -> Path:
        """One panel in ``style`` (default: the one the user chose last): "report" light, for
        papers, or "screen" dark as in the window; either way drawn by matplotlib
        (:mod:`core.figures`) with axis labels, a legend off the curves and an SVG any
        renderer draws alike (pyqtgraph's relied on non-scaling strokes that rsvg and
        ImageMagick drew ~150 px wide). A CSV of two or more runs has one column per run
        (and series)."""
        self.window.area.refresh_all()
        path = Path(path)
        panel = self.panels[name]
        suffix = path.suffix.lower()
        if suffix == ".csv" and len(self.window.compare.runs.visible()) >= 2:
            return exporters.export_plot_csv(panel.export_item, path)
        if suffix in (".png", ".svg", ".pdf"):
            return export_plot_report(panel.figure_spec(), path, caption=self.caption(name),
                                      style=STYLES[style or self.style])
        return exporters.export_plot(panel.export_item, path)

    def grid(self, path: str | Path) -> Path:
        self.window.area.refresh_all()
        grid = self._grid()
        if grid is not None:
            return exporters.save_grid_png(grid, path)
        return exporters.export_plot(self.window.area.samples.export_item, path)

    def everything(self, folder: str | Path) -> list[Path]:
        self.window.area.refresh_all()
        plots = {name: p.export_item for name, p in self.panels.items()}
        grid = self._grid()
        return exporters.export_all(folder, plots=plots, cfg=self.window.cfg,
                                    run_dir=self.window.run_dir, grid=grid,
                                    csv_skip=("samples",) if grid is not None else (),
                                    draw=self.plot)

    def figure(self, request: FigureRequest) -> list[Path]:
        self.window.area.refresh_all()
        specs = [self.panels[n].figure_spec() for n in request.panels]
        result = export_figure(specs, request.path, caption=request.caption,
                               style=STYLES[request.style], columns=request.columns,
                               formats=request.formats)
        return result.paths

    # ------------------------------------------------------------------ the one error path
    def run(self, fn: Callable[[], object], shown: object = None) -> bool:
        """Run an export; say "exported PATH" only when it wrote its files, else show why
        (status line and a dialog naming the path and the reason)."""
        try:
            out = fn()
        except Exception as exc:
            self.failed("Export failed", exc)
            return False
        if isinstance(out, (list, tuple)):
            out = ", ".join(str(p) for p in out)
        self.window.statusBar().showMessage(f"exported {shown or out}", 10000)
        return True

    def failed(self, title: str, exc: Exception) -> None:
        """Say that a file could not be written (status line and a dialog)."""
        text = str(exc) if isinstance(exc, (OSError, ValueError, config_mod.ConfigError)) \
            and str(exc) else f"{type(exc).__name__}: {exc}"
        self.window.statusBar().showMessage(f"{title.lower()}: {text}", 15000)
        QMessageBox.warning(self.window, title, text)

    # ------------------------------------------------------------------ dialogs
    def _default_dir(self) -> Path:
        return self.window.run_dir or paths.runs_dir()

    def plot_dialog(self, name: str, fmt: str) -> None:
        """Ask for the file; a PNG or SVG dialog offers both styles as its file types (the
        one chosen last first) and says which it writes."""
        styles = style_filters(fmt) if fmt in ("png", "svg") else {f"{fmt.upper()} (*.{fmt})": ""}
        first = next((f for f, s in styles.items() if s == self.style), next(iter(styles)))
        path, chosen = QFileDialog.getSaveFileName(
            self.window, f"Export {self.panels[name].title}",
            str(self._default_dir() / f"{name}.{fmt}"), ";;".join(styles), first)
        if not path:
            return
        style = styles.get(chosen) or self.style
        if styles.get(chosen):
            self.set_style(style)
        self.run(lambda: self.plot(name, path, style),
                 f"{path} ({STYLE_NAMES[style]})" if fmt != "csv" else None)

    def grid_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export sample grid", str(
            self._default_dir() / f"samples_step{self.window.step}.png"), "PNG (*.png)")
        if path:
            self.run(lambda: self.grid(path))

    def everything_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export all into folder",
                                                  str(self._default_dir()))
        if folder:
            target = Path(folder) / f"export-step{self.window.step}-{time.strftime('%H%M%S')}"
            self.run(lambda: self.everything(target), target)

    def figure_dialog(self) -> None:
        panels = [(n, p.title) for n, p in self.panels.items()]
        dlg = QtExportFigureDialog(panels, caption=self.caption(), style="report",
                                 path=self._default_dir() / "figure", parent=self.window,
                                 chosen=["samples", "loss", "lipschitz", "sigma"])
        if dlg.exec():
            self.run(lambda: self.figure(dlg.request()))

    # ------------------------------------------------------------------ menus
    def add_plot_menus(self, menu: QMenu, action) -> None:
        """One submenu per panel with an action per format (``action`` makes QActions)."""
        for name, panel in self.panels.items():
            sub = menu.addMenu(panel.title)
            for fmt in exporters.PLOT_FORMATS:
                act = action(fmt.upper() + "…",
                             lambda _=False, n=name, f=fmt: self.plot_dialog(n, f))
                sub.addAction(act)
                self.actions[(name, fmt)] = act

    def make_style_action(self, action) -> QAction:
        """The "Plots in report style" toggle, checked as the settings say."""
        act = action("Plots in report style", self._style_toggled, None,
                     "Export plots light, for papers (else as on screen)", "reportStyleAction")
        act.setCheckable(True)
        act.setChecked(self.style == "report")
        self.report_style_action = act
        return act

    def _style_toggled(self, on: bool) -> None:
        self.settings.export_style = "report" if on else "screen"

    def set_style(self, style: str) -> None:
        """The style the per-plot exports write from now on (the menu's tick follows)."""
        self.settings.export_style = style
        if self.report_style_action is not None:
            self.report_style_action.setChecked(style == "report")
