"""The training worker: one per run, living in its own QThread.

GUI -> worker: :meth:`QtTrainingWorker.play`, ``pause``, ``step``, ``stop`` and ``submit`` put
commands on a thread-safe queue that the worker drains **between** training steps (every command
is kept, in order). Config changes go on to ``Trainer.submit`` from the training thread, so they
are applied at a step boundary and written to the run's events.jsonl by the session.

Worker -> GUI: the ``progress`` signal carries plain python/numpy copies (metrics records since
the last signal, applied events, an optional probe snapshot) and fires at most ``max_hz`` times
per second, plus once on every state change. The GUI never touches torch objects.

Run folder, logging and checkpoints are those of ``core.session.TrainingSession``, the same code
the headless CLI runs, so a GUI run writes exactly what ``python main.py train`` writes.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from core.config import DATASETS_2D

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.config import Config, ConfigError

from . import probes


SWITCH_INTERVAL = 0.0005


def default_torch_threads(cfg=None) -> int:
    """Intra-op threads for training, by workload (measured with benchmarks/gui_throughput.py
    on 2 cores): conv models are compute-bound and use every core (the DCGAN trains at 10.5
    steps/s in the GUI with 2 threads, 7.2 with 1); the 2D MLPs are dispatch-bound, gain little
    from a second thread and then compete with the GUI thread for the GIL, so they leave one
    core to the GUI (ring8: 133 steps/s with 1 thread, 81 with 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if cfg is not None and cfg.data.dataset not in DATASETS_2D:
        return cores
    return max(1, cores - 1)


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
                 torch_threads: int | None = None):
        super().__init__()
        self.cfg = cfg.copy()
        self.run_dir = Path(run_dir)
        self.min_emit = 1.0 / max_hz
        self.snapshot_budget = snapshot_budget
        self.snapshot_min_interval = snapshot_min_interval
        self.torch_threads = torch_threads
        self._commands: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._cancel = threading.Event()  # also cancels a dataset download
        self.session = None

    # ------------------------------------------------------------------ GUI thread API
    def play(self) -> None:
        self._commands.put(("play",))

    def pause(self) -> None:
        self._commands.put(("pause",))

    def step(self, n: int = 1) -> None:
        self._commands.put(("step", int(n)))

    def stop(self) -> None:
        self._cancel.set()
        self._commands.put(("stop",))

    def submit(self, key: str, value: Any) -> None:
        """Queue a live config change (already validated by the GUI)."""
        self._commands.put(("change", key, value))

    def request_snapshot(self) -> None:
        self._commands.put(("snapshot",))

    # ------------------------------------------------------------------ training thread
    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # never let an exception kill the thread silently
            self.message.emit("error", f"training stopped: {exc}")
            traceback.print_exc()
        finally:
            if self.session is not None:
                try:
                    self.session.finish()
                except Exception as exc:
                    self.message.emit("error", f"could not finish the run folder: {exc}")
            self.finished.emit()

    def _prepare_data(self) -> bool:
        try:
            from core.data import prepare_dataset  # type: ignore[attr-defined]
        except ImportError:
            return True
        last = [0.0]

        def progress(done=None, total=None, label=""):
            now = time.perf_counter()
            if now - last[0] >= self.min_emit or (total and done == total):
                last[0] = now
                self.download.emit(done, total, str(label))

        try:
            prepare_dataset(self.cfg, progress=progress, cancel=self._cancel)
        except Exception as exc:
            if type(exc).__name__ == "DownloadCancelled" or self._cancel.is_set():
                return False
            raise
        finally:
            self.download.emit(None, None, "")
        return not self._cancel.is_set()

    def _run(self) -> None:
        from core.session import TrainingSession
        from core.trainer import Diverged
        from core.cli import USER_ERRORS

        import torch

        threads = (self.torch_threads if self.torch_threads is not None
                   else default_torch_threads(self.cfg))
        if threads > 0:  # 0 = leave torch's default
            torch.set_num_threads(threads)
        try:
            if not self._prepare_data():
                self.message.emit("info", "dataset download cancelled")
                return
            self.session = session = TrainingSession(self.run_dir, self.cfg)
        except USER_ERRORS as exc:
            self.message.emit("error", str(exc))
            return
        trainer = session.trainer
        from core.constraints import constrained_layers

        self.started.emit({"run_dir": str(session.folder.path), "device": str(trainer.device),
                           "layers": [name for name, _ in constrained_layers(trainer.D)],
                           "kind": "image" if trainer.is_image else "2d"})

        running, steps_left = False, 0
        records: list[dict] = []
        events: list[dict] = []
        # Every event the session writes to events.jsonl is also sent to the GUI (markers).
        write_event = session.folder.append_event

        def append_event(event: dict) -> None:
            write_event(event)
            events.append(dict(event))

        session.folder.append_event = append_event
        rng_state: dict = {}
        last_emit = last_snap = 0.0
        snap_cost = 0.0
        rate, rate_t, rate_step = 0.0, time.perf_counter(), trainer.step_count
        dirty = True
        want_snapshot = True

        while True:
            # ---- drain commands (block briefly while idle: no busy loop, stop stays prompt)
            idle = not running and steps_left == 0
            try:
                cmd = self._commands.get(timeout=0.05) if idle else self._commands.get_nowait()
            except queue.Empty:
                cmd = None
            changed = False
            while cmd is not None:
                kind = cmd[0]
                if kind == "stop":
                    return
                if kind == "play":
                    running = not session.done
                elif kind == "pause":
                    running, steps_left = False, 0
                    want_snapshot = True
                elif kind == "step":
                    steps_left += cmd[1]
                elif kind == "change":
                    try:
                        trainer.submit(cmd[1], cmd[2])
                        changed = True
                    except ConfigError as exc:
                        self.message.emit("warning", f"change refused: {exc}")
                elif kind == "snapshot":
                    want_snapshot = True
                dirty = True
                try:
                    cmd = self._commands.get_nowait()
                except queue.Empty:
                    cmd = None
            if changed and not running and steps_left == 0:
                session.apply_pending()  # paused: apply now so the event shows at once
                want_snapshot = True

            # ---- one training step
            if (running or steps_left) and not session.done:
                try:
                    rec = session.advance()
                except Diverged as exc:
                    running, steps_left = False, 0
                    self.diverged.emit(f"{exc}. Training is paused; change the settings and press "
                                       f"Reset to start a new run (the last good checkpoint is in "
                                       f"{session.folder.checkpoint_dir}).")
                    dirty = want_snapshot = True
                    rec = None
                if rec is not None:
                    records.append(dict(rec))
                if steps_left:
                    steps_left -= 1
                    if steps_left == 0:
                        dirty = want_snapshot = True
                if session.done:
                    if running:
                        self.message.emit("info", f"run finished at step {trainer.step_count}")
                    running, steps_left = False, 0
                    session.finish()
                    session.folder.open()  # keep events of later changes appendable
                    dirty = want_snapshot = True

            # ---- throttled signal to the GUI
            now = time.perf_counter()
            if now - rate_t >= 0.5:
                rate = (trainer.step_count - rate_step) / (now - rate_t)
                rate_t, rate_step = now, trainer.step_count
            if not (running or steps_left):
                rate = 0.0 if not dirty else rate
            busy = running or steps_left > 0
            if dirty or (busy and now - last_emit >= self.min_emit):
                payload: dict[str, Any] = {
                    "step": trainer.step_count, "running": running or steps_left > 0,
                    "rate": rate, "elapsed": trainer.elapsed(), "records": records,
                    "events": events, "done": session.done}
                # The engine's snapshot is a cheap dict of its latest probes (taken on its own
                # cadence); the local fallback probe is throttled to a share of the time.
                snap_due = now - last_snap >= max(self.snapshot_min_interval,
                                                  snap_cost / self.snapshot_budget)
                if want_snapshot or ((running or steps_left) and snap_due):
                    t0 = time.perf_counter()
                    try:
                        snap = probes.take_snapshot(session, rng_state, force=want_snapshot)
                    except Exception as exc:  # a probe must never stop training
                        snap = None
                        self.message.emit("warning", f"probe failed: {exc}")
                    if snap is not None:
                        payload["snapshot"] = snap
                    snap_cost = time.perf_counter() - t0
                    last_snap = time.perf_counter()
                    want_snapshot = False
                self.progress.emit(payload)
                records, events = [], []
                last_emit = now
                dirty = False


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
        # The training thread releases the GIL around every torch op; with the default 5 ms
        # switch interval, each re-acquire can wait for a GUI paint to be forced off the GIL
        # (a convoy that halves small-model throughput). 0.5 ms keeps both threads flowing.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the worker and wait for its thread; True when the thread has ended."""
        self.worker.stop()
        if self.thread.isRunning():
            self.thread.quit()
            ok = self.thread.wait(timeout_ms)
        else:
            ok = True
        return ok
