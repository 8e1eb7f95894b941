"""The main window: builds the controls dock, the run list, the plot area, menus, toolbar and
status bar, and wires them to the run manager (``compare``, a :class:`QtRunManager`). The
controls, the status line and the banner show the *current* run (the one selected in the run
list, or the new run); they draw from its model and act on it through the manager's run
objects, whatever the run came from."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMessageBox

from core import config as config_mod
from core.config import Config, ConfigError
from core.contract import DownloadProgress
from core.presets import list_presets

from . import paths
from .app_settings import AppSettings
from .run_actions import RunActions
from .compare.manager import QtRunManager
from .compare.run import QtRun
from .compare.run_list import QtRunListDock
from .exports import WindowExports
from .files import WindowFiles
from .menus import build_menus
from .panels import QtPlotArea
from .panels.controls import QtConfigForm, QtControlsDock
from .panels.pause_at import ask_schedule
from .run_model import DataKind, RunModel, RunState, fault_text, status_parts
from .status_bar import QtRunStatusBar
from .worker import QtRunController, QtTrainingWorker

MESSAGE_MS = {"warning": 15000, "error": 10000}  # else 8000


SMALLEST_SCREEN = (1024, 600)  # below this the window keeps its size (Qt's offscreen 800x600)


def screen_fit(width: int, height: int) -> QSize:
    """This size, or the screen's free area where that is smaller (a saved layout, restored
    later, wins). A screen too small for the panels anyway leaves the size as it is."""
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        free = screen.availableGeometry()
        if free.width() >= SMALLEST_SCREEN[0] and free.height() >= SMALLEST_SCREEN[1]:
            width, height = min(width, free.width()), min(height, free.height())
    return QSize(width, height)


def frame_fit(window: QMainWindow) -> None:
    """Once shown (its frame known): shrink a window whose frame, title bar included, is
    larger than its screen's free area, and move it onto that area."""
    screen = window.screen()
    if screen is None or not window.isVisible():
        return
    free, frame = screen.availableGeometry(), window.frameGeometry()
    if free.width() < SMALLEST_SCREEN[0] or free.height() < SMALLEST_SCREEN[1]:
        return
    extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
    if frame.width() > free.width() or frame.height() > free.height():
        window.resize(min(window.width(), free.width() - extra_w),
                      min(window.height(), free.height() - extra_h))
    frame = window.frameGeometry()
    if not free.contains(frame):
        window.move(max(free.left(), min(frame.left(), free.right() - frame.width() + 1)),
                    max(free.top(), min(frame.top(), free.bottom() - frame.height() + 1)))


