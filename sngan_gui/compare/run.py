"""One run the window holds, whatever it came from: made in the app (the new run, an A/B
duplicate) or opened from a folder (finished, stopped, or followed while another process
writes it). All of them get the same actions (:mod:`sngan_gui.run_actions`): Play, Pause and
Step, continue after a fault, resume from the folder.

A run owns what feeds its :class:`RunModel`: a training process of this app
(:class:`QtRunController`) while it trains here, a :class:`QtDiskRun` while its folder is read
from disk. A folder opened from disk and then resumed in the app switches from the one to the
other; its model goes on. The run reacts to its own reports only where its lifecycle depends on
them (a start that wrote nothing, the last step, a resume that continued); what they mean for
the user is in the model, which the views draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from core import contract, run_lock
from core import config as config_mod
from core.config import Config, ConfigError, is_live
from core.runreader import RunReader, event_record, metrics_record
from core.runsnapshot import has_checkpoint

from .. import paths
from ..run_model import Fault, RunModel, RunState
from ..worker import TERMINATE_AFTER, QtRunController, QtTrainingWorker
from ..run_actions import RunActions, RunFacts, resume_reason, run_actions
from .disk_run import QtDiskRun

STATE_TEXT = {RunState.IDLE: "stopped", RunState.STARTING: "starting…",
              RunState.PAUSED: "paused", RunState.RUNNING: "training",
              RunState.FINISHED: "finished", RunState.DIVERGED: "diverged",
              RunState.FAILED: "failed"}


def live_settings(cfg: Config) -> dict[str, Any]:
    """Every key of ``cfg`` that may change during a run, with its value (what a run
    continued from a checkpoint takes over)."""
    return {key: cfg.get(key) for key, spec in config_mod.field_specs().items() if spec.live}


def settings_after(cfg: Config, events) -> Config:
    """``cfg`` with the changes of ``events`` (``core.contract.Event``) applied in order: the
    settings a run had after them."""
    out = cfg.copy()
    for event in events:
        for key, value in event.change.items():
            try:
                out.set(key, value)
            except ConfigError:  # a key or value this version does not take: keep the start's
                pass
    return out


class QtRun(QObject):
    """One run (see the module docstring).

    ``settings`` is the config the controls show for it (its start config with the changes
    made since); ``pending`` the keys changed that take effect in a new run. ``changed`` tells
    that its model, state or folder changed; ``started`` that a run made here started a
    training process on a new folder (the manager then lists it).
    """

    changed = Signal()
    started = Signal()

    def __init__(self, settings: Config | None = None, *, disk: QtDiskRun | None = None,
                 torch_threads: int | None = None, retired: list | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.disk = disk
        self.made_here = disk is None
        self.torch_threads = torch_threads
        self.controller: QtRunController | None = None
        self._retired = retired if retired is not None else []
        self._model: RunModel | None = None if disk is not None else RunModel(settings)
        self._settings = settings.copy() if settings is not None else None
        self.path: Path | None = disk.path if disk is not None else None
        # the controls that show and edit its settings while it is the current run
        self.shown_by: Callable[[], Config] | None = None
        self.pending: set[str] = set()
        self.edits: dict[str, Any] = {}  # live keys set while no process trains it
        self.playing = False             # Play is pressed for it
        self._after_resume: str | None = None  # "play" or "step" once a resume has continued
        self.pause_step: int | None = None  # pause at this step (sent to each process)
        self.scheduled: list[tuple[int, str, Any]] = []  # for a process not started yet
        if disk is not None:
            disk.changed.connect(self.changed)
            disk.statusChanged.connect(lambda _status: self.changed.emit())

    # ------------------------------------------------------------------ reading
    @property
    def model(self) -> RunModel:
        return self._model if self._model is not None else self.disk.model

    @property
    def settings(self) -> Config:
        if self.shown_by is not None:  # the current run: what the controls show
            return self.shown_by()
        if self._settings is None:  # a folder read from disk: its config after its events
            cfg = settings_after(self.model.cfg, self.model.events)
            cfg.update(self.edits)
            return cfg
        return self._settings

    def keep_settings(self, cfg: Config) -> None:
        """The controls stop showing this run: keep the settings they showed (a folder read
        from disk goes on taking its settings from its events unless they were edited)."""
        self.shown_by = None
        if self._settings is not None or self.edits or self.pending:
            self._settings = cfg.copy()

    def start_config(self) -> Config:
        """The config it started with (its settings while it has not started)."""
        return self.model.cfg if self.path is not None else self.settings

    @property
    def process(self) -> bool:
        """Whether a training process of this app runs it now."""
        return self.controller is not None and self.controller.is_running()

    @property
    def worker(self) -> QtTrainingWorker | None:
        return self.controller.worker if self.controller is not None else None

    def status_text(self) -> str:
        """Its line in the run list: the training state, or the folder's ("following",
        "finished", ...) while it is read from disk."""
        if self._model is None:
            return self.disk.status or "reading…"
        return STATE_TEXT[self.model.state]

    def facts(self) -> RunFacts:
        model = self.model
        history = model.history
        folder = self.path
        return RunFacts(
            state=model.state, fault=model.fault, can_continue=model.can_continue,
            device=model.info.device if model.info is not None else None,
            made_here=self.made_here, process=self.process, playing=self.playing,
            folder=folder, last_step=int(history.steps[-1]) if len(history) else None,
            steps=self.settings.run.steps,
            checkpoint=folder is not None and has_checkpoint(folder),
            # a folder opened from disk may be another process's: the training process
            # re-checks it, taking the lock (core.run_lock)
            writer=(run_lock.holder(folder) if self._model is None and folder is not None
                    else None))

    def actions(self) -> RunActions:
        return run_actions(self.facts())

    def can_resume(self) -> str:
        """"" when it can go on from its folder's last checkpoint, else why not."""
        return resume_reason(self.facts())

    # ------------------------------------------------------------------ settings
    def submit(self, key: str, value: Any) -> bool:
        """``key`` changed in its settings: a live key goes to its training process (or is
        kept for its next resume), another waits for a new run. False for the latter."""
        if not is_live(key):
            self.pending.add(key)
            return False
        if self.process:
            self.controller.worker.submit(key, value)
        else:
            self.edits[key] = value
        self.changed.emit()
        return True

    # ------------------------------------------------------------------ actions
    def play(self) -> bool:
        """Train: start a new run, resume a stopped one, or tell the process; False when
        this run cannot train now (see :meth:`actions`)."""
        return self._go("play")

    def step(self, net: str | None = None) -> bool:
        """One training step; with ``net`` "D" or "G" one update of that network alone
        (Step D / Step G), then paused."""
        return self._go({None: "step", "D": "step_d", "G": "step_g"}[net])

    @staticmethod
    def _command(worker: QtTrainingWorker, what: str) -> None:
        """Tell the training process ``what``: "play", "step", "step_d" or "step_g"."""
        if what == "play":
            worker.play()
        elif what == "step":
            worker.step(1)
        else:
            worker.step_net(what[-1].upper())

    def _go(self, what: str) -> bool:
        acts = self.actions()
        if (acts.play if what == "play" else acts.step):
            return False
        if self.process:
            self._command(self.controller.worker, what)
        elif self.made_here and (self.path is None or self.model.fault is Fault.ERROR):
            self.start()
            self._command(self.controller.worker, what)
        else:
            self.resume(then=what)
        self.playing = what == "play"
        self.changed.emit()
        return True

    def pause(self) -> None:
        if self.process:
            self.controller.worker.pause()
        self.playing = False
        self.changed.emit()

    def ensure_process(self) -> QtTrainingWorker:
        """This run's worker, starting the run (and its folder) if it has none."""
        if self.controller is None or (not self.process and self.model.fault is Fault.ERROR):
            self.start()
        return self.controller.worker

    def start(self) -> None:
        """Start a training process on a new run folder with its settings (a run whose start
        failed starts over with a fresh model)."""
        self.stop()
        cfg = self.settings.copy()
        if self._model is None or self._model.fault is not None or self.path is not None:
            self._model = RunModel(cfg)
        self._model.cfg = cfg.copy()
        self.path = paths.new_run_dir(f"{cfg.data.dataset}-{cfg.loss.kind}")
        self.pending.clear()
        self.edits.clear()
        self._launch(QtRunController.create(self._model, self.path, self.torch_threads, self))
        self.started.emit()

    def continue_from_checkpoint(self, device: str | None = None) -> bool:
        """After a divergence, a device failure or the training process's death: go on from
        the last good checkpoint in the same folder, with every live key of its settings
        applied where it differs (on ``device`` when given, e.g. "cpu")."""
        if not self.actions().continue_run:
            return False
        settings = live_settings(self.settings)
        if self.process and self.model.fault in (Fault.DIVERGED, Fault.DEVICE):
            self.controller.worker.continue_run(device, settings)  # in the same process
        else:  # the training process is gone: a new one resumes the folder
            self._launch(QtRunController.create(self.model, self.path, self.torch_threads,
                                                self, resume=True, device=device,
                                                settings=settings))
        self.edits.clear()
        self.changed.emit()
        return True

    def resume(self, then: str = "play") -> None:
        """Go on training from the folder's last checkpoint up to ``run.steps`` (as ``train
        --resume``), with the live keys changed since applied; then ``then`` ("play",
        "step", "step_d" or "step_g"). ValueError says why not."""
        why = self.can_resume()
        if why:
            raise ValueError(why)
        if self.disk is not None:
            self.disk.stop()  # the app writes the folder now; the model goes on with reports
        if self._model is None:
            self._settings = self.settings
            self._model = self.disk.model
        self._after_resume = then
        self._launch(QtRunController.create(self._model, self.path, self.torch_threads, self,
                                            resume=True, settings=dict(self.edits)))
        self.edits.clear()
        self.changed.emit()

    def stop(self, terminate_after: float = TERMINATE_AFTER) -> None:
        """Stop its training process (the folder gets its final line and checkpoint)."""
        ctrl, self.controller = self.controller, None
        self.playing = False
        if ctrl is not None and not ctrl.retire(terminate_after):
            self._retired.append(ctrl)  # waited for before the application quits

    def close(self, terminate_after: float = TERMINATE_AFTER) -> None:
        """Stop everything it runs (the window removes it or closes)."""
        self.stop(terminate_after)
        if self.disk is not None:
            if self._model is None:
                self._model = self.disk.model
            self.disk.stop()
            self.disk.deleteLater()
            self.disk = None

    def set_pause_at(self, step: int | None) -> None:
        """Pause when the run reaches ``step`` (None: no such pause)."""
        self.pause_step = step or None
        if self.process:
            self.controller.worker.pause_at(self.pause_step)

    def schedule_change(self, step: int, key: str, value: Any) -> None:
        """A live change at ``step``, as ``train --change`` (the process checks it and says
        so in a message); a run not started yet gets it when it starts."""
        if self.process:
            self.controller.worker.schedule(step, key, value)
        else:
            self.scheduled.append((step, key, value))

    # ------------------------------------------------------------------ its process
    def _launch(self, controller: QtRunController) -> None:
        self.stop()
        self.controller = controller
        controller.reported.connect(self._on_report)
        controller.ended.connect(self._on_ended)
        controller.start()
        if self.pause_step is not None:  # before Play: commands are taken in order
            controller.worker.pause_at(self.pause_step)
        for change in self.scheduled:
            controller.worker.schedule(*change)
        self.scheduled = []

    def _on_report(self, report: contract.Report, _changed: set) -> None:
        match report:
            case contract.RunStarted(info=info) | contract.RunContinued(info=info):
                self.path = Path(info.run_dir)
                if isinstance(report, contract.RunContinued):
                    self.playing = False  # the loop continues paused
                    if self._after_resume is not None:
                        self._resumed(info)
            case contract.RunProgress(done=True):
                self.playing = False
                # at its last step: end its process (later, not inside its own signal)
                QTimer.singleShot(0, self._stop_if_done)
            case contract.RunProgress(running=False, step=step) if (
                    self.pause_step is not None and step >= self.pause_step):
                self.playing, self.pause_step = False, None  # paused at the step asked
            case contract.RunDiverged() | contract.RunDeviceFailed():
                self.playing = False
            case contract.RunFailed():
                self.playing = False
                if self.controller is not None and not (self.path and self.path.exists()):
                    self.stop()  # nothing was written: this run is over
                    self.path = None
        self.changed.emit()

    def _stop_if_done(self) -> None:
        if self.model.state is RunState.FINISHED:
            self.stop()
            self.changed.emit()

    def _on_ended(self) -> None:
        self.playing = False
        self.changed.emit()

    def _resumed(self, info: contract.RunInfo) -> None:
        """A resumed run has continued (paused, its folder trimmed to its last checkpoint): the
        model shows the folder's lines from now on (lines a divergence wrote after that
        checkpoint are gone), then it plays or steps."""
        then, self._after_resume = self._after_resume, None
        update = RunReader(self.path).poll()
        records = [metrics_record(m) for m in update.metrics]
        steps = [r.step for r in records]
        model = self.model
        if len(model.history) != len(steps) or list(model.history.steps) != steps:
            fresh = RunModel(model.cfg)
            fresh.apply(contract.RunStarted(info))
            fresh.apply(contract.RunProgress(
                step=steps[-1] if steps else 0, running=False, rate=0.0,
                elapsed=float(records[-1].time) if records else 0.0, done=False,
                records=tuple(records), events=tuple(event_record(e) for e in update.events)))
            fresh.replace_snapshot(model.snapshot)
            self._model = self.controller.model = fresh
        self._command(self.controller.worker, then)
        self.playing = then == "play"
