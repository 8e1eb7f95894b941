"""The main window: builds the controls dock, the plot area, menus, toolbar and status bar, and
wires them to the current run (a :class:`RunModel` fed by a :class:`QtRunController`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from core import config as config_mod
from core import contract
from core.config import Config, ConfigError, is_live
from core.presets import list_presets

from . import exporters, paths
from .panels import QtPlotArea
from .panels.controls import QtConfigForm, QtConstraintsPanel, QtExperimentPanel, QtRunPanel
from .run_model import DataKind, RunModel, RunState, status_parts
from .worker import QtRunController, QtTrainingWorker

SEP = "   ·   "


class QtMainWindow(QMainWindow):
    """Lipschitz Playground's main window. Build with :func:`sngan_gui.create_window`."""

    stepChanged = Signal(int)

    def __init__(self, cfg: Config, *, preset_path: str | Path | None = None,
                 torch_threads: int | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Lipschitz Playground")
        self.resize(1440, 900)
        self.torch_threads = torch_threads
        self.form = QtConfigForm(cfg, self)
        self.model = RunModel(cfg)
        self.controller: QtRunController | None = None
        self.run_dir: Path | None = None
        self.restart_pending: set[str] = set()
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
        self._build_controls(preset_path)
        self._build_actions()
        self._build_status()
        self._update_status()

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
    def snapshot_panels(self) -> tuple:
        return self.area.snapshot_panels

    # ================================================================= building
    def _build_controls(self, preset_path) -> None:
        self.run_panel = QtRunPanel()
        self.constraints_panel = QtConstraintsPanel(self.form)
        self.experiment_panel = QtExperimentPanel(self.form, list_presets())
        self.experiment_panel.set_preset(preset_path)
        self.experiment_panel.presetChosen.connect(self.load_preset)
        self.form.changed.connect(self._on_form_changed)
        self.form.rejected.connect(lambda key, why: self.statusBar().showMessage(f"refused: {why}", 6000))
        self.run_panel.play.toggled.connect(self._on_play_toggled)
        self.run_panel.step.clicked.connect(self.step_once)
        self.run_panel.reset.clicked.connect(self.reset_run)

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(8)
        for w in (self.run_panel, self.constraints_panel, self.experiment_panel):
            lay.addWidget(w)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(340)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controlsDock")
        self.controls_dock.setWidget(scroll)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.controls_dock)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", name: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip or text)
        act.setStatusTip(tip or text)
        if name:
            act.setObjectName(name)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a("&Open config…", self._open_config_dialog, QKeySequence.Open,
                          "Load a TOML config (a new run starts on Play)")
        self.act_save_cfg = a("&Save config as…", self._save_config_dialog, QKeySequence.Save,
                              "Save the current settings as TOML")
        self.act_open_run = a("Open run &folder", self.open_run_folder, "Ctrl+Shift+O",
                              "Open this run's folder in the file manager")
        self.act_play = a("Play / Pause", self.run_panel.play.click, "Space",
                          "Start or pause training", "playAction")
        self.act_step = a("Step", self.step_once, "Ctrl+.", "One training step")
        self.act_reset = a("Reset", self.reset_run, "Ctrl+R", "New run with current settings")
        self.act_grid = a("Sample grid as PNG…", self._export_grid_dialog, "Ctrl+E",
                          "Save the current samples as PNG", "exportGridAction")
        self.act_all = a("Export all…", self._export_all_dialog, "Ctrl+Shift+E",
                         "Config, metrics, events, every plot (PNG/SVG/CSV) and the grid",
                         "exportAllAction")
        mb = self.menuBar()
        filem = mb.addMenu("&File")
        for act in (self.act_open, self.act_save_cfg, self.act_open_run):
            filem.addAction(act)
        filem.addSeparator()
        filem.addAction(a("&Quit", self.close, QKeySequence.Quit))
        runm = mb.addMenu("&Run")
        for act in (self.act_play, self.act_step, self.act_reset):
            runm.addAction(act)
        exportm = mb.addMenu("&Export")
        exportm.addAction(self.act_grid)
        exportm.addAction(self.act_all)
        exportm.addSeparator()
        self.plot_export_actions: dict[tuple[str, str], QAction] = {}
        for name, panel in self.panels.items():
            sub = exportm.addMenu(panel.title)
            for fmt in exporters.PLOT_FORMATS:
                act = a(fmt.upper() + "…", lambda _=False, n=name, f=fmt: self._export_plot_dialog(n, f))
                sub.addAction(act)
                self.plot_export_actions[(name, fmt)] = act
        mb.addMenu("&View").addAction(self.controls_dock.toggleViewAction())
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
            tb.addAction(a(f"{label} → PNG", lambda _=False, n=name: self._export_plot_dialog(n, "png")))

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_line = QLabel("")
        self.status_line.setObjectName("statusLine")
        self.run_label = QLabel("")
        self.run_label.setObjectName("runFolderLabel")
        self.run_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDownloadButton")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.reset_run)
        sb.addWidget(self.status_line)
        sb.addWidget(self.progress)
        sb.addWidget(self.cancel_button)
        sb.addPermanentWidget(self.run_label)

    # ================================================================= run lifecycle
    def ensure_run(self) -> QtTrainingWorker:
        """The current run's worker, starting the run (and its folder) if it has none."""
        if self.controller is not None:
            return self.controller.worker
        self.run_dir = paths.new_run_dir(f"{self.cfg.data.dataset}-{self.cfg.loss.kind}")
        self.model.cfg = self.cfg.copy()
        worker = QtTrainingWorker(self.cfg, self.run_dir, torch_threads=self.torch_threads)
        self.controller = QtRunController(worker, self.model, self)
        self.controller.reported.connect(self._on_report)
        self.controller.ended.connect(self._update_status)
        self.restart_pending.clear()
        self._mark_restart()
        self.area.show_banner("")
        self.controller.start()
        self._update_status()
        return worker

    def play(self) -> None:
        self.run_panel.play.setChecked(True)

    def pause(self) -> None:
        self.run_panel.play.setChecked(False)

    def _on_play_toggled(self, on: bool) -> None:
        worker = self.ensure_run()
        worker.play() if on else worker.pause()
        self.run_panel.set_running(on)

    def step_once(self) -> None:
        if not self.run_panel.play.isChecked():
            self.ensure_run().step(1)

    def stop_run(self) -> None:
        """Stop the worker (its session writes the final log line and checkpoint)."""
        ctrl, self.controller = self.controller, None
        if ctrl is not None:
            ctrl.reported.disconnect(self._on_report)  # late reports stay with the old run
            if ctrl.shutdown():
                ctrl.deleteLater()
            else:  # should not happen; never let Qt destroy it running
                self._retired.append(ctrl)
            ctrl.worker.deleteLater()
        self.run_panel.set_running(False)

    def reset_run(self) -> None:
        self.stop_run()
        self.model = RunModel(self.cfg)
        self.area.show_run(self.model)
        self.run_dir = None
        self.restart_pending.clear()
        self._mark_restart()
        self.area.show_banner("")
        self.progress.hide()
        self.cancel_button.hide()
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
            self.restart_pending.add(key)
            self._mark_restart()
            self.statusBar().showMessage(f"{key} takes effect in a new run: press Reset", 6000)

    def _mark_restart(self) -> None:
        for key, label in self.form.labels.items():
            pending = key in self.restart_pending
            label.setStyleSheet("color: #ff9f43; font-weight: 600;" if pending else "")

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
            case contract.RunMessage(text=text):
                self.statusBar().showMessage(text, 8000)
            case contract.RunDiverged(text=text):
                self.run_panel.set_running(False)
                self.area.show_banner("⚠ " + text)
            case contract.RunFailed(text=text):
                self.statusBar().showMessage(text, 8000)
                self.run_panel.set_running(False)
                self.area.show_banner(text)
                if self.controller is not None and not (self.run_dir and self.run_dir.exists()):
                    self.stop_run()  # nothing was written: this run is over
            case contract.DownloadProgress():
                self._show_download(report)
        if DataKind.EVENTS in changed:
            self.area.sync_markers()
        if DataKind.STATUS in changed and self.model.state is not RunState.RUNNING:
            self._update_status()  # paused / stepped: show the exact step at once

    def _show_download(self, d: contract.DownloadProgress) -> None:
        self.progress.setVisible(d.done is not None)
        self.cancel_button.setVisible(d.done is not None)
        if d.done is None:
            return
        self.progress.setRange(0, 1000 if d.total else 0)
        if d.total:
            self.progress.setValue(int(1000 * d.done / d.total))
        self.progress.setFormat(f"{d.label} %p%")

    # ================================================================= drawing
    def refresh_plots(self) -> None:
        """One tick of the plot area's redraw throttle."""
        self.area.refresh_next()

    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want the latest)."""
        self.area.refresh_all()

    def _update_status_if_new(self) -> None:
        if self._status_shown != (self.model.serial, self.model.version(DataKind.STATUS)):
            self._update_status()

    def _update_status(self, extra: str = "") -> None:
        self._status_shown = (self.model.serial, self.model.version(DataKind.STATUS))
        parts = status_parts(self.model, self.cfg) + ([extra] if extra else [])
        self.status_line.setText(SEP.join(parts))
        self.run_panel.status.setText(parts[0] + "\n" + " · ".join(parts[1:]))
        self.run_label.setText(f"run folder: {self.run_dir}" if self.run_dir else
                               f"runs are saved in {paths.runs_dir()}")
        self.run_label.setToolTip(str(self.run_dir or paths.runs_dir()))

    # ================================================================= exports
    def current_grid(self):
        return self.samples.grid if self.samples.mode == "image" else None

    def export_plot(self, name: str, path: str | Path) -> Path:
        self.refresh_all()
        return exporters.export_plot(self.panels[name].export_item, path)

    def export_grid(self, path: str | Path) -> Path:
        self.refresh_all()
        grid = self.current_grid()
        if grid is not None:
            return exporters.save_grid_png(grid, path)
        return exporters.export_plot(self.samples.export_item, path)

    def export_all(self, folder: str | Path) -> list[Path]:
        self.refresh_all()
        plots = {name: p.export_item for name, p in self.panels.items()}
        grid = self.current_grid()
        return exporters.export_all(folder, plots=plots, cfg=self.cfg, run_dir=self.run_dir,
                                    grid=grid, csv_skip=("samples",) if grid is not None else ())

    def _default_dir(self) -> Path:
        return self.run_dir or paths.runs_dir()

    def _export_plot_dialog(self, name: str, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.panels[name].title}",
                                              str(self._default_dir() / f"{name}.{fmt}"),
                                              f"{fmt.upper()} (*.{fmt})")
        if path:
            self._report(lambda: self.export_plot(name, path))

    def _export_grid_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export sample grid", str(
            self._default_dir() / f"samples_step{self.step}.png"), "PNG (*.png)")
        if path:
            self._report(lambda: self.export_grid(path))

    def _export_all_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export all into folder", str(self._default_dir()))
        if folder:
            target = Path(folder) / f"export-step{self.step}-{time.strftime('%H%M%S')}"
            self._report(lambda: self.export_all(target), target)

    def _report(self, fn, shown=None) -> None:
        try:
            out = fn()
        except Exception as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.statusBar().showMessage(f"exported {shown or out}", 8000)

    def _open_config_dialog(self) -> None:
        start = next(iter(list_presets().values()), Path.cwd() / "x").parent
        path, _ = QFileDialog.getOpenFileName(self, "Open config", str(start), "TOML (*.toml)")
        if path:
            self.load_preset(path)

    def _save_config_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save config", "config.toml", "TOML (*.toml)")
        if path:
            config_mod.save(self.cfg, path)

    def open_run_folder(self) -> None:
        if self.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))

    def _about(self) -> None:
        QMessageBox.about(self, "Lipschitz Playground",
                          "Train a small GAN and switch Lipschitz constraints on its "
                          "discriminator while it trains.\n\nRuns are saved in "
                          f"{paths.runs_dir()}")

    # ================================================================= closing
    def closeEvent(self, event) -> None:
        self.area.stop()
        self.stop_run()
        for ctrl in self._retired:
            ctrl.thread.wait()
        super().closeEvent(event)
