"""The training worker: one per run, driven from its own QThread.

The training loop itself (:func:`sngan_gui.training_loop.run_training`, Qt-free) runs by default
in a **spawned child process**, with its own interpreter and GIL: pyqtgraph painting holds the
GUI process's GIL for tens of milliseconds, which slowed a training thread sharing it to ~0.78x
the headless speed. The worker's QThread starts the child and relays its reports (tuples on a
``multiprocessing.Queue``) to the Qt signals below, until ``("finished",)`` arrives or the child
dies. The spawn start method is used because forking a process that runs Qt and threads is
unsafe. As with any spawn-based multiprocessing, a *script* that opens the window and trains
must guard its entry point with ``if __name__ == "__main__":`` (the child re-imports the main
module; ``main.py``, ``python -m ...`` and the benchmarks already do). Starting a child costs
1-3 s (it imports torch) while the GUI stays responsive and its status line says "starting…".

In-thread mode (``in_process=True`` or ``SNGAN_GUI_INPROCESS=1``) runs the same loop directly in
the QThread. Use it where a child process cannot be spawned or is unwanted: when debugging the
loop (breakpoints, profilers), when tests monkeypatch the engine in the GUI process, or in
frozen/embedded builds where ``multiprocessing`` spawn is unavailable. It trains slower on
small models (the GIL is shared with painting).

GUI -> worker: :meth:`QtTrainingWorker.play`, ``pause``, ``step``, ``stop`` and ``submit`` put
commands on a queue that the loop drains **between** training steps (every command is kept, in
order). Config changes go on to ``Trainer.submit``, so they are applied at a step boundary and
written to the run's events.jsonl by the session.

Worker -> GUI: the ``progress`` signal carries plain python/numpy data (metrics records since
the last signal, applied events, an optional probe snapshot) and fires at most ``max_hz`` times
per second, plus once on every state change. The GUI never touches torch objects.

Run folder, logging and checkpoints are those of ``core.session.TrainingSession``, the same code
the headless CLI runs, so a GUI run writes exactly what ``python main.py train`` writes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.config import Config

from .training_loop import child_main, default_torch_threads, run_training

__all__ = ["QtTrainingWorker", "QtRunController", "default_torch_threads", "in_process_default"]

# In-thread mode only: the training thread releases the GIL around every torch op; with the
# default 5 ms switch interval each re-acquire can wait for a GUI paint to be forced off the GIL.
SWITCH_INTERVAL = 0.0005
TERMINATE_AFTER = 2.0  # s after stop() before a child that has not finished is terminated
KILL_AFTER = 1.0       # s after terminate() before it is killed


def in_process_default() -> bool:
    """True when ``SNGAN_GUI_INPROCESS`` asks for the in-thread fallback."""
    return os.environ.get("SNGAN_GUI_INPROCESS", "").strip().lower() in ("1", "true", "yes", "on")


class QtTrainingWorker(QObject):
    """Runs a :class:`core.session.TrainingSession` step by step; see the module docstring."""

    started = Signal(dict)       # {"run_dir", "device", "layers", "kind"}
    progress = Signal(dict)      # {"step", "running", "rate", "elapsed", "records", "events", "snapshot"?}
    message = Signal(str, str)   # (level: "info" | "warning" | "error", text)
    diverged = Signal(str)
    download = Signal(object, object, str)  # (done, total, label) while a dataset is fetched
    finished = Signal()

    def __init__(self, cfg: Config, run_dir: str | Path, *, max_hz: float = 30.0,
                 snapshot_budget: float = 0.03, snapshot_min_interval: float = 0.25,
                 torch_threads: int | None = None, in_process: bool | None = None):
        super().__init__()
        self.cfg = cfg.copy()
        self.run_dir = Path(run_dir)
        self.min_emit = 1.0 / max_hz
        self.snapshot_budget = snapshot_budget
        self.snapshot_min_interval = snapshot_min_interval
        self.torch_threads = torch_threads
        self.in_process = in_process_default() if in_process is None else bool(in_process)
        if self.in_process:
            self._commands: Any = queue.SimpleQueue()
            self._cancel: Any = threading.Event()  # also cancels a dataset download
        else:
            self._ctx = mp.get_context("spawn")
            self._commands = self._ctx.Queue()
            self._cancel = self._ctx.Event()
        self._stop_requested = threading.Event()
        self.process = None  # the child process (None in in-thread mode, or before run())

    # ------------------------------------------------------------------ GUI thread API
    def _send(self, cmd: tuple) -> None:
        try:
            self._commands.put(cmd)
        except (ValueError, OSError):  # the run has ended and its queue is closed
            pass

    def play(self) -> None:
        self._send(("play",))

    def pause(self) -> None:
        self._send(("pause",))

    def step(self, n: int = 1) -> None:
        self._send(("step", int(n)))

    def stop(self) -> None:
        self._cancel.set()
        self._stop_requested.set()
        self._send(("stop",))

    def submit(self, key: str, value: Any) -> None:
        """Queue a live config change (already validated by the GUI)."""
        self._send(("change", key, value))

    # ------------------------------------------------------------------ worker thread
    def _options(self) -> dict:
        return {"min_emit": self.min_emit, "snapshot_budget": self.snapshot_budget,
                "snapshot_min_interval": self.snapshot_min_interval}

    def _dispatch(self, msg: tuple) -> bool:
        """Emit the signal for one report; True for ``("finished",)``."""
        kind, args = msg[0], msg[1:]
        if kind == "finished":
            return True
        signal = {"started": self.started, "progress": self.progress, "message": self.message,
                  "diverged": self.diverged, "download": self.download}.get(kind)
        if signal is not None:
            signal.emit(*args)
        return False

    @Slot()
    def run(self) -> None:
        try:
            if self.in_process:
                run_training(self.cfg, self.run_dir, self.torch_threads, self._commands,
                             self._cancel, lambda *msg: self._dispatch(msg), **self._options())
            else:
                self._relay()
        except Exception as exc:  # never let an exception kill the thread silently
            self.message.emit("error", f"training stopped: {exc}")
            traceback.print_exc()
        finally:
            self.finished.emit()

    def _relay(self) -> None:
        out = self._ctx.Queue()
        proc = self._ctx.Process(
            target=child_main, name="sngan-training",
            args=(self.cfg.to_dict(), str(self.run_dir), self.torch_threads, self._commands,
                  self._cancel, out, self._options()),
            daemon=True)  # never outlives the GUI, whatever happens
        self.process = proc
        try:
            proc.start()
            finished = False
            stop_at = term_at = None
            while not finished:
                try:
                    msg = out.get(timeout=0.05)
                except queue.Empty:
                    msg = None
                if msg is not None:
                    finished = self._dispatch(msg)
                elif not proc.is_alive():
                    # The child has ended: take what it sent before going (its queue's
                    # feeder flushed at exit), then report a crash if "finished" never came.
                    try:
                        while not finished:
                            finished = self._dispatch(out.get(timeout=0.2))
                    except queue.Empty:
                        pass
                    if not finished and not self._stop_requested.is_set():
                        self.message.emit("error", "training process ended unexpectedly "
                                                   f"(exit code {proc.exitcode})")
                    break
                if not finished and self._stop_requested.is_set():
                    now = time.monotonic()
                    stop_at = stop_at or now
                    if term_at is None and now - stop_at >= TERMINATE_AFTER:
                        proc.terminate()  # stuck: the run folder keeps its last checkpoint
                        term_at = now
                    elif term_at is not None and now - term_at >= KILL_AFTER:
                        proc.kill()
                        break
        finally:
            if proc.pid is not None:  # started
                proc.join(KILL_AFTER if proc.is_alive() else None)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            for q in (out, self._commands):
                q.close()
                q.join_thread()


class QtRunController(QObject):
    """Owns one worker and its QThread; guarantees the thread is gone after :meth:`shutdown`."""

    def __init__(self, worker: QtTrainingWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.finished.connect(self.thread.quit)

    def start(self) -> None:
        if self.worker.in_process and sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the worker and wait for its thread (and its child process); True when both have
        ended."""
        self.worker.stop()
        if self.thread.isRunning():
            self.thread.quit()
            ok = self.thread.wait(timeout_ms)
        else:
            ok = True
        proc = self.worker.process
        return ok and (proc is None or not proc.is_alive())
