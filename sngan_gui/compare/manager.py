"""Every run the main window holds besides showing its own: runs opened from disk (finished,
or followed while another process writes them), the A/B duplicate trained beside the current
run, a stopped run resumed in the app, and the run list dock.

The window keeps training its *current* run as before (``window.model``, ``window.controller``);
:class:`QtWindowRuns` adds it to the :class:`RunCollection` once it starts, next to the others,
so the plot area overlays them all and the snapshot panels show the one selected in the list.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QMainWindow

from core import contract
from core.runlayout import RunPaths
from core.runreader import RunReader, RunReadError, event_record, metrics_record
from core.runsnapshot import has_checkpoint

from .. import paths
from ..app_settings import AppSettings
from ..run_model import RunModel, RunState
from ..worker import QtRunController
from .disk_run import DiskRun
from .duplicate import DuplicateDialog
from .follow import ProcessCall
from .run_list import RunListDock
from .runs import RunCollection

WRITTEN_LATELY_S = 5.0  # metrics.jsonl changed this recently: another process writes the run


def _written_lately(run_dir: Path) -> bool:
    try:
        return time.time() - RunPaths(run_dir).metrics.stat().st_mtime < WRITTEN_LATELY_S
    except OSError:
        return False


STATE_TEXT = {RunState.IDLE: "stopped", RunState.STARTING: "starting…",
              RunState.PAUSED: "paused", RunState.RUNNING: "training",
              RunState.FINISHED: "finished", RunState.DIVERGED: "diverged",
              RunState.FAILED: "failed"}


class CurrentRun:
    """The window's own run as a collection entry's source (its model changes on Reset)."""

    def __init__(self, window: QMainWindow):
        self.window = window

    @property
    def model(self) -> RunModel:
        return self.window.model


@dataclass
class LiveRun:
    """A run the app trains beside the current one (an A/B duplicate, a resumed run)."""

    model: RunModel
    controller: QtRunController | None
    disk: DiskRun | None = None  # the folder's reader, for a resumed run


class QtRunManager(QObject):
    """See the module docstring. ``refused`` keeps the one-line reasons runs were refused."""

    def __init__(self, window: QMainWindow, settings: AppSettings):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.runs = RunCollection(self)
        self.calls = ProcessCall(self)
        self.sources: dict[int, Any] = {}
        self.current_key = -1
        self.refused: list[str] = []
        self.dock = RunListDock(self.runs, window)
        self.dock.remove_runs_itself = False
        self.dock.removeRequested.connect(self.remove)
        window.addDockWidget(Qt.LeftDockWidgetArea, self.dock)
        window.area.show_runs(self.runs)

    # ================================================================= the window's run
    def current_started(self) -> None:
        """The window's current run has started (Play or Step): list it, selected."""
        cfg = self.window.model.cfg
        if self.current_key in self.runs:
            self.runs.set_config(self.current_key, cfg)
        else:
            self.current_key = self.runs.add(cfg, self.window.run_dir,
                                             source=CurrentRun(self.window), select=True)
        self.settings.set_last_config(cfg)
        self.current_changed()

    def current_changed(self) -> None:
        """Its folder or state changed: update its row."""
        if self.current_key not in self.runs:
            return
        entry = self.runs.entry(self.current_key)
        run_dir = self.window.run_dir
        if run_dir is not None and entry.path != Path(run_dir):
            entry.path = Path(run_dir)
            self.settings.add_recent_run(run_dir)
        self.runs.set_status(self.current_key, STATE_TEXT[self.window.model.state])

    def current_reset(self) -> None:
        """The window starts over with a new run: the old one leaves the list (its folder is
        in Recent runs)."""
        if self.current_key in self.runs:
            self.runs.remove(self.current_key)
        self.current_key = -1

    # ================================================================= opening runs
    def open_run(self, path: str | Path, *, select: bool = True) -> int | None:
        """Open a run folder (a finished one is shown, one still being written is followed);
        None, with the one-line reason in ``refused`` and the status bar, if it is not a run.
        A folder already open is selected, not opened twice."""
        path = Path(path).expanduser().absolute()
        known = self.runs.find(path=path)
        if known is not None:
            self.runs.select(known.key)
            return known.key
        try:
            disk = DiskRun(path, self.calls, self)
        except RunReadError as exc:
            self._refuse(str(exc))
            return None
        key = self.runs.add(disk.cfg, path, source=disk, status="reading…", select=select)
        self.sources[key] = disk
        disk.statusChanged.connect(lambda status, k=key: self._disk_status(k, status))
        disk.problem.connect(self._problem)
        disk.start()
        self.settings.add_recent_run(path)
        return key

    def open_runs(self, paths_: Sequence[str | Path]) -> list[int]:
        keys = [self.open_run(p, select=i == 0) for i, p in enumerate(paths_)]
        return [k for k in keys if k is not None]

    def _refuse(self, text: str) -> None:
        self.refused.append(text)
        self.window.statusBar().showMessage(text, 10000)

    def _problem(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def _disk_status(self, key: int, status: str) -> None:
        self._set_status(key, status)
        if key in self.runs:
            self.window.statusBar().showMessage(f"{status}: {self.runs.entry(key).path}", 8000)

    def _set_status(self, key: int, status: str) -> None:
        if key in self.runs:
            self.runs.set_status(key, status)

    # ================================================================= removing
    def remove(self, key: int) -> None:
        """Take a run out of the window; a run the app trains is stopped first (its folder
        gets its final line and checkpoint)."""
        if key == self.current_key:
            self.window.reset_run()
            return
        source = self.sources.pop(key, None)
        if isinstance(source, DiskRun):
            source.stop()
            source.deleteLater()
        elif isinstance(source, LiveRun):
            self._stop_live(source)
        if key in self.runs:
            self.runs.remove(key)

    def _stop_live(self, live: LiveRun) -> None:
        ctrl, live.controller = live.controller, None
        if ctrl is not None and not ctrl.retire():
            self.window._retired.append(ctrl)

    def close(self) -> None:
        """Stop everything (the window closes)."""
        for key in list(self.sources):
            self.remove(key)
        self.calls.shutdown()

    # ================================================================= training beside
    def _start_live(self, model: RunModel, run_dir: Path, *, resume: bool, status: str,
                    key: int | None = None) -> int:
        ctrl = QtRunController.create(model, run_dir, self.window.torch_threads, self,
                                      resume=resume)
        live = LiveRun(model, ctrl)
        if key is None:
            key = self.runs.add(model.cfg, run_dir, source=live, status=status, select=True)
        else:
            self.runs.entry(key).source = live
            self.runs.set_status(key, status)
        self.sources[key] = live
        ctrl.reported.connect(lambda report, changed, k=key: self._live_report(k, report))
        ctrl.ended.connect(lambda k=key: self._live_ended(k))
        ctrl.start()
        if not resume:  # a resumed run plays once RunContinued says its folder is trimmed
            ctrl.worker.play()
        return key

    def _live_report(self, key: int, report: contract.Report) -> None:
        live = self.sources.get(key)
        if not isinstance(live, LiveRun):
            return
        if isinstance(report, contract.RunFailed | contract.RunDiverged):
            self.window.statusBar().showMessage(f"{self.runs.entry(key).label}: {report.text}",
                                                10000)
        if isinstance(report, contract.RunContinued) and live.controller is not None \
                and live.controller.worker.resume:
            self._resumed(live, report.info)
        if isinstance(report, contract.RunProgress) and report.done:
            # at its last step: end its process (later, not inside its own signal)
            QTimer.singleShot(0, lambda: self._stop_live(live))
        self._set_status(key, STATE_TEXT[live.model.state])

    def _resumed(self, live: LiveRun, info: contract.RunInfo) -> None:
        """A resumed run has continued (paused, its folder trimmed to its last checkpoint): the
        model shows the folder's lines from now on (lines a divergence wrote after that
        checkpoint are gone), then it plays."""
        reader = RunReader(live.disk.path)
        update = reader.poll()
        records = [metrics_record(m) for m in update.metrics]
        steps = [r.step for r in records]
        if len(live.model.history) != len(steps) or list(live.model.history.steps) != steps:
            model = RunModel(live.model.cfg)
            model.apply(contract.RunStarted(info))
            model.apply(contract.RunProgress(
                step=steps[-1] if steps else 0, running=False, rate=0.0,
                elapsed=float(records[-1].time) if records else 0.0, done=False,
                records=tuple(records), events=tuple(event_record(e) for e in update.events)))
            model.replace_snapshot(live.model.snapshot)
            live.model = live.controller.model = model
        live.controller.worker.play()

    def _live_ended(self, key: int) -> None:
        live = self.sources.get(key)
        if isinstance(live, LiveRun):
            self._set_status(key, STATE_TEXT[live.model.state])

    def duplicate(self, changes: dict[str, Any], source_key: int | None = None) -> int:
        """Start a run with the source run's config (default: the selected run, else the
        window's) and these changes, training beside it; returns its key. ConfigError (one
        line) for a refused change."""
        from core import compare

        entry = self.runs.entry(source_key) if source_key is not None else self.runs.selected_entry()
        cfg = entry.source.model.cfg if entry is not None else self.window.cfg
        new_cfg = compare.duplicate_with_change(cfg, changes)
        if entry is None or entry.key == self.current_key:
            if self.window.controller is None:  # A/B from a run not started yet: start it too
                self.window.play()
        run_dir = paths.new_run_dir(f"{new_cfg.data.dataset}-{new_cfg.loss.kind}-b")
        key = self._start_live(RunModel(new_cfg), run_dir, resume=False, status="starting…")
        self.settings.add_recent_run(run_dir)
        return key

    def duplicate_dialog(self) -> None:
        entry = self.runs.selected_entry()
        cfg = entry.source.model.cfg if entry is not None else self.window.cfg
        dlg = DuplicateDialog(cfg, self.window)
        if dlg.exec():
            self.duplicate(dlg.changes(), entry.key if entry is not None else None)

    def can_resume(self, key: int) -> str:
        """"" when the run can be resumed in the app, else why not (one line)."""
        source = self.sources.get(key)
        if key == self.current_key:
            return "the current run goes on with Play"
        disk = source.disk if isinstance(source, LiveRun) else source
        if not isinstance(disk, DiskRun):
            return "it has no run folder"
        history = source.model.history
        if len(history) and history.steps[-1] >= disk.cfg.run.steps:
            return f"it is finished ({disk.cfg.run.steps} steps)"
        if isinstance(source, LiveRun) and source.controller is not None:
            return "it is training"
        if not has_checkpoint(disk.path):
            return f"{disk.path} has no checkpoint"
        if isinstance(source, DiskRun) and _written_lately(disk.path):
            return "another process is writing it"
        return ""

    def resume(self, key: int | None = None) -> int:
        """Go on training a stopped run in its own folder from its last checkpoint, up to its
        ``run.steps`` (as ``train --resume``); ValueError says why not."""
        key = self.runs.selected if key is None else key
        why = self.can_resume(key)
        if why:
            raise ValueError(f"cannot resume {self.runs.entry(key).label}: {why}")
        source = self.sources[key]
        disk = source.disk if isinstance(source, LiveRun) else source
        disk.stop()  # the app writes the folder now; its model goes on with the loop's reports
        self._start_live(disk.model, disk.path, resume=True, status="starting…", key=key)
        self.sources[key].disk = disk
        return key

    def resume_selected(self) -> None:
        try:
            self.resume()
        except (ValueError, KeyError) as exc:
            self.window.statusBar().showMessage(str(exc), 8000)
