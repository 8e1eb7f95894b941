"""The interactive run loop: commands in, reports out, training in between (Qt-free).

A front end that lets a person play, pause, step and change settings while a run trains runs
:class:`RunLoop` on its own thread or process (the app: a spawned child process, see
:func:`child_main`). The loop:

- takes :mod:`core.contract` commands (``Play``, ``Pause``, ``Step``, ``StepD``, ``StepG``,
  ``Change``, ``Stop``, ``Continue``) from a queue **between** training steps, every one in
  order; ``StepD`` / ``StepG`` pause the run and update D or G alone, once
  (``TrainingSession.advance(net)``), then re-measure the drawn probe arrays;
- after a divergence or a device failure stays *halted* (Play and Step are refused with a
  message, changes are held) until ``Continue`` replaces the session by one continued from the
  last good checkpoint (:meth:`TrainingSession.continue_from_checkpoint`), same run folder;
- trains one :meth:`TrainingSession.advance` at a time while playing or while steps are left;
- reports through ``emit(report)``: ``RunStarted`` once the session exists, ``RunProgress`` at
  most every ``report_interval`` seconds while training plus once per state change,
  ``RunMessage``, ``RunDiverged``, ``RunFailed``, ``DownloadProgress``, and always
  ``RunFinished`` last, after the run folder has its final log line and checkpoint;
- refreshes the probe arrays a front end draws (image grid or 2D landscape, spectra and
  histograms) between the engine's own cadences, on a time budget
  (:class:`core.liveprobes.LiveProbes`), and sends only the snapshot parts that are new since
  its previous report.
"""

from __future__ import annotations

import os
import queue
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from .config import DATASETS_2D, Config, ConfigError
from .cores import available_cores
from .liveprobes import LiveProbes
from .pause_points import pause_point
from .runsnapshot import run_info
from .contract import (Change, Continue, DownloadProgress, MetricsRecord, Event, Pause,
                       PauseAt, Play, Report, ScheduleChange, RunContinued, RunDeviceFailed, RunDiverged,
                       RunFailed, RunFinished, RunInfo, RunMessage, RunProgress, RunStarted,
                       Step, StepD, StepG, Stop)

Emit = Callable[[Report], None]

# s between progress reports while training. The app redraws each panel at most every 0.25 s;
# reports twice as often keep what it shows at most 1/8 s old. More often only wakes the front
# end (two of its threads per report), and on 2 cores each wake-up preempts a training thread.
REPORT_INTERVAL = 1 / 8
IDLE_WAIT = 0.05                # s a paused loop waits for a command (stop stays prompt)
PARENT_CHECK_INTERVAL = 0.5     # s between checks that the front end's process still lives


def default_torch_threads(cfg: Config | None = None) -> int:
    """Intra-op threads for training beside a front end, by workload: conv models are
    compute-bound and use every core; the 2D MLPs are dispatch-bound, gain little from a
    second thread and would compete with the front end for a core, so they leave it one
    (``benchmarks/gui_throughput.py`` measures both)."""
    cores = available_cores()
    if cfg is not None and cfg.data.dataset not in DATASETS_2D:
        return cores
    return max(1, cores - 1)


class RateMeter:
    """Steps per second over windows of at least ``window`` seconds."""

    def __init__(self, step: int, window: float = 0.5):
        self.window = window
        self.rate = 0.0
        self._t, self._step = time.perf_counter(), step

    def update(self, step: int) -> float:
        now = time.perf_counter()
        if now - self._t >= self.window:
            self.rate = (step - self._step) / (now - self._t)
            self._t, self._step = now, step
        return self.rate


