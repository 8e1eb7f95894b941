"""A run folder shown in the app: a :class:`RunModel` fed from its files.

Metrics and events come from :class:`QtRunFollower` (everything at first, then what is appended,
a half-written line held back) as the same ``core.contract`` objects a live run reports, so the
panels draw an opened run exactly as a trained one. The snapshot panels' arrays come from the
folder's last checkpoint (``core.runsnapshot.checkpoint_view``, in a child process), again each
time a followed run writes a newer checkpoint; an image run's newest sample PNG is shown at
once, without torch.
"""

from __future__ import annotations

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
    new data; ``statusChanged`` carries "following" / "finished" / "unreadable"; ``problem``
    a line that could not be used or a snapshot that could not be made."""

    changed = Signal()
    statusChanged = Signal(str)
    problem = Signal(str)

    def __init__(self, path: str | Path, calls: QtProcessCall, parent: QObject | None = None,
                 *, interval_ms: int | None = None):
        super().__init__(parent)
        kwargs = {} if interval_ms is None else {"interval_ms": interval_ms}
        self.follower = QtRunFollower(path, parent=self, **kwargs)  # RunReadError: not a run
        self.calls = calls
        self.model = RunModel(self.follower.cfg)
        self.records: list[contract.MetricsRecord] = []
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
        return self.follower.status

    def start(self) -> None:
        self.follower.start()
        self.ask_snapshot()

    def stop(self) -> None:
        """Stop following (e.g. before the app trains this folder itself)."""
        self.follower.stop()

    # ----------------------------------------------------------------- files -> model
    def _on_update(self, update: RunUpdate) -> None:
        if update.restarted:  # rewritten (a resume trimmed it): start the model again
            info, snap = self.model.info, self.model.snapshot
            self.model = RunModel(self.cfg)
            self.records = []
            if info is not None:
                self.model.apply(contract.RunStarted(info))
            self.model.replace_snapshot(snap)
        records = []
        for raw in update.metrics:
            try:
                records.append(metrics_record(raw))
            except (TypeError, ValueError) as exc:
                self.problem.emit(f"{self.path / 'metrics.jsonl'}: step {raw.get('step')}: {exc}")
        events = []
        for raw in update.events:
            try:
                events.append(event_record(raw))
            except ValueError as exc:
                self.problem.emit(f"{self.path / 'events.jsonl'}: {exc}")
        self.records.extend(records)
        last = self.records[-1] if self.records else None
        self.model.apply(contract.RunProgress(
            step=last.step if last else 0, running=False, rate=0.0,
            elapsed=float(last.time) if last else 0.0, done=self.follower.reader.finished,
            records=tuple(records), events=tuple(events)))
        if update.samples:
            step, png = update.samples[-1]
            if step > self._samples_step:
                grid = read_sample_png(png, step)
                if grid is not None:
                    self._samples_step = step
                    self.model.update_snapshot(contract.ProbeSnapshot(samples=grid))
        self.ask_snapshot()
        self.changed.emit()

    def _on_status(self, status: str) -> None:
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
