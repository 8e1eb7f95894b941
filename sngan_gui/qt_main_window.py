"""The main window: controls dock, plot panels, menus/toolbar, status line, run lifecycle."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget,
                               QDockWidget)

from core import config as config_mod
from core.config import Config, ConfigError, is_live
from core.presets import PRESETS_DIR, list_presets

from . import exporters, paths
from .history import History
from .qt_controls import (QtConfigForm, QtConstraintsPanel, QtExperimentPanel, QtRunPanel)
from .qt_plots import (QtHistogramPanel, QtLipschitzPanel, QtLossPanel, QtSamplesPanel,
                       QtSigmaPanel, QtSpectrumPanel, QtTimeSeriesPanel)
from .worker import QtRunController, QtTrainingWorker

# Every plot and the status line redraw 4 times per second, one panel group per timer tick
# (refresh_plots), so that no single paint pass stalls the event loop: all six at once took
# 50-110 ms on 2 cores, one at a time keeps the worst stall at 15-36 ms
# (benchmarks/gui_throughput.py). Training runs in a child process (sngan_gui.worker); the
# in-thread fallback shares the GIL with painting (ring8 in-thread: 0.56x headless at 8 Hz,
# 0.80x at 4 Hz with cached axes).
PLOT_REFRESH_MS = 250

SHORT = {"clip": "clip", "gp": "GP", "spectral": "SN", "rowsum": "row-sum"}


def marker_text(change: dict[str, Any]) -> str:
    parts = []
    for key, value in change.items():
        bits = key.split(".")
        if bits[0] == "constraints" and len(bits) == 3:
            short = SHORT.get(bits[1], bits[1])
            if bits[2] == "enabled":
                parts.append(f"{short} {'on' if value else 'off'}")
            else:
                parts.append(f"{short} {bits[2]}={value:g}" if isinstance(value, float)
                             else f"{short} {bits[2]}={value}")
        else:
            parts.append(f"{bits[-1]}={value:g}" if isinstance(value, float) else f"{bits[-1]}={value}")
    return ", ".join(parts)


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class QtMainWindow(QMainWindow):
    """Lipschitz Playground's main window. Build with :func:`sngan_gui.create_window`."""

    runStarted = Signal(str)      # run folder
    stepChanged = Signal(int)

    def __init__(self, cfg: Config, *, preset_path: str | Path | None = None,
                 torch_threads: int | None = None):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Lipschitz Playground")
        self.resize(1440, 900)
        self.torch_threads = torch_threads
        self.form = QtConfigForm(cfg, self)
        self.controller: QtRunController | None = None
        self.run_dir: Path | None = None
        self.device = ""
        self.step = 0
        self.running = False
        self.worker_running = False  # as last reported by the worker
        self.starting = False  # a run's worker is starting (a child process imports torch)
        self.rate = 0.0
        self.elapsed = 0.0
        self.restart_pending: set[str] = set()
        self.events: list[dict] = []
        self.metrics = History()
        self.snapshot: dict[str, Any] = {}
        self._snapshot_dirty = False
        self._retired: list[QtRunController] = []

        self._build_controls(preset_path)
        self._build_plots()
        self._build_actions()
        self._build_status()
        # Round robin over the loss, Lipschitz and sigma plots and the three snapshot panels
        # (see refresh_plots): 8 ticks per PLOT_REFRESH_MS.
        self._refresh_groups = [self.loss, "snapshot", "snapshot_panel", self.lipschitz,
                                "snapshot_panel", self.sigma, "snapshot_panel", "snapshot_panel"]
        self._refresh_index = 0
        self._pending_snapshot_panels: list = []
        self._shown_keys: dict[str, tuple | None] = {}  # panel name -> snapshot_key drawn
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, PLOT_REFRESH_MS // len(self._refresh_groups)))
        self.timer.timeout.connect(self.refresh_plots)
        self.timer.start()
        self._update_status()

    # ================================================================= building
    @property
    def cfg(self) -> Config:
        return self.form.cfg

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
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controlsDock")
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.controls_dock = dock

    def _build_plots(self) -> None:
        self.samples = QtSamplesPanel()
        self.loss = QtLossPanel()
        self.lipschitz = QtLipschitzPanel()
        self.sigma = QtSigmaPanel()
        self.spectrum = QtSpectrumPanel()
        self.histogram = QtHistogramPanel()
        self.time_series: list[QtTimeSeriesPanel] = [self.loss, self.sigma, self.lipschitz]
        self.panels = {"samples": self.samples, "loss": self.loss, "sigma": self.sigma,
                       "lipschitz": self.lipschitz, "spectrum": self.spectrum,
                       "histogram": self.histogram}

        self.banner = QLabel("")
        self.banner.setObjectName("bannerLabel")
        self.banner.setWordWrap(True)
        self.banner.hide()

        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.samples)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.loss)
        right.addWidget(self.lipschitz)
        top.addWidget(right)
        top.setSizes([520, 560])
        bottom = QSplitter(Qt.Horizontal)
        for p in (self.sigma, self.spectrum, self.histogram):
            bottom.addWidget(p)
        bottom.setSizes([400, 340, 340])
        main = QSplitter(Qt.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        main.setSizes([560, 320])
        for s in (top, right, bottom, main):
            s.setChildrenCollapsible(False)
            s.setHandleWidth(6)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addWidget(main, 1)
        self.setCentralWidget(central)

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
        mb = self.menuBar()
        filem = mb.addMenu("&File")
        self.act_open = self._action("&Open config…", self._open_config_dialog, QKeySequence.Open,
                                     "Load a TOML config (a new run starts on Play)")
        self.act_save_cfg = self._action("&Save config as…", self._save_config_dialog, QKeySequence.Save,
                                         "Save the current settings as TOML")
        self.act_open_run = self._action("Open run &folder", self.open_run_folder, "Ctrl+Shift+O",
                                         "Open this run's folder in the file manager")
        self.act_quit = self._action("&Quit", self.close, QKeySequence.Quit)
        for a in (self.act_open, self.act_save_cfg, self.act_open_run):
            filem.addAction(a)
        filem.addSeparator()
        filem.addAction(self.act_quit)

        runm = mb.addMenu("&Run")
        self.act_play = self._action("Play / Pause", self.run_panel.play.click, "Space",
                                     "Start or pause training", "playAction")
        self.act_step = self._action("Step", self.step_once, "Ctrl+.", "One training step")
        self.act_reset = self._action("Reset", self.reset_run, "Ctrl+R", "New run with current settings")
        for a in (self.act_play, self.act_step, self.act_reset):
            runm.addAction(a)

        exportm = mb.addMenu("&Export")
        self.act_grid = self._action("Sample grid as PNG…", self._export_grid_dialog, "Ctrl+E",
                                     "Save the current samples as PNG", "exportGridAction")
        self.act_all = self._action("Export all…", self._export_all_dialog, "Ctrl+Shift+E",
                                    "Config, metrics, events, every plot (PNG/SVG/CSV) and the grid",
                                    "exportAllAction")
        exportm.addAction(self.act_grid)
        exportm.addAction(self.act_all)
        exportm.addSeparator()
        self.plot_export_actions: dict[tuple[str, str], QAction] = {}
        for name, panel in self.panels.items():
            sub = exportm.addMenu(panel.title)
            for fmt in exporters.PLOT_FORMATS:
                act = self._action(fmt.upper() + "…",
                                   lambda _=False, n=name, f=fmt: self._export_plot_dialog(n, f))
                sub.addAction(act)
                self.plot_export_actions[(name, fmt)] = act

        viewm = mb.addMenu("&View")
        viewm.addAction(self.controls_dock.toggleViewAction())
        helpm = mb.addMenu("&Help")
        helpm.addAction(self._action("About", self._about))

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for a in (self.act_play, self.act_step, self.act_reset):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.act_grid, self.act_all, self.act_open_run):
            tb.addAction(a)
        tb.addSeparator()
        for name, label in (("loss", "Losses"), ("sigma", "σ"), ("lipschitz", "Lipschitz")):
            act = self._action(f"{label} → PNG",
                               lambda _=False, n=name: self._export_plot_dialog(n, "png"))
            tb.addAction(act)

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
        """The current run's worker, starting a new run (and its folder) if there is none."""
        if self.controller is not None:
            return self.controller.worker
        name = f"{self.cfg.data.dataset}-{self.cfg.loss.kind}"
        self.run_dir = paths.new_run_dir(name)
        worker = QtTrainingWorker(self.cfg, self.run_dir, torch_threads=self.torch_threads)
        worker.started.connect(self._on_started)
        worker.progress.connect(self._on_progress)
        worker.message.connect(self._on_message)
        worker.diverged.connect(self._on_diverged)
        worker.download.connect(self._on_download)
        worker.finished.connect(self._on_worker_finished)
        self.controller = QtRunController(worker, self)
        self.starting = True
        self.restart_pending.clear()
        self._mark_restart()
        self.banner.hide()
        self.controller.start()
        self._update_status()
        return worker

    def play(self) -> None:
        self.run_panel.play.setChecked(True)

    def pause(self) -> None:
        self.run_panel.play.setChecked(False)

    def _on_play_toggled(self, on: bool) -> None:
        worker = self.ensure_run()
        if on:
            worker.play()
        else:
            worker.pause()
        self.running = on
        self.run_panel.set_running(on)

    def step_once(self) -> None:
        if self.running:
            return
        self.ensure_run().step(1)

    def stop_run(self) -> None:
        """Stop the worker (its session writes the final log line and checkpoint)."""
        ctrl, self.controller = self.controller, None
        if ctrl is not None:
            ok = ctrl.shutdown()
            if not ok:  # should not happen; keep a reference so Qt never destroys it running
                self._retired.append(ctrl)
            ctrl.worker.deleteLater()
        self.running = False
        self.starting = False
        self.run_panel.set_running(False)

    def reset_run(self) -> None:
        self.stop_run()
        self.metrics.clear()
        self.snapshot = {}
        self.events = []
        for panel in self.panels.values():
            panel.reset()
        self._shown_keys.clear()
        self.step, self.rate, self.elapsed = 0, 0.0, 0.0
        self.run_dir = None
        self.device = ""
        self.restart_pending.clear()
        self._mark_restart()
        self.banner.hide()
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

    # ================================================================= worker signals
    def _on_started(self, info: dict) -> None:
        self.starting = False
        self.run_dir = Path(info["run_dir"])
        self.device = info["device"]
        self.histogram.set_layers(info.get("layers", []))
        self.runStarted.emit(str(self.run_dir))
        self._update_status()

    def _on_progress(self, p: dict) -> None:
        self.step = p["step"]
        self.worker_running = bool(p["running"])
        self.rate = p["rate"]
        self.elapsed = p["elapsed"]
        if p["records"]:
            self.metrics.extend_records(p["records"])
        for event in p["events"]:
            self.events.append(event)
            text = marker_text(event.get("change", {}))
            for panel in self.time_series:
                panel.add_marker(event["step"], text)
        snap = p.get("snapshot")
        if snap:
            self.snapshot = snap
            self._snapshot_dirty = True
        if p.get("done") and self.running:  # the worker stops by itself at the last step
            self.running = False
            self.run_panel.set_running(False)
        self._status_dirty = True
        if not self.worker_running:
            self._update_status()  # paused / stepped: show the exact step at once
        self.stepChanged.emit(self.step)

    _status_dirty = False

    def _on_message(self, level: str, text: str) -> None:
        self.statusBar().showMessage(text, 8000)
        if level == "error":
            self.banner.setText(text)
            self.banner.show()
            self.running = False
            self.run_panel.set_running(False)
            if self.controller is not None and not self.run_dir_exists():
                self.stop_run()

    def run_dir_exists(self) -> bool:
        return self.run_dir is not None and self.run_dir.exists()

    def _on_diverged(self, text: str) -> None:
        self.running = False
        self.run_panel.set_running(False)
        self.banner.setText("⚠ " + text)
        self.banner.show()

    def _on_download(self, done, total, label: str) -> None:
        if done is None:
            self.progress.hide()
            self.cancel_button.hide()
            return
        self.progress.show()
        self.cancel_button.show()
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(f"{label} %p%")

    def _on_worker_finished(self) -> None:
        self.starting = False
        self._update_status()

    # ================================================================= drawing
    def refresh_plots(self) -> None:
        """Redraw one group of panels per tick, round robin.

        Updating all six plots in one tick made Qt paint them in one pass (a 50-110 ms stall
        on 2 cores); one group per tick keeps each pass to a single panel while every panel
        still refreshes every ``PLOT_REFRESH_MS``.
        """
        if self._status_dirty and self._refresh_index % len(self._refresh_groups) == 0:
            self._status_dirty = False  # the status line too redraws every PLOT_REFRESH_MS
            self._update_status()
        group = self._refresh_groups[self._refresh_index % len(self._refresh_groups)]
        self._refresh_index += 1
        if group == "snapshot":
            if self._snapshot_dirty:
                self._snapshot_dirty = False
                self._pending_snapshot_panels = list(self.snapshot_panels)
            return
        if group == "snapshot_panel":
            if self._pending_snapshot_panels:
                self._draw_snapshot(self._pending_snapshot_panels.pop(0))
            return
        group.refresh(self.metrics)

    def refresh_all(self) -> None:
        """Redraw every panel now (exports and tests want the latest data everywhere)."""
        for panel in self.time_series:
            panel.refresh(self.metrics)
        if self._snapshot_dirty or self._pending_snapshot_panels:
            self._snapshot_dirty = False
            self._pending_snapshot_panels = []
            for panel in self.snapshot_panels:
                self._draw_snapshot(panel)

    @property
    def snapshot_panels(self) -> tuple:
        return (self.samples, self.spectrum, self.histogram)

    def _draw_snapshot(self, panel) -> None:
        """Draw the snapshot on ``panel`` unless the panel has drawn this data already (a
        snapshot may only have new data for the others: redrawing an unchanged 64-image grid
        is not free). The key is recorded when the panel draws, not before."""
        key = panel.snapshot_key(self.snapshot)
        if key is not None and self._shown_keys.get(panel.name) == key:
            return
        self._shown_keys[panel.name] = key
        panel.update_snapshot(self.snapshot)

    def _update_status(self, extra: str = "") -> None:
        total = self.cfg.run.steps
        parts = [f"step {self.step:,} / {total:,}",
                 "starting…" if self.starting and self.controller else
                 f"{self.rate:,.1f} steps/s" if self.running else "paused" if self.controller else "idle",
                 f"device {self.device or self.cfg.run.device}", f"elapsed {_hms(self.elapsed)}"]
        text = "   ·   ".join(parts)
        if extra:
            text += "   ·   " + extra
        self.status_line.setText(text)
        self.run_panel.status.setText(text.replace("   ·   ", "\n", 1).replace("   ·   ", " · "))
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

    def _default_dir(self) -> str:
        return str(self.run_dir or paths.runs_dir())

    def _export_plot_dialog(self, name: str, fmt: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.panels[name].title}",
                                              str(Path(self._default_dir()) / f"{name}.{fmt}"),
                                              f"{fmt.upper()} (*.{fmt})")
        if path:
            self._report(lambda: self.export_plot(name, path))

    def _export_grid_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export sample grid",
                                              str(Path(self._default_dir()) / f"samples_step{self.step}.png"),
                                              "PNG (*.png)")
        if path:
            self._report(lambda: self.export_grid(path))

    def _export_all_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export all into folder", self._default_dir())
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
        path, _ = QFileDialog.getOpenFileName(self, "Open config", str(PRESETS_DIR), "TOML (*.toml)")
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
        self.timer.stop()
        self.stop_run()
        for ctrl in self._retired:
            ctrl.thread.wait()
        super().closeEvent(event)
