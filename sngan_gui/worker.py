"""The training worker: one per run, driven from its own QThread.

The run loop itself (:class:`core.runloop.RunLoop`, Qt-free) runs by default in a **spawned
child process**, with its own interpreter and GIL: pyqtgraph painting holds the GUI process's
GIL for tens of milliseconds, which slows a training thread sharing it. The worker's QThread
starts the child and relays its reports (:mod:`core.contract` objects on a
``multiprocessing.Queue``) as the ``report`` signal, until ``RunFinished`` arrives or the child
dies (then it reports ``RunFailed`` with the exit code). The spawn start method is used because
forking a process that runs Qt and threads is unsafe. As with any spawn-based multiprocessing, a
*script* that opens the window and trains must guard its entry point with
``if __name__ == "__main__":`` (the child re-imports the main module). Starting a child takes
a few seconds (it imports torch) while the GUI stays responsive.

In-thread mode (``in_process=True`` or ``SNGAN_GUI_INPROCESS=1``) runs the same loop directly in
the QThread. Use it where a child process cannot be spawned or is unwanted: when debugging the
loop (breakpoints, profilers), when tests monkeypatch the engine in the GUI process, or in
frozen/embedded builds where ``multiprocessing`` spawn is unavailable. It trains slower on
small models (the GIL is shared with painting).

GUI -> worker: :meth:`QtTrainingWorker.play`, ``pause``, ``step``, ``step_net``, ``stop``,
``submit`` and ``continue_run`` put commands on the loop's queue. A worker made with ``resume=True`` continues
an existing run folder from its last checkpoint (after its training process died). Run folder, logging and checkpoints are those of
``core.session.TrainingSession``, so a GUI run writes exactly what ``python main.py train``
writes.
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

from core import contract
from core.config import Config
from core.runloop import RunLoop, child_main, default_torch_threads

from .run_model import RunModel, RunState

__all__ = ["QtTrainingWorker", "QtRunController", "default_torch_threads", "in_process_default"]

# In-thread mode only: the training thread releases the GIL around every torch op; with the
# default 5 ms switch interval each re-acquire can wait for a GUI paint to be forced off the GIL.
SWITCH_INTERVAL = 0.0005
TERMINATE_AFTER = 2.0  # s after stop() before a child that has not finished is terminated
# When the app closes, the window is already gone: give the child time to finish the step it
# is in and write its final line and checkpoint (a DCGAN step on a busy machine takes seconds).
CLOSE_TERMINATE_AFTER = 15.0
KILL_AFTER = 1.0       # s after terminate() before it is killed
# s the relay waits for a report before it looks at the child and at a stop request. A report
# wakes it at once; a short wait would only wake the GUI process for nothing while the child
# trains.
RELAY_WAIT = 0.25


def _signal_name(exitcode: int | None) -> str:
    """", killed by SIGKILL" for a negative exit code of multiprocessing."""
    import signal

    if exitcode is None or exitcode >= 0:
        return ""
    try:
        return f", killed by {signal.Signals(-exitcode).name}"
    except ValueError:
        return ""


def in_process_default() -> bool:
    """True when ``SNGAN_GUI_INPROCESS`` asks for the in-thread fallback."""
    return os.environ.get("SNGAN_GUI_INPROCESS", "").strip().lower() in ("1", "true", "yes", "on")


class QtTrainingWorker(QObject):
    """Runs one :class:`core.runloop.RunLoop`; see the module docstring."""

    report = Signal(object)  # every core.contract report but RunFinished
    finished = Signal()      # after the loop (and its child process) has ended

    def __init__(self, cfg: Config, run_dir: str | Path, *, torch_threads: int | None = None,
                 in_process: bool | None = None, resume: bool = False,
                 device: str | None = None, settings: dict[str, Any] | None = None):
        super().__init__()
        self.cfg = cfg.copy()
        self.run_dir = Path(run_dir)
        self.torch_threads = torch_threads
        self.resume, self.device, self.settings = resume, device, dict(settings or {})
        self.in_process = in_process_default() if in_process is None else bool(in_process)
        if self.in_process:
            self._commands: Any = queue.SimpleQueue()
            self._cancel: Any = threading.Event()  # also cancels a dataset download
        else:
            self._ctx = mp.get_context("spawn")
            self._commands = self._ctx.Queue()
            self._cancel = self._ctx.Event()
        self._stop_requested = threading.Event()
        self._terminate_after = TERMINATE_AFTER
        self.process = None  # the child process (None in in-thread mode, or before run())

    # ------------------------------------------------------------------ GUI thread API
    def _send(self, cmd: contract.Command) -> None:
        try:
            self._commands.put(cmd)
        except (ValueError, OSError):  # the run has ended and its queue is closed
            pass

    def play(self) -> None:
        self._send(contract.Play())

    def pause(self) -> None:
        self._send(contract.Pause())

    def step(self, n: int = 1) -> None:
        self._send(contract.Step(int(n)))

    def step_net(self, net: str) -> None:
        """One update of D (``"D"``) or G (``"G"``) alone, then paused."""
        self._send(contract.StepD() if net == "D" else contract.StepG())

    def stop(self, terminate_after: float = TERMINATE_AFTER) -> None:
        """Stop the run (final line and checkpoint); a child still busy ``terminate_after``
        seconds later is terminated (the run folder keeps its previous checkpoint set)."""
        self._terminate_after = terminate_after
        self._cancel.set()
        self._stop_requested.set()
        self._send(contract.Stop())

    def submit(self, key: str, value: Any) -> None:
        """Queue a live config change (already validated by the GUI)."""
        self._send(contract.Change(key, value))

    def pause_at(self, step: int | None) -> None:
        """Pause once the run reaches generator step ``step`` (None: no such pause)."""
        self._send(contract.PauseAt(step))

    def schedule(self, step: int, key: str, value: Any) -> None:
        """A live change before generator step ``step + 1``, as ``train --change``."""
        self._send(contract.ScheduleChange(int(step), key, value))

    def continue_run(self, device: str | None, settings: dict[str, Any]) -> None:
        """After a divergence or a device failure: continue from the last good checkpoint."""
        self._send(contract.Continue(device, dict(settings)))

    # ------------------------------------------------------------------ worker thread
    def _dispatch(self, report: contract.Report) -> bool:
        """Emit one report; True for ``RunFinished``."""
        if isinstance(report, contract.RunFinished):
            return True
        self.report.emit(report)
        return False

    @Slot()
    def run(self) -> None:
        try:
            if self.in_process:
                RunLoop(self.cfg, self.run_dir, self._commands, self._cancel, self._dispatch,
                        torch_threads=self.torch_threads, resume=self.resume,
                        device=self.device, settings=self.settings).run()
            else:
                self._relay()
        except Exception as exc:  # never let an exception kill the thread silently
            self.report.emit(contract.RunFailed(f"training stopped: {exc}"))
            traceback.print_exc()
        finally:
            self.finished.emit()

    def _relay(self) -> None:
        out = self._ctx.Queue()
        proc = self._ctx.Process(
            target=child_main, name="sngan-training",
            args=(self.cfg.to_dict(), str(self.run_dir), self.torch_threads, self._commands,
                  self._cancel, out, self.resume, self.device, self.settings),
            daemon=True)  # never outlives the GUI, whatever happens
        self.process = proc
        try:
            proc.start()
            finished = False
            stop_at = term_at = None
            while not finished:
                try:
                    msg = out.get(timeout=RELAY_WAIT)
                except queue.Empty:
                    msg = None
                if msg is not None:
                    finished = self._dispatch(msg)
                elif not proc.is_alive():
                    # The child has ended: take what it sent before going (its queue's
                    # feeder flushed at exit), then report a crash if RunFinished never came.
                    try:
                        while not finished:
                            finished = self._dispatch(out.get(timeout=0.2))
                    except queue.Empty:
                        pass
                    if not finished and not self._stop_requested.is_set():
                        self.report.emit(contract.RunFailed(
                            f"The training process ended unexpectedly (exit code "
                            f"{proc.exitcode}{_signal_name(proc.exitcode)}).",
                            exit_code=proc.exitcode))
                    break
                if not finished and self._stop_requested.is_set():
                    now = time.monotonic()
                    stop_at = stop_at or now
                    if term_at is None and now - stop_at >= self._terminate_after:
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
    """Owns one worker and its QThread and feeds the worker's reports to the run's
    :class:`RunModel`; guarantees the thread is gone after :meth:`shutdown`."""

    reported = Signal(object, object)  # (report, the set of DataKind it changed in the model)
    ended = Signal()                   # the worker has finished (its process too)

    def __init__(self, worker: QtTrainingWorker, model: RunModel, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.model = model
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.finished.connect(self.thread.quit)
        worker.report.connect(self._on_report)  # queued: this object lives in the GUI thread
        worker.finished.connect(self._on_finished)

    @classmethod
    def create(cls, model: RunModel, run_dir: str | Path, torch_threads: int | None,
               parent: QObject | None = None, **resume) -> "QtRunController":
        """A controller whose worker trains ``model.cfg`` into ``run_dir`` (``resume=True``,
        ``device``, ``settings``: continue that run folder, see :class:`QtTrainingWorker`)."""
        worker = QtTrainingWorker(model.cfg, run_dir, torch_threads=torch_threads, **resume)
        return cls(worker, model, parent)

    @Slot(object)
    def _on_report(self, report: contract.Report) -> None:
        self.reported.emit(report, self.model.apply(report))

    @Slot()
    def _on_finished(self) -> None:
        if self.model.state in (RunState.STARTING, RunState.RUNNING, RunState.PAUSED):
            self.model.set_state(RunState.IDLE)  # no process trains it any more
        self.ended.emit()

    def start(self) -> None:
        self.model.set_state(RunState.STARTING)
        if self.worker.in_process and sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def shutdown(self, terminate_after: float = TERMINATE_AFTER) -> bool:
        """Stop the worker and wait for its thread (and its child process, terminated when it
        is still busy ``terminate_after`` seconds later); True when both have ended."""
        self.worker.stop(terminate_after)
        if self.thread.isRunning():
            self.thread.quit()
            ok = self.thread.wait(int(1000 * (terminate_after + 2 * KILL_AFTER)) + 1000)
        else:
            ok = True
        proc = self.worker.process
        return ok and (proc is None or not proc.is_alive())

    def retire(self, terminate_after: float = TERMINATE_AFTER) -> bool:
        """Shut down and let Qt delete this controller and its worker; later reports are
        dropped. False when the thread would not end (then keep a reference and wait on
        ``thread`` before the application quits)."""
        self.reported.disconnect()
        ok = self.shutdown(terminate_after)
        self.worker.deleteLater()
        if ok:
            self.deleteLater()
        return ok
