"""The window's file actions with their dialogs: exports (one plot, the sample grid, or
everything; the writing itself is in :mod:`sngan_gui.exporters`), opening and saving configs,
showing the run folder."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from core import config as config_mod
from core.presets import list_presets

from . import exporters, paths


def make_action(parent, text: str, slot, shortcut=None, tip: str = "", name: str = "") -> QAction:
    act = QAction(text, parent)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
    act.setToolTip(tip or text)
    act.setStatusTip(tip or text)
    if name:
        act.setObjectName(name)
    act.triggered.connect(slot)
    return act


class QtWindowFiles:
    """File actions on what ``window`` shows (its ``area``, ``cfg``, ``run_dir``, ``step``;
    a chosen config goes to its ``load_preset``)."""

    def __init__(self, window: QMainWindow):
        self.window = window
        self.actions: dict[tuple[str, str], QAction] = {}

    @property
    def panels(self):
        return self.window.area.panels

    def current_grid(self):
        samples = self.window.area.samples
        return samples.grid if samples.mode == "image" else None

    def plot(self, name: str, path: str | Path) -> Path:
        self.window.area.refresh_all()
        return exporters.export_plot(self.panels[name].export_item, path)

    def grid(self, path: str | Path) -> Path:
        self.window.area.refresh_all()
        grid = self.current_grid()
        if grid is not None:
            return exporters.save_grid_png(grid, path)
        return exporters.export_plot(self.window.area.samples.export_item, path)

    def everything(self, folder: str | Path) -> list[Path]:
        self.window.area.refresh_all()
        plots = {name: p.export_item for name, p in self.panels.items()}
        grid = self.current_grid()
        return exporters.export_all(folder, plots=plots, cfg=self.window.cfg,
                                    run_dir=self.window.run_dir, grid=grid,
                                    csv_skip=("samples",) if grid is not None else ())

    # ------------------------------------------------------------------ dialogs
    def add_plot_menus(self, menu: QMenu, action) -> None:
        """One submenu per panel with an action per format (``action`` makes QActions)."""
        for name, panel in self.panels.items():
            sub = menu.addMenu(panel.title)
            for fmt in exporters.PLOT_FORMATS:
                act = action(fmt.upper() + "…", lambda _=False, n=name, f=fmt: self.plot_dialog(n, f))
                sub.addAction(act)
                self.actions[(name, fmt)] = act

    def _default_dir(self) -> Path:
        return self.window.run_dir or paths.runs_dir()

    def plot_dialog(self, name: str, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {self.panels[name].title}",
                                              str(self._default_dir() / f"{name}.{fmt}"),
                                              f"{fmt.upper()} (*.{fmt})")
        if path:  # in the export style the user chose (report or as on screen)
            self._report(lambda: self.window.compare.export_plot(name, path))

    def grid_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export sample grid", str(
            self._default_dir() / f"samples_step{self.window.step}.png"), "PNG (*.png)")
        if path:
            self._report(lambda: self.grid(path))

    def everything_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export all into folder",
                                                  str(self._default_dir()))
        if folder:
            target = Path(folder) / f"export-step{self.window.step}-{time.strftime('%H%M%S')}"
            self._report(lambda: self.everything(target), target)

    def _report(self, fn, shown=None) -> bool:
        """Run an export; say "exported PATH" only when it wrote its files, else show why
        (status line and a dialog naming the path and the reason)."""
        try:
            out = fn()
        except Exception as exc:
            self._failed("Export failed", exc)
            return False
        self.window.statusBar().showMessage(f"exported {shown or out}", 8000)
        return True

    def _failed(self, title: str, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, (exporters.ExportError, config_mod.ConfigError)) \
            else f"{type(exc).__name__}: {exc}"
        self.window.statusBar().showMessage(f"{title.lower()}: {text}", 15000)
        QMessageBox.warning(self.window, title, text)

    # ------------------------------------------------------------------ configs, folders
    def open_config_dialog(self) -> None:
        start = next(iter(list_presets().values()), Path.cwd() / "x").parent
        path, _ = QFileDialog.getOpenFileName(self.window, "Open config", str(start),
                                              "TOML (*.toml)")
        if path:
            self.window.load_preset(path)

    def save_config_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save config", "config.toml",
                                              "TOML (*.toml)")
        if path:
            self.save_config(path)

    def save_config(self, path: str | Path) -> bool:
        """Save the current settings as TOML; a failure is shown (status and dialog naming
        the path and the reason), never raised."""
        try:
            target = exporters.writable_target(path)
            config_mod.save(self.window.cfg, target)
        except (OSError, config_mod.ConfigError) as exc:
            if not isinstance(exc, exporters.ExportError) and isinstance(exc, OSError):
                exc = exporters.ExportError(f"cannot write {path}: {exc.strerror or exc}")
            self._failed("Could not save the config", exc)
            return False
        self.window.statusBar().showMessage(f"config saved to {target}", 8000)
        return True

    def open_run_folder(self) -> None:
        if self.window.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.window.run_dir)))
