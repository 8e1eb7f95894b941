"""The main window: builds the controls dock, the plot area, menus, toolbar and status bar, and
wires them to the current run (a :class:`RunModel` fed by a :class:`QtRunController`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

from core import config as config_mod
from core import contract
from core.contract import DownloadProgress
from core.config import Config, ConfigError, is_live
from core.presets import list_presets

from . import paths
from .app_settings import AppSettings
from .compare.manager import QtRunManager
from .exports import WindowExports
from .files import WindowFiles, make_action
from .panels import QtPlotArea
from .panels.controls import QtConfigForm, QtControlsDock
from .run_model import DataKind, Fault, RunModel, RunState, fault_text, status_parts
from .status_bar import QtRunStatusBar
from .worker import CLOSE_TERMINATE_AFTER, TERMINATE_AFTER, QtRunController, QtTrainingWorker


class QtMainWindow(QMainWindow):
    """Lipschitz Playground's main window. Build with :func:`sngan_gui.create_window`."""

    stepChanged = Signal(int)

    def __init__(self, cfg: Config, *, preset_path: str | Path | None = None,
                 torch_threads: int | None = None, settings: AppSettings | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Lipschitz Playground")
        self.resize(1440, 900)
        self.torch_threads = torch_threads
        self.form = QtConfigForm(cfg, self)
        self.model = RunModel(cfg)
        self.controller: QtRunController | None = None
        self.run_dir: Path | None = None
        self._retired: list[QtRunController] = []
        self._status_shown: tuple | None = None

        self.area = QtPlotArea()
        self.setCentralWidget(self.area)
        self.panels, self.banner = self.area.panels, self.area.banner
        self.samples, self.loss, self.sigma = self.area.samples, self.area.loss, self.area.sigma
        self.lipschitz, self.spectrum = self.area.lipschitz, self.area.spectrum
        self.histogram = self.area.histogram
        self.area.show_run(self.model)
        self.area.cycled.connect(self._update_status_if_new)
        self.settings = settings or AppSettings()
        self.files = WindowFiles(self, self.settings)
        self.exports = WindowExports(self, self.settings)
        self._build_controls(preset_path)
        self.compare = QtRunManager(self, self.settings)  # other runs, the run list, A/B, resume
        self.setAcceptDrops(True)
        self._build_actions()
        self._build_status()
        self._update_status()
        self.settings.restore_window(self)

    # ================================================================= the current run
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
        self.experiment_panel.set_preset(preset_path)
        self.experiment_panel.presetChosen.connect(self.load_preset)
        self.form.changed.connect(self._on_form_changed)
        self.form.rejected.connect(lambda key, why: self.statusBar().showMessage(f"refused: {why}", 6000))
        self.run_panel.play.toggled.connect(self._on_play_toggled)
        self.run_panel.step.clicked.connect(self.step_once)
        self.run_panel.reset.clicked.connect(self.reset_run)
        self.run_panel.continue_run.clicked.connect(lambda: self.continue_run())
        self.run_panel.continue_cpu.clicked.connect(lambda: self.continue_run("cpu"))

    def _build_actions(self) -> None:
        def a(*args):
            return make_action(self, *args)

        self.act_open = a("&Open config…", self.files.open_config_dialog, QKeySequence.Open,
                          "Load a TOML config (a new run starts on Play)")
        self.act_save_cfg = a("&Save config as…", self.files.save_config_dialog, QKeySequence.Save,
                              "Save the current settings as TOML")
        self.act_open_run = a("Open run &folder", self.files.open_run_folder, "Ctrl+Shift+O",
                              "Open this run's folder in the file manager")
        self.act_play = a("Play / Pause", self.run_panel.play.click, "Space",
                          "Start or pause training", "playAction")
        self.act_step = a("Step", self.step_once, "Ctrl+.", "One training step")
        self.act_reset = a("Reset", self.reset_run, "Ctrl+R", "New run with current settings")
        self.act_grid = a("Sample grid as PNG…", self.exports.grid_dialog, "Ctrl+E",
                          "Save the current samples as PNG", "exportGridAction")
        self.act_all = a("Export all…", self.exports.everything_dialog, "Ctrl+Shift+E",
                         "Config, metrics, events, every plot (PNG/SVG/CSV) and the grid",
                         "exportAllAction")
        mb = self.menuBar()
        filem = mb.addMenu("&File")
        filem.addAction(a("Open &run…", self.files.open_run_dialog, "Ctrl+Shift+R",
                          "Open a run folder: a finished run is shown, one being written is "
                          "followed", "openRunAction"))
        filem.addMenu(self.files.make_recent_menu(filem))
        filem.addSeparator()
        for act in (self.act_open, self.act_save_cfg, self.act_open_run):
            filem.addAction(act)
        filem.addSeparator()
        filem.addAction(a("&Quit", self.close, QKeySequence.Quit))
        runm = mb.addMenu("&Run")
        for act in (self.act_play, self.act_step, self.act_reset):
            runm.addAction(act)
        runm.addSeparator()
        runm.addAction(a("&Duplicate with change…", self.compare.duplicate_dialog, "Ctrl+D",
                         "Start a second run with the same config and seed and one or more "
                         "settings changed, beside this one (A/B)", "duplicateAction"))
        runm.addAction(a("Res&ume selected run", self.compare.resume_selected, None,
                         "Go on training the run selected in the run list from its last "
                         "checkpoint, in its own folder", "resumeAction"))
        exportm = mb.addMenu("&Export")
        exportm.addAction(a("&Figure…", self.exports.figure_dialog, "Ctrl+Shift+F",
                            "One PNG/PDF/SVG of chosen panels with a caption naming the runs",
                            "exportFigureAction"))
        exportm.addAction(self.act_grid)
        exportm.addAction(self.act_all)
        exportm.addSeparator()
        self.exports.add_plot_menus(exportm, a)
        exportm.addSeparator()
        exportm.addAction(self.exports.make_style_action(a))
        viewm = mb.addMenu("&View")
        viewm.addAction(self.controls_dock.toggleViewAction())
        viewm.addAction(self.compare.dock.toggleViewAction())
        mb.addMenu("&Help").addAction(a("About", self._about))

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for group in ((self.act_play, self.act_step, self.act_reset),
                      (self.act_grid, self.act_all, self.act_open_run)):
            for act in group:
                tb.addAction(act)
            tb.addSeparator()
        for name, label in (("loss", "Losses"), ("sigma", "σ"), ("lipschitz", "Lipschitz")):
            tb.addAction(a(f"{label} → PNG", lambda _=False, n=name: self.exports.plot_dialog(n, "png")))

    def _build_status(self) -> None:
        self.setStatusBar(QtRunStatusBar())
        self.status_line = self.statusBar().status_line
        self.statusBar().cancel_button.clicked.connect(self.reset_run)

    # ================================================================= run lifecycle
    def ensure_run(self) -> QtTrainingWorker:
        """The current run's worker, starting the run (and its folder) if it has none."""
        if self.controller is not None and not self.controller.is_running() \
                and self.model.fault is Fault.ERROR:
            self.stop_run()  # an error ended its training process: Play starts a new run
        if self.controller is not None:
            return self.controller.worker
        if self.model.fault is not None:  # a run that failed to start: a fresh one
            self.model = RunModel(self.cfg)
            self.area.show_run(self.model)
        self.run_dir = paths.new_run_dir(f"{self.cfg.data.dataset}-{self.cfg.loss.kind}")
        self.model.cfg = self.cfg.copy()
        self._start(QtRunController.create(self.model, self.run_dir, self.torch_threads, self))
        return self.controller.worker

    def _start(self, controller: QtRunController) -> None:
        self.controller = controller
        controller.reported.connect(self._on_report)
        controller.ended.connect(self._update_status)
        self.form.clear_pending()
        self.area.show_banner("")
        controller.start()
        self.compare.current_started()
        self._update_status()

    def continue_run(self, device: str | None = None) -> None:
        """After a divergence, a device failure or the training process's death: go on from
        the run's last good checkpoint, in the same run folder, with the settings the form
        shows now (on ``device`` when given, e.g. "cpu")."""
        if not self.model.can_continue or self.run_dir is None:
            return
        settings = self.form.live_settings()
        ctrl = self.controller
        if (ctrl is not None and ctrl.is_running()
                and self.model.fault in (Fault.DIVERGED, Fault.DEVICE)):
            ctrl.worker.continue_run(device, settings)  # the loop continues in its process
        else:  # the training process is gone: a new one resumes the run folder
            self.stop_run()
            self._start(QtRunController.create(self.model, self.run_dir, self.torch_threads,
                                               self, resume=True, device=device,
                                               settings=settings))
        self.statusBar().showMessage("continuing from the last good checkpoint…", 8000)

    def play(self) -> None:
        self.run_panel.play.setChecked(True)

    def pause(self) -> None:
        self.run_panel.play.setChecked(False)

    def _on_play_toggled(self, on: bool) -> None:
        worker = self.ensure_run()
        worker.play() if on else worker.pause()
        self.run_panel.set_running(on)

    def step_once(self) -> None:
        if self.run_panel.step.isEnabled() and not self.run_panel.play.isChecked():
            self.ensure_run().step(1)

    def stop_run(self, terminate_after: float = TERMINATE_AFTER) -> None:
        """Stop the worker (its session writes the final log line and checkpoint)."""
        ctrl, self.controller = self.controller, None
        if ctrl is not None and not ctrl.retire(terminate_after):  # keep it until closing
            self._retired.append(ctrl)
        self.run_panel.set_running(False)

    def reset_run(self) -> None:
        self.stop_run()
        self.compare.current_reset()
        self.model = RunModel(self.cfg)
        self.area.show_run(self.model)
        self.run_dir = None
        self.form.clear_pending()
        self.area.show_banner("")
        self.statusBar().show_download(DownloadProgress(None, None))
        self._update_status("ready: press Play to start a new run")

    def load_config(self, cfg: Config, preset_path: str | Path | None = None) -> None:
        self.reset_run()
        self.form.load(cfg)
        if preset_path:
            self.experiment_panel.set_preset(preset_path)

    def load_preset(self, path: str) -> None:
        try:
            cfg = config_mod.load(path)
        except ConfigError as exc:
            QMessageBox.warning(self, "Cannot load preset", str(exc))
            return
        self.load_config(cfg, path)

    def _on_form_changed(self, key: str, value: Any) -> None:
        if self.controller is None:
            return
        if is_live(key):
            self.controller.worker.submit(key, value)
        else:
            self.form.mark_pending(key)
            self.statusBar().showMessage(f"{key} takes effect in a new run: press Reset", 6000)

    # ================================================================= reports
    def _on_report(self, report: contract.Report, changed: set) -> None:
        match report:
            case contract.RunStarted(info=info):
                self.run_dir = Path(info.run_dir)
                self.histogram.set_layers(list(info.layers))
            case contract.RunProgress(done=done):
                if done:  # the loop stops by itself at the last step
                    self.run_panel.set_running(False)
                self.stepChanged.emit(report.step)
            case contract.RunContinued(info=info, step=step):
                self.run_dir = Path(info.run_dir)
                self.histogram.set_layers(list(info.layers))
                self.area.show_banner("")
                self.statusBar().showMessage(
                    f"continued from the checkpoint at step {step:,} on {info.device}", 8000)
            case contract.RunMessage(text=text, level=level):
                self.statusBar().showMessage(text, 15000 if level == "warning" else 8000)
            case contract.RunDiverged() | contract.RunDeviceFailed():
                self.run_panel.set_running(False)
                self.area.show_banner("⚠ " + fault_text(self.model, self.run_dir))
            case contract.RunFailed(text=text):
                self.statusBar().showMessage(text, 8000)
                self.run_panel.set_running(False)
                if self.controller is not None and not (self.run_dir and self.run_dir.exists()):
                    self.stop_run()  # nothing was written: this run is over
                    self.run_dir = None
                self.area.show_banner("⚠ " + fault_text(self.model, self.run_dir))
            case contract.DownloadProgress():
                self.statusBar().show_download(report)
        if DataKind.EVENTS in changed:
            self.area.sync_markers()
        if DataKind.STATUS in changed or isinstance(report, contract.RunStarted):
            self.compare.current_changed()
        if DataKind.STATUS in changed and self.model.state is not RunState.RUNNING:
            self._update_status()  # paused / stepped: show the exact step at once

    # ================================================================= drawing
    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want the latest)."""
        self.area.refresh_all()

    def _update_status_if_new(self) -> None:
        if self._status_shown != (self.model.serial, self.model.version(DataKind.STATUS)):
            self._update_status()

    def _update_status(self, extra: str = "") -> None:
        self._status_shown = (self.model.serial, self.model.version(DataKind.STATUS))
        parts = status_parts(self.model, self.cfg) + ([extra] if extra else [])
        self.statusBar().show_status(parts, self.run_dir)
        self.run_panel.status.setText(parts[0] + "\n" + " · ".join(parts[1:]))
        model = self.model
        self.run_panel.show_fault(
            halted=model.fault is not None and model.fault is not Fault.ERROR
            and self.controller is not None,
            can_continue=model.can_continue and self.run_dir is not None,
            on_cpu_too=model.fault is Fault.DEVICE and model.info is not None
            and model.info.device != "cpu")

    # ================================================================= exports
    def export_plot(self, name: str, path: str | Path) -> Path:
        return self.exports.plot(name, path)

    def export_grid(self, path: str | Path) -> Path:
        return self.exports.grid(path)

    def export_all(self, folder: str | Path) -> list[Path]:
        return self.exports.everything(folder)

    def _about(self) -> None:
        QMessageBox.about(self, "Lipschitz Playground",
                          "Train a small GAN and switch Lipschitz constraints on its "
                          "discriminator while it trains.\n\nRuns are saved in "
                          f"{paths.runs_dir()}")

    # ================================================================= closing
    def dragEnterEvent(self, event) -> None:
        self.files.drag_enter(event)

    def dropEvent(self, event) -> None:
        self.files.drop(event)

    def closeEvent(self, event) -> None:
        self.hide()  # gone at once; the training process finishes its run folder meanwhile
        self.area.stop()
        self.compare.close()
        self.settings.save_window(self)
        self.settings.set_last_config(self.cfg)
        self.stop_run(CLOSE_TERMINATE_AFTER)
        for ctrl in self._retired:
            ctrl.thread.wait()
        super().closeEvent(event)
