"""Following a run folder another process writes (the CLI, a sweep, a synced folder), and
computing a run's snapshot away from the GUI thread.

:class:`QtRunFollower` reads the folder with ``core.runreader.RunReader``: everything at
:meth:`~QtRunFollower.start`, then only what was appended, on a timer. A half-written last line
is held back by the reader until its newline arrives, so no point is ever parsed half or
twice. A finished run is still looked at, less often (a ``--resume`` may extend it).

:class:`QtProcessCall` runs a function (e.g. ``core.runsnapshot.checkpoint_view``, which
needs torch) in a spawned child process and reports its result as a Qt signal, so the GUI
thread never does torch work.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import first_line
from core.runreader import RunGoneError, RunReader, RunReadError, RunUpdate

FOLLOW_INTERVAL_MS = 500
FINISHED_SLOWDOWN = 10  # a finished run is polled this many times less often


class QtRunFollower(QObject):
    """Reads one run folder now and then again as it grows (see the module docstring).

    Signals: ``updated(RunUpdate)`` with what is new (never empty); ``statusChanged(str)``:
    "following" while the last logged step is below ``run.steps``, "finished" once it is
    reached, "deleted" when the folder went away (for ``GONE_AFTER_S``), "unreadable" when it
    cannot be read; ``problem(str)``: one line per unusable
    line in metrics/events (named by file and line number) or a read error.

    The constructor raises ``RunReadError`` (one line) for a folder that is not a run.
    """

    updated = Signal(object)
    statusChanged = Signal(str)
    problem = Signal(str)

    def __init__(self, path: str | Path, *, interval_ms: int = FOLLOW_INTERVAL_MS,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.reader = RunReader(path)
        self.interval_ms = int(interval_ms)
        # More unread bytes of metrics.jsonl than this are left to a bulk read (the update's
        # ``bulk_from``; see DiskRun); None reads everything here.
        self.bulk_over: int | None = None
        self.status = ""
        self._reported: set[str] = set()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)

    @property
    def path(self) -> Path:
        return self.reader.path

    @property
    def cfg(self):
        return self.reader.cfg

    def start(self) -> RunUpdate:
        """Read what is there now (returned and emitted), then keep following."""
        self.timer.start()
        self._pace()
        return self.poll()  # which stops the timer again for an unreadable or deleted folder

    def stop(self) -> None:
        self.timer.stop()

    @property
    def following(self) -> bool:
        return self.timer.isActive()

    def poll(self) -> RunUpdate:
        """Read what was appended since the last poll; emits ``updated`` if anything was."""
        try:
            update = self.reader.poll(bulk_over=self.bulk_over)
        except RunReadError as exc:
            self.stop()
            self.problem.emit(str(exc))
            self._set_status("deleted" if isinstance(exc, RunGoneError) else "unreadable")
            return RunUpdate()
        for p in self.reader.problems:
            text = str(p)
            if text not in self._reported:
                self._reported.add(text)
                self.problem.emit(text)
        if update:
            self.updated.emit(update)
        self._set_status("finished" if self.reader.finished else "following")
        return update

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self._pace()
            self.statusChanged.emit(status)

    def _pace(self) -> None:
        slow = FINISHED_SLOWDOWN if self.status == "finished" else 1
        self.timer.setInterval(self.interval_ms * slow)


class QtProcessCall(QObject):
    """Runs picklable functions in one spawned child process (started on first use, kept for
    the next call); each result comes back as ``finished(tag, result)`` or
    ``failed(tag, one-line message)`` on the thread that owns this object."""

    finished = Signal(object, object)
    failed = Signal(object, str)
    _done = Signal(object, object)  # (tag, future), from the executor's thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._executor: ProcessPoolExecutor | None = None
        self._done.connect(self._deliver)
        self.pending = 0

    def submit(self, tag: Any, fn: Callable, *args, **kwargs) -> Future:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = self._executor.submit(fn, *args, **kwargs)
        self.pending += 1
        future.add_done_callback(lambda f: self._done.emit(tag, f))
        return future

    def _deliver(self, tag: Any, future: Future) -> None:
        self.pending -= 1
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            self.finished.emit(tag, future.result())
        else:
            self.failed.emit(tag, first_line(exc))

    def shutdown(self) -> None:
        """Stop the child (waiting for a call under way); later calls start a new one."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
