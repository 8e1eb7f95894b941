"""Reading a large metrics.jsonl away from the GUI thread, into a bounded history.

A run opened from disk with a metrics file of more than ``BULK_BYTES`` (a few thousand lines)
is not read line by line on the GUI thread: :class:`QtMetricsLoad` reads it on a worker
thread with ``core.metrics_bulk`` (chunks of numpy columns) straight into a
:class:`~sngan_gui.history.History` (min/max per bucket, bounded), reporting its progress,
and hands the history over when done. The GUI thread only waits for the worker's chunks to
release the interpreter lock (a chunk decodes in a few milliseconds), so the window stays
responsive; ``benchmarks/open_big_run.py`` measures it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.metrics_bulk import read_columns
from core.runreader import LineProblem

from ..history import History

BULK_BYTES = 1 << 20  # more unread bytes than this are read in the background
PROGRESS_EVERY_S = 0.1
MAX_PROBLEMS = 20     # unusable lines reported one by one; the rest are counted


@dataclass
class LoadResult:
    history: History
    end: int                   # byte offset after the last complete line read
    lines: int                 # complete lines read (the line number of the last)
    last_step: int | None
    last_time: float | None
    problems: list[LineProblem] = field(default_factory=list)
    more_problems: int = 0     # unusable lines beyond MAX_PROBLEMS


class QtMetricsLoad(QObject):
    """One background read of ``path`` from byte ``start`` (line ``first_line``) into a new
    history, or into ``history`` (a followed run that grew by more than BULK_BYTES)."""

    progress = Signal(float)     # the share of the file read
    finished = Signal(object)    # LoadResult
    failed = Signal(str)         # one line

    def __init__(self, path: str | Path, *, start: int = 0, first_line: int = 0,
                 history: History | None = None, capacity: int = 4096,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self.start_offset, self.first_line = start, first_line
        self.history = history if history is not None else History(capacity)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics-load", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        history = self.history
        result = LoadResult(history, self.start_offset, self.first_line, None, None)
        shown = 0.0
        try:
            for chunk in read_columns(self.path, start=self.start_offset,
                                      first_line=self.first_line + 1,
                                      stop=self._cancel.is_set):
                history.extend_columns(chunk.steps, chunk.columns)
                result.end, result.lines = chunk.end, self.first_line + chunk.lines
                if len(chunk.steps):
                    result.last_step = int(chunk.steps[-1])
                if chunk.last_time is not None:
                    result.last_time = chunk.last_time
                room = MAX_PROBLEMS - len(result.problems)
                result.problems.extend(chunk.problems[:max(0, room)])
                result.more_problems += max(0, len(chunk.problems) - max(0, room))
                now = time.monotonic()
                if now - shown >= PROGRESS_EVERY_S:
                    shown = now
                    self.progress.emit(chunk.fraction)
        except OSError as exc:
            self.failed.emit(f"cannot read {self.path}: {exc.strerror or exc}")
            return
        if not self._cancel.is_set():
            self.finished.emit(result)