class RunLoop:
    """Runs one training session interactively; see the module docstring.

    ``commands`` is a queue (``queue.SimpleQueue`` or ``multiprocessing.Queue``) of
    :mod:`core.contract` commands; ``cancel`` an event (threading or multiprocessing) that
    also cancels a dataset download. Drive it with :meth:`run`, or step by step with
    :meth:`start`, :meth:`tick` and :meth:`close` (tests do).

    Why one class of about 360 lines: its state (the session, halted or not, the changes held
    while halted, the steps left to take) is read by every command and changes only between
    two steps; split, the halting rules would be spread over several objects.
    """

    def __init__(self, cfg: Config | dict, run_dir: str | Path, commands, cancel, emit: Emit,
                 *, torch_threads: int | None = None, report_interval: float = REPORT_INTERVAL,
                 front_end_alive: Callable[[], bool] | None = None, resume: bool = False,
                 device: str | None = None, settings: dict[str, Any] | None = None):
        """``resume``: continue the run folder ``run_dir`` from its last checkpoint (``cfg``
        only supplies the defaults; the checkpoint's config wins), on ``device`` (None: the
        run's), applying the live ``settings`` that differ from the checkpoint's config."""
        self.cfg = Config.from_dict(cfg) if isinstance(cfg, dict) else cfg
        self.run_dir = Path(run_dir)
        self.commands = commands
        self.cancel = cancel
        self.emit = emit
        self.torch_threads = torch_threads
        self.report_interval = report_interval
        self.resume = resume
        self.device = device
        self.settings = dict(settings or {})
        # "diverged" | "device" while the session cannot train on (until Continue)
        self.halted: str | None = None
        self._held: dict[str, Any] = {}  # changes received while halted, for Continue
        # Checked every PARENT_CHECK_INTERVAL: when it says False the loop ends as on Stop
        # (final log line and checkpoint), e.g. when the app that started it was killed.
        self.front_end_alive = front_end_alive
        self.front_end_gone = False
        self._next_check = 0.0
        self.session = None
        self.live: LiveProbes | None = None
        self.running = False      # playing
        self.steps_left = 0       # single steps still to do
        self.partial: list[str] = []  # Step D / Step G updates still to do ("D" | "G")
        self.pause_at: int | None = None  # pause once this generator step is reached
        self._records: list[MetricsRecord] = []
        self._changed = True      # a state change to report at once
        self._want_snapshot = True
        self._last_report = 0.0
        self._rate: RateMeter | None = None

    # ------------------------------------------------------------------ whole run
    def run(self) -> None:
        """Start, train until ``Stop`` (or ``cancel``), finish; always ends with
        ``RunFinished``."""
        try:
            if self.start():
                while self.tick():
                    pass
        except Exception as exc:  # never end silently
            self.emit(RunFailed(f"training stopped: {exc}"))
            traceback.print_exc()
        finally:
            self.close()

    @property
    def busy(self) -> bool:
        return self.running or self.steps_left > 0 or bool(self.partial)

    def start(self) -> bool:
        """Prepare the data and the session, report ``RunStarted``; False when the run cannot
        start (stopped meanwhile, cancelled download, bad input: reported)."""
        import torch

        from .session import USER_ERRORS, TrainingSession

        threads = (self.torch_threads if self.torch_threads is not None
                   else default_torch_threads(self.cfg))
        if threads > 0:  # 0 = leave torch's default
            torch.set_num_threads(threads)
        if self.cancel.is_set():  # stopped while starting up: leave no run folder
            return False
        try:
            if not self._prepare_data():
                self.emit(RunMessage("info", "dataset download cancelled"))
                return False
            if self.resume:
                session = TrainingSession(self.run_dir, resume=True, device=self.device)
                self._adopt(session, self.settings)
            else:
                self.session = TrainingSession(self.run_dir, self.cfg)
        except USER_ERRORS as exc:
            self.emit(RunFailed(str(exc)))
            return False
        if self.resume:
            self.emit(RunContinued(self._info(), self.session.trainer.step_count))
        else:
            self._begin(self.session)
            self.emit(RunStarted(self._info()))
        for note in self.session.notes:
            self.emit(RunMessage("info", note))
        return True

    def _begin(self, session) -> None:
        self.session = session
        self.live = LiveProbes(session)
        self._rate = RateMeter(session.trainer.step_count)
        self.halted, self._held = None, {}
        self._changed = self._want_snapshot = True

    def _adopt(self, session, settings: dict[str, Any]) -> None:
        """Train ``session`` (continued from a checkpoint) from now on, with the ``settings``
        that differ from its config applied as changes (events at its first step)."""
        self._begin(session)
        changed = False
        for key, value in settings.items():
            if session.cfg.get(key) != value:
                session.submit(key, value)
                changed = True
        if changed:
            session.apply_pending()

    def _info(self) -> RunInfo:
        return run_info(self.session.trainer, self.session.prober, self.session.run_dir)

    def _continue(self, device: str | None, settings: dict[str, Any]) -> bool:
        """Replace the halted session by one continued from its last good checkpoint; False
        when that failed (reported) and the loop must end."""
        from .session import USER_ERRORS

        old = self.session
        settings = {**self._held, **settings}
        try:  # refuse a bad value before anything is closed
            trial = old.cfg.copy()
            trial.update(settings)
        except ConfigError as exc:
            self.emit(RunMessage("warning", f"cannot continue: {exc}"))
            return True
        try:
            session = old.continue_from_checkpoint(device=device)
        except USER_ERRORS as exc:
            self.session = None
            self.emit(RunFailed(f"cannot continue from the last checkpoint: {exc}"))
            return False
        self._adopt(session, settings)
        self.emit(RunContinued(self._info(), session.trainer.step_count))
        return True

    def close(self) -> None:
        """Finish the session (final log line and checkpoint), then report ``RunFinished``."""
        try:
            if self.session is not None:
                self.session.finish()
        except Exception as exc:
            self.emit(RunFailed(f"could not finish the run folder: {exc}"))
        finally:
            self.session = None
            self.emit(RunFinished())

    def _prepare_data(self) -> bool:
        from .data import DownloadCancelled, prepare_dataset

        last = [0.0]

        def progress(done=None, total=None, label=""):
            now = time.perf_counter()
            if now - last[0] >= self.report_interval or (total and done == total):
                last[0] = now
                self.emit(DownloadProgress(done, total, str(label)))

        pause_point("prepare")  # test-only (core.pause_points); inert otherwise
        try:
            prepare_dataset(self.cfg, progress=progress, cancel=self.cancel)
            self._prepare_scorer(progress)
        except DownloadCancelled:
            return False
        except Exception:
            if self.cancel.is_set():  # a download interrupted by stop fails in its own way
                return False
            raise
        finally:
            self.emit(DownloadProgress(None, None, ""))
        return not self.cancel.is_set()

    def _prepare_scorer(self, progress) -> None:
        """An image run's quality scorer, trained here on first use (the app's status shows
        the progress; it is then cached, and the session finds it in memory). A scorer that
        cannot be had is left to the session, which says so in a note."""
        from .data import DatasetError, DownloadCancelled
        from .device import DeviceError, resolve_device
        from .quality import prepare_scorer

        if self.resume or self.cfg.data.dataset in DATASETS_2D or not self.cfg.quality.enabled:
            return
        try:
            prepare_scorer(self.cfg, resolve_device(self.device or self.cfg.run.device),
                           progress, self.cancel)
        except (DeviceError, ConfigError):
            return
        except DatasetError as exc:
            if isinstance(exc, DownloadCancelled):
                raise
            return

    # ------------------------------------------------------------------ one iteration
    def tick(self) -> bool:
        """Apply the queued commands, train one step when playing or stepping, report when
        due. False once the loop must end (``Stop`` or ``cancel``)."""
        if not self._apply_commands() or self._front_end_gone():
            return False
        if self.busy and not self.session.done and not self.halted:
            self._train_one()
        self._report_if_due()
        return True

    def _front_end_gone(self) -> bool:
        if self.front_end_alive is None or time.perf_counter() < self._next_check:
            return False
        self._next_check = time.perf_counter() + PARENT_CHECK_INTERVAL
        self.front_end_gone = not self.front_end_alive()
        return self.front_end_gone

    def _next_command(self, wait: bool):
        try:
            return self.commands.get(timeout=IDLE_WAIT) if wait else self.commands.get_nowait()
        except queue.Empty:
            return None

    def _apply_commands(self) -> bool:
        # Block briefly while idle (no busy loop); never while training.
        cmd = self._next_command(wait=not self.busy)
        changed = False
        while cmd is not None:
            match cmd:
                case Stop():
                    return False
                case Play() | Step() | StepD() | StepG() if self.halted:
                    self.emit(RunMessage("warning", self._halted_hint()))
                case StepD() | StepG() if self.session.done:
                    self.emit(RunMessage("warning", f"the run is finished (run.steps = "
                                         f"{self.session.cfg.run.steps}): no more updates"))
                case StepD() | StepG():  # pause, then one update of one network
                    self.running, self.steps_left = False, 0
                    self.partial.append("D" if isinstance(cmd, StepD) else "G")
                case Play():
                    self.running = not self.session.done
                case Pause():
                    self.running, self.steps_left, self.partial = False, 0, []
                    self._want_snapshot = True
                case Step(count=n):
                    self.steps_left += n
                case Change(key=key, value=value) if self.halted:
                    try:  # checked now, applied by Continue
                        self.session.cfg.copy().set(key, value)
                        self._held[key] = value
                    except ConfigError as exc:
                        self.emit(RunMessage("warning", f"change refused: {exc}"))
                case Change(key=key, value=value):
                    try:
                        self.session.submit(key, value)
                        changed = True
                    except ConfigError as exc:
                        self.emit(RunMessage("warning", f"change refused: {exc}"))
                case PauseAt(step=n):
                    self._set_pause_at(n)
                case ScheduleChange(step=n, key=key, value=value):
                    try:
                        self.session.schedule_change(n, key, value)
                        self.emit(RunMessage("info", f"{key} = {value} is scheduled for "
                                             f"step {n}"))
                    except ConfigError as exc:
                        self.emit(RunMessage("warning", f"change refused: {exc}"))
                case Continue(device=device, settings=settings):
                    if not self.halted:
                        self.emit(RunMessage("info", "nothing to continue: the run is fine"))
                    elif not self._continue(device, dict(settings)):
                        return False
                case _:
                    raise TypeError(f"unknown run loop command {cmd!r}")
            self._changed = True
            cmd = self._next_command(wait=False)
        if self.cancel.is_set():  # a front end sets the event before it queues Stop
            return False
        if changed and not self.busy:
            self.session.apply_pending()  # paused: apply now so the event shows at once
            self._want_snapshot = True
        return True

    def _set_pause_at(self, step: int | None) -> None:
        now = self.session.trainer.step_count
        if step is not None and step <= now:
            self.emit(RunMessage("warning", f"cannot pause at step {step}: the run is at "
                                 f"step {now} already"))
            step = None
        self.pause_at = step

    def _pause_if_due(self) -> None:
        step = self.session.trainer.step_count
        if self.pause_at is not None and step >= self.pause_at:
            self.running, self.steps_left, self.partial = False, 0, []
            self.pause_at = None
            self._changed = self._want_snapshot = True
            self.emit(RunMessage("info", f"paused at step {step}, as asked"))

    def _halted_hint(self) -> str:
        what = "diverged" if self.halted == "diverged" else "lost its device"
        return (f"the run {what}: continue from its last good checkpoint (optionally with "
                f"other settings) or start a new run")

    def _train_one(self) -> None:
        from .trainer import DeviceStepError, Diverged

        session = self.session
        net = self.partial.pop(0) if self.partial else None
        try:
            record = session.advance() if net is None else session.advance(net)
        except Diverged as exc:
            self._report_before_fault()
            self._halt("diverged")
            self.emit(RunDiverged(
                f"{exc}.",
                step=session.trainer.step_count, checkpoint_dir=str(session.checkpoint_dir),
                checkpoint_step=session.checkpoint_step))
            return
        except DeviceStepError as exc:
            self._report_before_fault()
            self._halt("device")
            self.emit(RunDeviceFailed(
                str(exc), step=exc.step, device=exc.device, reason=exc.reason,
                checkpoint_dir=str(session.checkpoint_dir),
                checkpoint_step=session.checkpoint_step))
            return
        finally:
            for warning in session.drain_warnings():
                self.emit(RunMessage("warning", warning))
        if record is not None:
            self._records.append(MetricsRecord.from_dict(record))
        if net is not None:  # D or G alone: show its effect at once, at the same step too
            self.live.invalidate()
            self._changed = self._want_snapshot = True
        elif self.steps_left:
            self.steps_left -= 1
            if self.steps_left == 0:
                self._changed = self._want_snapshot = True
        self._pause_if_due()
        if session.done:
            if self.running:
                self.emit(RunMessage("info",
                                     f"run finished at step {session.trainer.step_count}"))
            self.running, self.steps_left, self.partial = False, 0, []
            session.finish_keeping_events()
            self._changed = self._want_snapshot = True

    def _report_before_fault(self) -> None:
        """Report the steps and log lines since the last report before the fault, so a front
        end shows the run as it was when it stopped (reports come only every
        ``report_interval``)."""
        self._changed = True
        self._report_if_due()

    def _halt(self, why: str) -> None:
        self.running, self.steps_left, self.partial = False, 0, []
        self.halted = why
        self._changed = self._want_snapshot = True

    def _report_if_due(self) -> None:
        session, now = self.session, time.perf_counter()
        for note in session.drain_notes():  # e.g. what an optimizer switch reset
            self.emit(RunMessage("info", note))
        rate = self._rate.update(session.trainer.step_count)
        if not (self._changed or (self.busy and now - self._last_report >= self.report_interval)):
            return
        snapshot = None
        if self._want_snapshot or (self.busy and self.live.snapshot_due()):
            try:
                snapshot = self.live.take(force=self._want_snapshot)
            except Exception as exc:  # a probe must never stop training
                self.emit(RunMessage("warning", f"probe failed: {exc}"))
            self._want_snapshot = False
        self.emit(RunProgress(
            step=session.trainer.step_count, running=self.busy,
            rate=rate if self.busy else 0.0, elapsed=session.trainer.elapsed(),
            done=session.done, records=tuple(self._records),
            events=tuple(Event.from_dict(e) for e in session.drain_events()),
            snapshot=snapshot, d_updates=session.trainer.d_updates,
            g_updates=session.trainer.g_updates))
        self._records = []
        self._last_report = now
        self._changed = False


