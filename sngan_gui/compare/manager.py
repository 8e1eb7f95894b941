"""Every run the main window holds, in one owner: the new run the controls prepare, runs the
app trains (started with Play, A/B duplicates, folders resumed), runs opened from disk
(finished, or followed while another process writes them).

The *current* run is the one selected in the run list, or the new run (listed once it starts).
The controls, the status line and the snapshot panels show the current run; the time-series
panels overlay the runs shown (ticked). A new run (Reset, a preset, a config file) leaves the
run it replaces in the list, unticked: its folder is kept, and a tick compares it again.

Views read a run's :class:`RunModel`; the manager tells them when to look (``runChanged``,
``currentChanged``) and keeps the run list's rows (label, status) in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from core import compare
from core.config import Config
from core.runreader import RunReadError

from ..app_settings import AppSettings
from ..worker import CLOSE_TERMINATE_AFTER
from .disk_run import QtDiskRun
from .duplicate import QtDuplicateDialog
from .follow import QtProcessCall
from .run import QtRun
from .runs import QtRunCollection


class QtRunManager(QObject):
    """See the module docstring. ``refused`` keeps the one-line reasons runs were refused.

    Signals: ``currentChanged(QtRun)``; ``runChanged(QtRun)`` (its model, state or folder
    changed); ``message(text, ms)``: a line for the status bar.
    """

    currentChanged = Signal(object)
    runChanged = Signal(object)
    draftChanged = Signal(bool)  # whether a new run waits to start
    message = Signal(str, int)

    def __init__(self, cfg: Config, settings: AppSettings, *, torch_threads: int | None = None,
                 parent: QMainWindow | None = None):
        super().__init__(parent)
        self.window = parent
        self.settings = settings
        self.torch_threads = torch_threads
        self.runs = QtRunCollection(self)
        self.calls = QtProcessCall(self)
        self.refused: list[str] = []
        self.retired: list = []  # controllers whose thread had not ended when stopped
        self.draft: QtRun | None = None
        self._current: QtRun | None = None
        self.runs.selectionChanged.connect(self._selection_changed)
        self.new_run(cfg)

    # ================================================================= reading
    @property
    def current(self) -> QtRun:
        return self._current

    @property
    def current_key(self) -> int:
        """The current run's key in the run list (-1: the new run, not listed yet)."""
        return self.runs.selected

    def run(self, key: int) -> QtRun:
        return self.runs.entry(key).source

    def all_runs(self) -> list[QtRun]:
        return [e.source for e in self.runs] + ([self.draft] if self.draft else [])

    def label(self, run: QtRun) -> str:
        entry = self.runs.find(source=run)
        return entry.label if entry is not None else "new run"

    # ================================================================= making runs
    def _make(self, settings: Config | None = None, *, disk: QtDiskRun | None = None) -> QtRun:
        run = QtRun(settings, disk=disk, torch_threads=self.torch_threads,
                    retired=self.retired, parent=self)
        run.changed.connect(lambda r=run: self._run_changed(r))
        run.started.connect(lambda r=run: self._run_started(r))
        return run

    def new_run(self, cfg: Config) -> QtRun:
        """Prepare a new run with ``cfg`` and make it current (it starts on Play). The current
        run stops training and stays in the list, unticked."""
        previous = self._current
        if previous is not None and previous is not self.draft:
            previous.stop()
            entry = self.runs.find(source=previous)
            if entry is not None:
                self.runs.set_visible(entry.key, False)
                self.message.emit(f"{entry.label} stays in the run list (unticked; its folder "
                                  f"is {entry.path})", 8000)
        old_draft, self.draft = self.draft, self._make(cfg)
        self._set_current(self.draft)
        self.runs.select(-1)
        self.draftChanged.emit(True)
        if old_draft is not None:
            old_draft.close()
            old_draft.deleteLater()
        return self.draft

    def _run_started(self, run: QtRun) -> None:
        """A run made here started on a new folder: list it (selected), or point its row to
        the new folder (a run whose start failed started over)."""
        entry = self.runs.find(source=run)
        if entry is None:
            if run is self.draft:
                self.draft = None
                self.draftChanged.emit(False)
            self.runs.add(run.model.cfg, run.path, source=run, status=run.status_text(),
                          select=run is self._current)
        else:
            entry.path = run.path
            self.runs.set_config(entry.key, run.model.cfg)
        self.settings.set_last_config(run.model.cfg)
        self.settings.add_recent_run(run.path)

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
            disk = QtDiskRun(path, self.calls, self)
        except RunReadError as exc:
            self.refused.append(str(exc))
            self.message.emit(str(exc), 10000)
            return None
        run = self._make(disk=disk)
        key = self.runs.add(disk.cfg, path, source=run, status="reading…", select=select)
        disk.statusChanged.connect(lambda status, p=path: self.message.emit(f"{status}: {p}",
                                                                             8000))
        disk.problem.connect(lambda text: self.message.emit(text, 8000))
        disk.start()
        self.settings.add_recent_run(path)
        return key

    def open_runs(self, paths_: Sequence[str | Path]) -> list[int]:
        keys = [self.open_run(p, select=i == 0) for i, p in enumerate(paths_)]
        return [k for k in keys if k is not None]

    # ================================================================= removing
    def remove(self, key: int) -> None:
        """Take a run out of the window; a run the app trains is stopped first (its folder
        gets its final line and checkpoint). Removing the last run leaves a new one."""
        run = self.run(key)
        settings = run.settings
        run.close()
        self.runs.remove(key)
        run.deleteLater()
        if self.runs.selected < 0 and self.draft is None:
            self.new_run(settings)

    def close(self) -> None:
        """Stop everything (the window closes); wait for the training threads."""
        runs = self.all_runs()
        for run in runs:  # every process finishes its step and folder at the same time
            if run.worker is not None:
                run.worker.stop(CLOSE_TERMINATE_AFTER)
        for run in runs:
            run.close(CLOSE_TERMINATE_AFTER)
        for ctrl in self.retired:
            ctrl.thread.wait()
        self.calls.shutdown()

    # ================================================================= selection
    def select(self, key: int) -> None:
        self.runs.select(key)

    def _selection_changed(self, key: int) -> None:
        if key >= 0:
            self._set_current(self.run(key))
        elif self.draft is not None:
            self._set_current(self.draft)

    def _set_current(self, run: QtRun) -> None:
        if run is not self._current:
            self._current = run
            self.currentChanged.emit(run)

    def _run_changed(self, run: QtRun) -> None:
        self.runs.refresh_labels()  # a change applied during a run is in its label
        entry = self.runs.find(source=run)
        if entry is not None:
            if run.path is not None and entry.path != run.path:
                entry.path = run.path
            self.runs.set_status(entry.key, run.status_text())
        self.runChanged.emit(run)

    # ================================================================= actions on any run
    def duplicate(self, changes: dict[str, Any], source_key: int | None = None) -> int:
        """Start a run with the source run's config (default: the current one) and these
        changes, training beside it; returns its key (the source stays selected). ConfigError
        (one line) for a refused change."""
        source = self.run(source_key) if source_key is not None else self._current
        return self._duplicate(source, changes)

    def _duplicate(self, source: QtRun, changes: dict[str, Any]) -> int:
        new_cfg = compare.duplicate_with_change(source.start_config(), changes)
        if source.path is None:  # A/B from a run not started yet: start it too
            source.play()
        run = self._make(new_cfg)
        run.play()  # starts it: listed by _run_started, not selected
        return self.runs.find(source=run).key

    def duplicate_dialog(self, source: QtRun | None = None) -> None:
        """Ask for the changes of an A/B duplicate of ``source`` (default: the current run)."""
        source = source or self._current
        dlg = QtDuplicateDialog(source.start_config(), self.window)
        if dlg.exec():
            self._duplicate(source, dlg.changes())

    def can_resume(self, key: int) -> str:
        """"" when the run can be resumed in the app, else why not (one line)."""
        return self.run(key).can_resume()

    def resume(self, key: int | None = None) -> int:
        """Go on training a stopped run in its own folder from its last checkpoint, up to its
        ``run.steps`` (as ``train --resume``); ValueError says why not."""
        key = self.runs.selected if key is None else key
        if key < 0:
            raise ValueError("cannot resume the new run: it has not started")
        try:
            self.run(key).resume()
        except ValueError as exc:
            raise ValueError(f"cannot resume {self.runs.entry(key).label}: {exc}") from None
        return key

    def resume_selected(self) -> None:
        try:
            self.resume()
        except ValueError as exc:
            self.message.emit(str(exc), 8000)