class QtMainWindow(QMainWindow):
    """Lipschitz Playground's main window. Build with :func:`sngan_gui.create_window`.

    About 310 lines: it builds the docks, plot area and status bar and wires each to the run
    manager (compare.manager), which owns the runs; what is left here is showing the current
    run and forwarding the controls' actions to it. Menus are menus.py, exports exports.py,
    files files.py."""

    stepChanged = Signal(int)  # the current run's step changed

    def __init__(self, cfg: Config, *, preset_path: str | Path | None = None,
                 torch_threads: int | None = None, settings: AppSettings | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Lipschitz Playground")
        self.resize(screen_fit(1440, 900))
        self.torch_threads = torch_threads
        self.settings = settings or AppSettings()
        self.form = QtConfigForm(cfg, self)
        self.compare = QtRunManager(cfg, self.settings, torch_threads=torch_threads, parent=self)
        self._status_shown: tuple | None = None
        self._step_shown = -1
        self._messages_shown: weakref.WeakKeyDictionary[RunModel, int] = \
            weakref.WeakKeyDictionary()

        self.area = QtPlotArea()
        self.setCentralWidget(self.area)
        self.panels, self.banner = self.area.panels, self.area.banner
        self.samples, self.loss, self.sigma = self.area.samples, self.area.loss, self.area.sigma
        self.lipschitz, self.spectrum = self.area.lipschitz, self.area.spectrum
        self.histogram = self.area.histogram
        self.area.show_runs(self.compare)
        self.area.cycled.connect(self._update_status_if_new)
        self.files = WindowFiles(self, self.settings)
        self.exports = WindowExports(self, self.settings)
        self._build_controls(preset_path)
        self._build_run_list()
        self.setAcceptDrops(True)
        build_menus(self)
        self._build_status()
        self.compare.currentChanged.connect(self._current_changed)
        self.compare.runChanged.connect(self._run_changed)
        self.compare.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self._shown_run: QtRun | None = None
        self._current_changed(self.compare.current)
        self.settings.restore_window(self)

    # ================================================================= the current run
    @property
    def current(self) -> QtRun:
        return self.compare.current

    @property
    def model(self) -> RunModel:
        return self.current.model

    @property
    def controller(self) -> QtRunController | None:
        return self.current.controller

    @property
    def run_dir(self) -> Path | None:
        return self.current.path

    @property
    def cfg(self) -> Config:
        return self.form.cfg

    @property
    def step(self) -> int:
        return self.model.step

    @property
    def worker_running(self) -> bool:
        """Whether the training loop last reported that it trains."""
        return self.model.state is RunState.RUNNING

    @property
    def metrics(self):
        return self.model.history

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.model.event_dicts()

    @property
    def restart_pending(self) -> set[str]:
        """Changed keys that take effect in a new run."""
        return self.form.pending

    @property
    def snapshot_panels(self) -> tuple:
        return self.area.snapshot_panels

    # ================================================================= building
    def _build_controls(self, preset_path) -> None:
        self.controls_dock = QtControlsDock(self.form, list_presets(), self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.controls_dock)
        self.run_panel = self.controls_dock.run_panel
        self.experiment_panel = self.controls_dock.experiment_panel
        self.preset_panel = self.controls_dock.preset_panel
        self.preset_panel.show_config(self.form.cfg, preset_path)
        self.preset_panel.presetChosen.connect(self.load_preset)
        self.form.changed.connect(self._on_form_changed)
        self.form.changed.connect(lambda *_: self.preset_panel.follow_edits(self.form.cfg))
        self.form.rejected.connect(
            lambda key, why: self.statusBar().showMessage(f"refused: {why}", 6000))
        self.run_panel.play.toggled.connect(self._on_play_toggled)
        self.run_panel.step.clicked.connect(self.step_once)
        self.run_panel.step_d.clicked.connect(lambda: self.step_net("D"))
        self.run_panel.step_g.clicked.connect(lambda: self.step_net("G"))
        self.area.samples.draw_tool.connect_form(
            self.form, self._use_drawing, lambda text: self.statusBar().showMessage(text, 8000))
        self.run_panel.reset.clicked.connect(self.reset_run)
        self.run_panel.pause_row.pauseAtChanged.connect(lambda n: self.current.set_pause_at(n))
        self.run_panel.pause_row.schedule.clicked.connect(self.schedule_dialog)
        self.run_panel.continue_run.clicked.connect(lambda: self.continue_run())
        self.run_panel.continue_cpu.clicked.connect(lambda: self.continue_run("cpu"))

    def _build_run_list(self) -> None:
        self.run_list = QtRunListDock(self.compare.runs, self, actions_of=self._actions_of)
        self.run_list.remove_runs_itself = False
        self.run_list.removeRequested.connect(self.compare.remove)
        self.run_list.actionRequested.connect(self.run_action)
        self.run_list.show_new_run(self.compare.draft is not None)
        self.compare.draftChanged.connect(self.run_list.show_new_run)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.run_list)

    def _build_status(self) -> None:
        self.setStatusBar(QtRunStatusBar())
        self.status_line = self.statusBar().status_line
        self.statusBar().cancel_button.clicked.connect(self.reset_run)

    # ================================================================= acting on runs
    def _actions_of(self, key: int) -> RunActions:
        return (self.current if key < 0 else self.compare.run(key)).actions()

    def run_action(self, key: int, name: str) -> None:
        """An action of the run list on a run (-1: the new run)."""
        run = self.current if key < 0 else self.compare.run(key)
        match name:
            case "play":
                run.play()
            case "pause":
                run.pause()
            case "step":
                run.step()
            case "continue" | "continue_cpu":
                if run.continue_from_checkpoint("cpu" if name == "continue_cpu" else None):
                    self.statusBar().showMessage("continuing from the last good checkpoint…",
                                                 8000)
            case "duplicate":
                self.duplicate_dialog(run)

    def ensure_run(self) -> QtTrainingWorker:
        """The current run's worker, starting the run (and its folder) if it has none."""
        return self.current.ensure_process()

    def play(self) -> None:
        self.run_panel.play.setChecked(True)

    def pause(self) -> None:
        self.run_panel.play.setChecked(False)

    def _on_play_toggled(self, on: bool) -> None:
        run = self.current
        if on:
            run.play()
        else:
            run.pause()
        self._update_status()

    def step_once(self) -> None:
        if self.run_panel.step.isEnabled() and not self.run_panel.play.isChecked():
            self.current.step()

    def step_net(self, net: str) -> None:
        """Step D / Step G: one update of that network alone, then paused."""
        if self.run_panel.step.isEnabled() and not self.run_panel.play.isChecked():
            self.current.step(net)

    def _use_drawing(self, points: list) -> None:
        """The drawing becomes the dataset (a new run: Reset, or Play before any run)."""
        try:
            self.form.set_values({"data.drawn.points": points, "data.dataset": "drawn"})
        except ConfigError as exc:
            self.statusBar().showMessage(f"refused: {exc}", 8000)
            return
        if self.controller is None:
            self.statusBar().showMessage(f"the drawing ({len(points)} points) is the data: "
                                         f"press Play to train on it", 8000)

    def continue_run(self, device: str | None = None) -> None:
        """After a divergence, a device failure or the training process's death: go on from
        the run's last good checkpoint, in the same run folder, with the settings the form
        shows now (on ``device`` when given, e.g. "cpu")."""
        self.run_action(-1, "continue_cpu" if device == "cpu" else "continue")

    def stop_run(self) -> None:
        """Stop the current run's training (its folder gets its final line and checkpoint)."""
        self.current.stop()

    def schedule_dialog(self) -> None:
        """Schedule a live change at a step of the current run (as ``train --change``)."""
        run = self.current
        if ask_schedule(self.cfg, self.step, self, run.schedule_change):
            self.statusBar().showMessage("change scheduled" + ("" if run.process else
                                         ": it is sent when the run starts"), 6000)

    def duplicate_dialog(self, run: QtRun | None = None) -> None:
        self.compare.duplicate_dialog(run)

    def reset_run(self) -> None:
        """A new run with the settings shown (the current one stops and stays listed)."""
        self.load_config(self.cfg)

    def load_config(self, cfg: Config, preset_path: str | Path | None = None) -> None:
        self.compare.new_run(cfg)
        if preset_path:
            self.preset_panel.set_preset(preset_path)
        self._update_status("ready: press Play to start a new run")

    def load_preset(self, path: str) -> None:
        try:
            cfg = config_mod.load(path)
        except ConfigError as exc:
            QMessageBox.warning(self, "Cannot load preset", str(exc))
            return
        self.load_config(cfg, path)

    def _on_form_changed(self, key: str, value: Any) -> None:
        run = self.current
        if not run.submit(key, value) and run.path is not None:
            self.form.mark_pending(key)
            self.statusBar().showMessage(f"{key} takes effect in a new run: press Reset", 6000)

    # ================================================================= showing the runs
    def _current_changed(self, run: QtRun) -> None:
        """Show another run: the controls edit its settings from now on."""
        old, self._shown_run = self._shown_run, run
        if old is not None:
            old.keep_settings(self.form.cfg)
        self.form.load(run.settings)
        self.preset_panel.follow_edits(self.form.cfg)  # "custom" when it is not the preset
        run.shown_by = lambda: self.form.cfg
        self.form.clear_pending()
        for key in run.pending:
            self.form.mark_pending(key)
        self.run_panel.pause_row.show_step(run.pause_step)
        self._update_status()

    def _run_changed(self, run: QtRun) -> None:
        self._show_messages(run)
        self.run_list.update_actions()
        if run is self.current:
            model = run.model
            if model.step != self._step_shown:
                self._step_shown = model.step
                self.stepChanged.emit(model.step)
            if run.pause_step is None:
                self.run_panel.pause_row.show_step(None)  # reached (or never set)
            playing = self.run_panel.play.isChecked()
            if model.state is not RunState.RUNNING or run.playing != playing:
                self._update_status()  # paused, stepped, stopped: show it at once

    def _show_messages(self, run: QtRun) -> None:
        """The latest of a run's messages not shown yet, in the status bar (named after the
        run when it is not the current one; the banner tells the current run's faults)."""
        model = run.model
        new = model.message_count - self._messages_shown.get(model, 0)
        self._messages_shown[model] = model.message_count
        if new <= 0 or not model.messages:
            return
        level, text = model.messages[-1]
        if run is self.current:
            if level != "error":
                self.statusBar().showMessage(text, MESSAGE_MS.get(level, 8000))
        else:
            self.statusBar().showMessage(f"{self.compare.label(run)}: {text}",
                                         MESSAGE_MS.get(level, 8000))

    # ================================================================= drawing
    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want the latest)."""
        self.area.refresh_all()

    def _update_status_if_new(self) -> None:
        if self._status_shown != (self.model.serial, self.model.version(DataKind.STATUS)):
            self._update_status()

    def _update_status(self, extra: str = "") -> None:
        """The current run's status line, buttons, banner and download progress."""
        run, model = self.current, self.model
        self._status_shown = (model.serial, model.version(DataKind.STATUS))
        parts = status_parts(model, self.cfg) + ([extra] if extra else [])
        self.statusBar().show_status(parts, run.path)
        self.run_panel.status.setText(parts[0] + "\n" + " · ".join(parts[1:]))
        self.run_panel.show_actions(run.actions(), run.playing)
        text = fault_text(model, run.path)
        self.area.show_banner("⚠ " + text if text else "")
        self.statusBar().show_download(model.download or DownloadProgress(None, None))

    # ================================================================= exports
    def export_plot(self, name: str, path: str | Path) -> Path:
        return self.exports.plot(name, path)

    def export_grid(self, path: str | Path) -> Path:
        return self.exports.grid(path)

    def export_all(self, folder: str | Path) -> list[Path]:
        return self.exports.everything(folder)

    def about(self) -> None:
        QMessageBox.about(self, "Lipschitz Playground",
                          "Train a small GAN and switch Lipschitz constraints on its "
                          "discriminator while it trains.\n\nRuns are saved in "
                          f"{paths.runs_dir()}")

    # ================================================================= closing
    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, lambda: frame_fit(self))

    def dragEnterEvent(self, event) -> None:
        self.files.drag_enter(event)

    def dropEvent(self, event) -> None:
        self.files.drop(event)

    def closeEvent(self, event) -> None:
        self.hide()  # gone at once; the training processes finish their run folders meanwhile
        self.area.stop()
        self.settings.save_window(self)
        self.settings.set_last_config(self.cfg, self.preset_panel.shown_path())
        self.compare.close()
        super().closeEvent(event)
