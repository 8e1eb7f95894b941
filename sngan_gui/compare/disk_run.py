"""A run folder shown in the app: a :class:`RunModel` fed from its files.

Metrics and events come from :class:`QtRunFollower` (everything at first, then what is appended,
a half-written line held back) as the same ``core.contract`` objects a live run reports, so the
panels draw an opened run exactly as a trained one. The snapshot panels' arrays come from the
folder's last checkpoint (``core.runsnapshot.checkpoint_view``, in a child process), again each
time a followed run writes a newer checkpoint; an image run's newest sample PNG is shown at
once, without torch.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from core import contract
from core.runreader import RunUpdate, event_record, metrics_record
from core.runlayout import RunPaths
from core.runsnapshot import checkpoint_view

from ..run_model import RunModel, RunState
from .bulk_load import BULK_BYTES, LoadResult, QtMetricsLoad
from .follow import QtProcessCall, QtRunFollower

SNAPSHOT_EVERY_S = 10.0  # a followed run's checkpoint is measured again at most this often


def read_sample_png(path: str | Path, step: int) -> contract.SampleGrid | None:
    """A samples/step_*.png as the sample grid a live run reports (uint8 [H, W, C])."""
    img = QImage(str(path))
    if img.isNull():
        return None
    gray = img.isGrayscale()
    img = img.convertToFormat(QImage.Format_Grayscale8 if gray else QImage.Format_RGB888)
    channels = 1 if gray else 3
    h, w = img.height(), img.width()
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())
    pixels = rows[:, : w * channels].reshape(h, w, channels).copy()
    return contract.SampleGrid(step=step, pixels=pixels)


class QtDiskRun(QObject):
    """One opened run folder (see the module docstring). ``changed`` tells that the model has
    new data; ``statusChanged`` carries "following" / "finished" / "deleted" / "unreadable";
    ``problem`` a line that could not be used or a snapshot that could not be made."""

    changed = Signal()
    statusChanged = Signal(str)
    problem = Signal(str)

    def __init__(self, path: str | Path, calls: QtProcessCall, parent: QObject | None = None,
                 *, interval_ms: int | None = None):
        super().__init__(parent)
        kwargs = {} if interval_ms is None else {"interval_ms": interval_ms}
        self.follower = QtRunFollower(path, parent=self, **kwargs)  # RunReadError: not a run
        self.calls = calls
        self.follower.bulk_over = BULK_BYTES  # big files are read in the background
        self.model = RunModel(self.follower.cfg)
        self._last: tuple[int, float] | None = None  # (step, time) of the last line read
        self.load: QtMetricsLoad | None = None      # a background read under way
        self._reading = ""                          # its progress, while it reads
        self._checkpoint_seen: float | None = None
        self._snapshot_asked = 0.0
        self._snapshot_pending = False
        self._samples_step = -1
        self.follower.updated.connect(self._on_update)
        self.follower.statusChanged.connect(self._on_status)
        self.follower.problem.connect(self.problem)
        calls.finished.connect(self._on_snapshot)
        calls.failed.connect(self._on_snapshot_failed)

    @property
    def path(self) -> Path:
        return self.follower.path

    @property
    def cfg(self):
        return self.follower.cfg

    @property
    def status(self) -> str:
        """"following", "finished", "deleted", "unreadable", or "reading N %" while a big
        file is read in the background."""
        return self._reading if self.load is not None else self.follower.status

    def _set_reading(self, share: float) -> None:
        self._reading = f"reading {100 * share:.0f} %"
        self.statusChanged.emit(self._reading)

    def start(self) -> None:
        self.follower.start()
        self.ask_snapshot()

    def stop(self) -> None:
        """Stop following (e.g. before the app trains this folder itself)."""
        self.follower.stop()
        if self.load is not None:
            self.load.cancel()
            self.load = None

    # ----------------------------------------------------------------- files -> model
    def _on_update(self, update: RunUpdate) -> None:
        if update.restarted:  # rewritten (a resume trimmed it): start the model again
            info, snap = self.model.info, self.model.snapshot
            self.model = RunModel(self.cfg)
            self._last = None
            if info is not None:
                self.model.apply(contract.RunStarted(info))
            self.model.replace_snapshot(snap)
        if update.bulk_from is not None:
            self._start_load(update.bulk_from)
        records = []
        for raw in update.metrics:
            try:
                records.append(metrics_record(raw))
            except (TypeError, ValueError) as exc:
                self.problem.emit(f"{RunPaths(self.path).metrics}: step {raw.get('step')}: {exc}")
        events = []
        for raw in update.events:
            try:
                events.append(event_record(raw))
            except ValueError as exc:
                self.problem.emit(f"{RunPaths(self.path).events}: {exc}")
        if records:
            self._last = (records[-1].step, float(records[-1].time))
        self._progress(records, events)
        if update.samples:
            step, png = update.samples[-1]
            if step > self._samples_step:
                grid = read_sample_png(png, step)
                if grid is not None:
                    self._samples_step = step
                    self.model.update_snapshot(contract.ProbeSnapshot(samples=grid))
        self.ask_snapshot()
        self.changed.emit()

    def _progress(self, records=(), events=()) -> None:
        step, elapsed = self._last if self._last is not None else (0, 0.0)
        self.model.apply(contract.RunProgress(
            step=step, running=False, rate=0.0, elapsed=elapsed,
            done=self.follower.reader.finished, records=tuple(records), events=tuple(events)))

    # ----------------------------------------------------------------- big files
    def _start_load(self, start: int) -> None:
        """Read metrics.jsonl from byte ``start`` on a worker thread (see bulk_load), not
        following meanwhile; the lines read so far stay on screen."""
        if self.load is not None:
            return
        self.follower.stop()
        history = None if start == 0 else copy.deepcopy(self.model.history)
        self.load = QtMetricsLoad(RunPaths(self.path).metrics, start=start,
                                  first_line=self.follower.reader.metrics_lines,
                                  history=history, capacity=self.model.history.capacity,
                                  parent=self)
        self.load.progress.connect(self._set_reading)
        self.load.finished.connect(self._loaded)
        self.load.failed.connect(self._load_failed)
        self._set_reading(0.0)
        self.load.start()

    @property
    def loading(self) -> bool:
        return self.load is not None

    def _loaded(self, result: LoadResult) -> None:
        if self.load is None or result.history is not self.load.history:
            return  # cancelled
        self.load = None
        for problem in result.problems:
            self.problem.emit(str(problem))
        if result.more_problems:
            self.problem.emit(f"{RunPaths(self.path).metrics}: {result.more_problems} more "
                              f"unusable lines")
        self.follower.reader.metrics_read_to(result.end, result.lines, result.last_step)
        if result.last_step is not None:
            self._last = (result.last_step, float(result.last_time or 0.0))
        self.model.replace_history(result.history)
        self._progress()
        self.follower.status = ""  # say "following"/"finished" again after "reading"
        self.follower.start()
        self.changed.emit()

    def _load_failed(self, text: str) -> None:
        self.load = None
        self.problem.emit(text)
        self.statusChanged.emit("unreadable")

    def _on_status(self, status: str) -> None:
        if self.load is not None and status in ("following", "finished"):
            return  # still reading: the load's "reading N %" stays (it says so when done)
        if status == "finished":
            self.model.set_state(RunState.FINISHED)
        self.statusChanged.emit(status)

    # ----------------------------------------------------------------- checkpoint snapshot
    def ask_snapshot(self, force: bool = False) -> bool:
        """Measure the last checkpoint again if it is new (at most every SNAPSHOT_EVERY_S);
        True when a measurement was started."""
        try:
            mtime = RunPaths(self.path).trainer_checkpoint.stat().st_mtime
        except OSError:
            return False
        now = time.monotonic()
        if self._snapshot_pending or (not force and mtime == self._checkpoint_seen):
            return False
        if not force and self._checkpoint_seen is not None \
                and now - self._snapshot_asked < SNAPSHOT_EVERY_S:
            return False
        self._checkpoint_seen, self._snapshot_asked = mtime, now
        self._snapshot_pending = True
        self.calls.submit(self, checkpoint_view, self.path, threads=1)
        return True

    @property
    def snapshot_pending(self) -> bool:
        return self._snapshot_pending

    def _on_snapshot(self, tag, result) -> None:
        if tag is not self:
            return
        self._snapshot_pending = False
        info, snap = result
        state = self.model.state
        if self.model.info is None:
            self.model.apply(contract.RunStarted(info))  # the real points of 2D data
        self.model.set_state(state)
        samples = self.model.snapshot.samples
        if samples is not None and snap.samples is not None and samples.step > snap.samples.step:
            snap = dataclasses.replace(snap, samples=samples)
        self.model.update_snapshot(snap)
        self.changed.emit()

    def _on_snapshot_failed(self, tag, text: str) -> None:
        if tag is self:
            self._snapshot_pending = False
            self.problem.emit(text)
