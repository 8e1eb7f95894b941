"""The GUI's training loop, free of Qt: it runs in a spawned child process (the default) or in
the worker's QThread (fallback), see :mod:`sngan_gui.worker` and DESIGN.md "Threading model".

:func:`run_training` drains GUI commands **between** training steps (every command is kept, in
order), calls ``TrainingSession.advance()`` and reports through ``emit(kind, *args)``:

- ``("started", info)``: ``{"run_dir", "device", "layers", "kind"}`` once the session exists
- ``("progress", payload)``: ``{"step", "running", "rate", "elapsed", "records", "events",
  "done", "snapshot"?}``, at most once per ``min_emit`` seconds plus once per state change
- ``("message", level, text)`` with level "info" | "warning" | "error"
- ``("diverged", text)``; ``("download", done, total, label)`` while a dataset is prepared
- ``("finished",)``: always last, after the session has written its final log line and
  checkpoint

Commands are tuples: ``("play",)``, ``("pause",)``, ``("step", n)``, ``("change", key, value)``,
``("stop",)``. Every payload is plain python/numpy data (picklable).

This module must not import PySide6: a spawned child imports it to train.
"""

from __future__ import annotations

import os
import queue
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from core.config import DATASETS_2D, Config, ConfigError

from . import probes

Emit = Callable[..., None]