def child_main(cfg_dict: dict, run_dir: str, torch_threads: int | None, commands, cancel,
               out, resume: bool = False, device: str | None = None,
               settings: dict | None = None) -> None:
    """Entry point of a spawned training process: runs a :class:`RunLoop`, putting every
    report on the ``out`` queue (the last one is ``RunFinished``). When the process that
    started it dies, the loop finishes the run folder and the process ends within about
    ``PARENT_CHECK_INTERVAL`` plus one step — also while it is still importing torch or
    preparing a dataset (a watcher thread sets ``cancel``, which a download or a folder's
    decoding checks between chunks and files). ``resume``, ``device``, ``settings``: see
    :class:`RunLoop`."""
    import signal
    import threading

    # Ctrl+C in a terminal reaches the whole process group: the front end decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .run_lock import set_process_role

    set_process_role("the Lipschitz Playground app's training process")  # who holds the lock
    parent = os.getppid()  # an orphan is re-parented: then nobody reads the reports
    alive = lambda: os.getppid() == parent  # noqa: E731
    loop = RunLoop(cfg_dict, run_dir, commands, cancel, out.put, torch_threads=torch_threads,
                   front_end_alive=alive, resume=resume, device=device, settings=settings)

    def watch_parent() -> None:
        while alive():
            time.sleep(PARENT_CHECK_INTERVAL)
        loop.front_end_gone = True
        cancel.set()  # ends a dataset preparation, and the loop at its next command check

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    try:
        loop.run()
    finally:
        out.close()
        if loop.front_end_gone:
            out.cancel_join_thread()  # nobody reads the pipe: do not wait to flush it
        else:
            out.join_thread()  # every report is in the pipe before the process ends
    # The run folder is closed and every report sent: end now. The interpreter's teardown
    # with torch loaded takes a second or more on a busy machine, and a front end that
    # stops a run waits for the process.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
