"""One sweep trial, run in a local worker process or as a Ray task (core.sweep).

The same :func:`run_trial` serves both: it starts the trial's run folder, or resumes it from
its last checkpoint (:class:`core.session.TrainingSession` resume), or restarts it when the
folder has no checkpoint yet, and trains to the trial's step count. It returns a small dict
(status, message, resumed_from, threads); the numbers of the summary are read from the run
folder afterwards.

Threads: several torch processes on a few cores must not each use every core (OpenMP threads
spin while they wait for each other, so two 2-thread processes on 2 cores run far slower than
two 1-thread ones). A local worker gets ``OMP_NUM_THREADS`` in its
initializer, which runs in the fresh spawned process before this module imports torch (this
module imports torch only inside :func:`run_trial`), and ``torch.set_num_threads`` per trial.
On Ray, the task's ``num_cpus`` is the share; Ray sets ``OMP_NUM_THREADS`` to it.

Stopping: a local worker ignores SIGINT (a terminal's Ctrl-C reaches every process of the
group); the sweep sets a shared event instead, and the worker, between two steps, writes a
final checkpoint and returns "interrupted". A worker whose sweep process died (kill -9) sees
its parent change and does the same, then exits; an idle worker (between two trials, blocked
on the pool's queue, whose pipe never reaches end-of-file while a sibling worker holds its
write end) is ended by a watcher thread, so no orphan outlives the sweep. A Ray task stopped
by ``ray.cancel`` gets a KeyboardInterrupt and checkpoints likewise.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

from . import run_lock
from .errors import typed_line
from .runlayout import RunPaths
from .runreader import last_logged_step

_STOP = None          # multiprocessing Event set by the sweep to stop (local workers)
_PARENT_PID: int | None = None
_IN_TRIAL = threading.Event()   # set while run_trial trains (it then handles a dead parent)
PARENT_POLL_S = 0.5


def init_worker(threads: int, stop, parent_pid: int) -> None:
    """Initializer of a spawned local worker (runs before torch is imported there)."""
    global _STOP, _PARENT_PID
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP, _PARENT_PID = stop, parent_pid
    threading.Thread(target=_exit_when_orphaned_and_idle, name="parent-watch",
                     daemon=True).start()


def _exit_when_orphaned_and_idle() -> None:
    """Ends the worker once its sweep process is gone and no trial is running.

    A running trial sees the dead parent itself, between two steps, and checkpoints first.
    """
    while True:
        time.sleep(PARENT_POLL_S)
        if _parent_gone() and not _IN_TRIAL.is_set():
            os._exit(0)


def trial_args(trial, out: Path, threads: int) -> dict[str, Any]:
    """The picklable arguments of :func:`run_trial` for a ``core.sweep.Trial``."""
    return {"name": trial.name, "folder": str(Path(out) / trial.name), "config": trial.config,
            "changes": list(trial.changes), "threads": threads}


def _parent_gone() -> bool:
    return _PARENT_PID is not None and os.getppid() != _PARENT_PID


def _should_stop() -> bool:
    return (_STOP is not None and _STOP.is_set()) or _parent_gone()


def failure(exc: BaseException) -> dict[str, Any]:
    """The result of a trial whose worker or task raised ``exc`` (a crash is that trial's
    failure, not the sweep's)."""
    return {"status": "failed", "message": typed_line(exc)}


def run_trial(args: dict[str, Any]) -> dict[str, Any]:
    _IN_TRIAL.set()
    try:
        return _run_trial(args)
    finally:
        _IN_TRIAL.clear()


def _run_trial(args: dict[str, Any]) -> dict[str, Any]:
    import torch

    from .checkpoint import CheckpointError, load_trainer_state
    from .config import Config, ConfigError
    from .data import DatasetError
    from .device import DeviceError
    from .runfolder import RunFolderError
    from .overrides import parse_change
    from .session import TrainingSession
    from .trainer import Diverged

    if _should_stop():  # queued before the sweep was stopped: leave its folder untouched
        return {"status": "interrupted", "message": "not started", "resumed_from": None}
    if args.get("threads"):
        torch.set_num_threads(int(args["threads"]))
    folder = Path(args["folder"])
    cfg = Config.from_dict(args["config"])
    steps = cfg.run.steps
    changes = [parse_change(text).entry for text in args["changes"]]
    result: dict[str, Any] = {"status": "done", "message": "", "resumed_from": 0,
                              "threads": torch.get_num_threads()}
    trainer_pt = RunPaths(folder).trainer_checkpoint
    try:
        if trainer_pt.is_file():
            state_step = int(load_trainer_state(trainer_pt)["step"])
            if state_step >= steps and (last_logged_step(folder) or 0) >= steps:
                result["resumed_from"] = state_step
                return result  # finished before the sweep was interrupted
            session = TrainingSession(folder, resume=True, steps=steps, changes=changes)
            result["resumed_from"] = session.trainer.step_count
        else:
            if folder.exists():  # started, but stopped before its first checkpoint
                writer = run_lock.holder(folder)
                if writer is not None:  # never remove a folder another process writes
                    return {**result, "status": "failed",
                            "message": f"{folder} is being written by {writer}"}
                shutil.rmtree(folder)
            session = TrainingSession(folder, cfg, changes=changes)
    except (ConfigError, DatasetError, CheckpointError, RunFolderError, DeviceError) as exc:
        return {**result, "status": "failed", "message": str(exc)}

    stopped = False
    try:
        while not session.done:
            if _should_stop():
                stopped = True
                break
            session.advance()
    except Diverged as exc:
        session.close()
        return {**result, "status": "diverged", "message": str(exc)}
    except KeyboardInterrupt:  # ray.cancel
        stopped = True
    session.finish()
    if stopped:
        if _parent_gone():  # nobody reads the result: leave quietly
            os._exit(0)
        return {**result, "status": "interrupted",
                "message": f"stopped at step {session.trainer.step_count}"}
    return result