def default_torch_threads(cfg=None) -> int:
    """Intra-op threads for training, by workload (measured with benchmarks/gui_throughput.py
    on 2 cores, training in the child process): conv models are compute-bound and use every
    core (the DCGAN, measured with oneDNN's transposed convolutions: 13.1 steps/s in the GUI
    with 2 threads, ~7 with 1); the 2D MLPs are dispatch-bound, gain little from a second
    thread and then compete with the GUI for a core, so they leave one core to the GUI (ring8: 277 steps/s in the GUI with 1 thread,
    244 with 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if cfg is not None and cfg.data.dataset not in DATASETS_2D:
        return cores
    return max(1, cores - 1)


def run_training(cfg: Config | dict, run_dir: str | Path, torch_threads: int | None,
                 commands, cancel, emit: Emit, *, min_emit: float = 1 / 30,
                 snapshot_budget: float = 0.03, snapshot_min_interval: float = 0.25) -> None:
    """Train until a ``("stop",)`` command; always ends with ``emit("finished")``.

    ``commands`` is a queue (``queue.SimpleQueue`` or ``multiprocessing.Queue``), ``cancel`` an
    event (threading or multiprocessing) that also cancels a dataset download.
    """
    session_box: list = [None]
    try:
        if isinstance(cfg, dict):
            cfg = Config.from_dict(cfg)
        _run(cfg, Path(run_dir), torch_threads, commands, cancel, emit, session_box,
             min_emit, snapshot_budget, snapshot_min_interval)
    except Exception as exc:  # never end silently
        emit("message", "error", f"training stopped: {exc}")
        traceback.print_exc()
    finally:
        if session_box[0] is not None:
            try:
                session_box[0].finish()
            except Exception as exc:
                emit("message", "error", f"could not finish the run folder: {exc}")
        emit("finished")


def _prepare_data(cfg: Config, cancel, emit: Emit, min_emit: float) -> bool:
    from core.data import DownloadCancelled, prepare_dataset

    last = [0.0]

    def progress(done=None, total=None, label=""):
        now = time.perf_counter()
        if now - last[0] >= min_emit or (total and done == total):
            last[0] = now
            emit("download", done, total, str(label))

    try:
        prepare_dataset(cfg, progress=progress, cancel=cancel)
    except DownloadCancelled:
        return False
    except Exception:
        if cancel.is_set():  # a download interrupted by stop fails in its own way
            return False
        raise
    finally:
        emit("download", None, None, "")
    return not cancel.is_set()


def _run(cfg: Config, run_dir: Path, torch_threads: int | None, commands, cancel, emit: Emit,
         session_box: list, min_emit: float, snapshot_budget: float,
         snapshot_min_interval: float) -> None:
    import torch

    from core.cli import USER_ERRORS
    from core.constraints import constrained_layers
    from core.session import TrainingSession
    from core.trainer import Diverged

    threads = torch_threads if torch_threads is not None else default_torch_threads(cfg)
    if threads > 0:  # 0 = leave torch's default
        torch.set_num_threads(threads)
    if cancel.is_set():  # stopped while starting up: leave no run folder
        return
    try:
        if not _prepare_data(cfg, cancel, emit, min_emit):
            emit("message", "info", "dataset download cancelled")
            return
        session_box[0] = session = TrainingSession(run_dir, cfg)
    except USER_ERRORS as exc:
        emit("message", "error", str(exc))
        return
    trainer = session.trainer

    emit("started", {"run_dir": str(session.folder.path), "device": str(trainer.device),
                     "layers": [name for name, _ in constrained_layers(trainer.D)],
                     "kind": "image" if trainer.is_image else "2d"})

    running, steps_left = False, 0
    records: list[dict] = []
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
            cmd = commands.get(timeout=0.05) if idle else commands.get_nowait()
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
                    emit("message", "warning", f"change refused: {exc}")
            dirty = True
            try:
                cmd = commands.get_nowait()
            except queue.Empty:
                cmd = None
        if cancel.is_set():  # stop() sets the event before it queues ("stop",)
            return
        if changed and not running and steps_left == 0:
            session.apply_pending()  # paused: apply now so the event shows at once
            want_snapshot = True

        # ---- one training step
        if (running or steps_left) and not session.done:
            try:
                rec = session.advance()
            except Diverged as exc:
                running, steps_left = False, 0
                emit("diverged", f"{exc}. Training is paused; change the settings and press "
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
                    emit("message", "info", f"run finished at step {trainer.step_count}")
                running, steps_left = False, 0
                session.finish()
                session.folder.open()  # keep events of later changes appendable
                dirty = want_snapshot = True

        # ---- throttled progress report
        now = time.perf_counter()
        if now - rate_t >= 0.5:
            rate = (trainer.step_count - rate_step) / (now - rate_t)
            rate_t, rate_step = now, trainer.step_count
        if not (running or steps_left):
            rate = 0.0 if not dirty else rate
        busy = running or steps_left > 0
        if dirty or (busy and now - last_emit >= min_emit):
            payload: dict[str, Any] = {
                "step": trainer.step_count, "running": running or steps_left > 0,
                "rate": rate, "elapsed": trainer.elapsed(), "records": records,
                "events": session.drain_events(), "done": session.done}
            # The engine's snapshot is a cheap dict of its latest probes (taken on its own
            # cadence) plus the GUI's budgeted refreshes; their cost throttles it further.
            snap_due = now - last_snap >= max(snapshot_min_interval, snap_cost / snapshot_budget)
            if want_snapshot or ((running or steps_left) and snap_due):
                t0 = time.perf_counter()
                try:
                    snap = probes.take_snapshot(session, rng_state, force=want_snapshot)
                except Exception as exc:  # a probe must never stop training
                    snap = None
                    emit("message", "warning", f"probe failed: {exc}")
                if snap is not None:
                    payload["snapshot"] = snap
                snap_cost = time.perf_counter() - t0
                last_snap = time.perf_counter()
                want_snapshot = False
            emit("progress", payload)
            records = []
            last_emit = now
            dirty = False


def child_main(cfg_dict: dict, run_dir: str, torch_threads: int | None, commands, cancel,
               out, options: dict) -> None:
    """Entry point of the spawned training process: runs :func:`run_training`, sending every
    report as a tuple on the ``out`` queue (the last one is ``("finished",)``)."""
    import signal

    # Ctrl+C in a terminal reaches the whole process group: the GUI decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def emit(kind: str, *args) -> None:
        out.put((kind, *args))

    try:
        run_training(cfg_dict, run_dir, torch_threads, commands, cancel, emit, **options)
    finally:
        out.close()
        out.join_thread()  # every report is in the pipe before the process ends
