"""The window's file actions on configs and run folders: open and save a config, open a run
folder (dialog, Recent runs menu, drag and drop), show the current run's folder in the file
manager. Exports are in :mod:`sngan_gui.exports`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from core import config as config_mod
from core.presets import list_presets

from . import exporters, paths
from .app_settings import AppSettings


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


def dropped_folders(mime) -> list[Path]:
    """The local folders in a drag's or drop's data."""
    if not mime.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in mime.urls()
            if u.isLocalFile() and Path(u.toLocalFile()).is_dir()]


class WindowFiles:
    """File actions on what ``window`` shows (its ``cfg`` and ``run_dir``; a chosen config
    goes to its ``load_preset``, a run folder to ``window.compare.open_run``); ``settings``
    keeps the recent runs."""

    def __init__(self, window: QMainWindow, settings: AppSettings):
        self.window = window
        self.settings = settings
        self.recent_menu: QMenu | None = None

    # ------------------------------------------------------------------ configs
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
            self.window.exports.failed("Could not save the config", exc)
            return False
        self.window.statusBar().showMessage(f"config saved to {target}", 8000)
        return True

    # ------------------------------------------------------------------ run folders
    def open_run_folder(self) -> None:
        """Show the current run's folder in the file manager."""
        if self.window.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.window.run_dir)))

    def open_run_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open run folder",
                                                  str(paths.runs_dir()))
        if folder:
            self.window.compare.open_run(folder)

    def make_recent_menu(self, parent: QMenu) -> QMenu:
        self.recent_menu = QMenu("Recent runs", parent)
        self.recent_menu.setObjectName("recentRunsMenu")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        return self.recent_menu

    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_runs()
        for path in recent:
            menu.addAction(path.name, lambda p=path: self.window.compare.open_run(p)) \
                .setToolTip(str(path))
        if not recent:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear", self.settings.clear_recent_runs)

    def drag_enter(self, event) -> None:
        if dropped_folders(event.mimeData()):
            event.acceptProposedAction()

    def drop(self, event) -> None:
        folders = dropped_folders(event.mimeData())
        if folders:
            self.window.compare.open_runs(folders)
            event.acceptProposedAction()
