"""A training run: trainer + run folder + cadences + scheduled changes.

Both front ends drive training through this class, so a headless run and a GUI run of the same
config do exactly the same work and write the same files:
``python main.py train`` loops over :meth:`TrainingSession.advance`, and the app's training
process (a spawned child, :func:`core.runloop.child_main`) runs it in
:class:`core.runloop.RunLoop` between its pause/step/stop checks.

Probes (core.probes)
--------------------
Each metrics record gets the probe fields listed in docs/run-folder.md ("Metrics fields"): the
fast probes (``sigma``, ``sigma_raw``, ``linf``, ``conv_norm``, ``lip_bound``, ``lip_grad`` ...)
on every log line, the slow ones (exact spectra, histograms, 2D landscape and coverage:
``modes``, ``hq``) every ``run.probe_every`` steps and on the run's last line. Image runs save
a sample grid from the fixed noise to ``RUN_DIR/samples/step_NNNNNNN.png`` every
``run.sample_every`` steps and at the last step.

:meth:`TrainingSession.snapshot` returns the latest probe arrays for a front end as a frozen
:class:`core.contract.ProbeSnapshot` (its fields and parts are documented there).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import torch

from .checkpoint import CheckpointError, load_trainer_state, trainer_from_checkpoint
from .checkpoint_match import check_checkpoint_matches, check_model_files
from .resume_state import not_stored, session_state
from .config import Config, ConfigError, is_live
from .contract import ProbeSnapshot
from .data import DatasetError, TqdmProgress
from .device import DeviceError
from .errors import first_line
from .pause_points import pause_point
from .probes import Prober
from .quality import quality_probe_for
from .runfolder import RunFolder, RunFolderError
from .tensorboard_log import LiveLog, require_tensorboard
from .trainer import DeviceStepError, Diverged, Trainer, device_failure

# A log line whose loss or mean D output is larger than this (in absolute value) gets a warning:
# the run continues (only NaN/inf stop it), but a BCE loss or logit of 1e4 means a saturated D,
# a critic value of 1e4 an unconstrained one running away.
LOSS_WARNING_LEVEL = 1e4

# What bad input raises while a run is prepared or changed: front ends report these as one
# line (the CLI exits with status 2), never as a traceback.
USER_ERRORS = (ConfigError, DatasetError, CheckpointError, RunFolderError, DeviceError)

class TrainingSession:
    """One run: the trainer, its run folder, the cadences and the scheduled changes (see the
    module docstring). About 380 lines: each method keeps the trainer and the files in step
    (what a resume takes over from its checkpoint is :mod:`core.resume_state`)."""

    def __init__(self, run_dir: str | Path, cfg: Config | None = None, *, resume: bool = False,
                 device: str | None = None, steps: int | None = None,
                 changes: Iterable[tuple[int, str, Any]] = (), progress=None):
        """Prepare a run; everything is validated before anything is written.

        ``changes`` are (step, key, value) with value typed or as text; each is applied before
        generator step ``step + 1`` exactly as a live change from the GUI. They are stored in
        ``RUN_DIR/schedule.json``, so a resumed run applies the ones not yet reached; on
        resume, a change for a step the run has passed is refused. ``progress``: the dataset
        preparation's progress callback (None: tqdm bars on stderr).

        ``resume`` continues from ``checkpoints/last``; a run folder stopped before its first
        checkpoint starts over from step 0 with its ``config.toml`` (see :attr:`notes`).
        """
        self.folder = RunFolder(run_dir, resume=resume)
        try:
            self._start(cfg, resume, device, steps, changes, progress)
        except BaseException:
            self.folder.close()  # the lock a resume took, the files a new run opened
            raise

    def _start(self, cfg: Config | None, resume: bool, device: str | None, steps: int | None,
               changes: Iterable[tuple[int, str, Any]], progress) -> None:
        self.notes: list[str] = []  # one-line notices for the front end
        has_checkpoint = False
        saved: dict[str, Any] = {}  # the checkpoint's session state (SESSION_KEYS)
        if resume:
            # One writer at a time, before anything is repaired, trimmed or read to resume.
            self.folder.lock()
            self.folder.recover()  # finish or undo a checkpoint swap cut by a kill
            has_checkpoint = self.folder.has_checkpoint()
            if has_checkpoint:
                trainer_pt = self.folder.paths.trainer_checkpoint
                state = load_trainer_state(trainer_pt)
                # A checkpoint from another run (copied in by hand) is refused before its
                # trainer is built or any line of this folder's history is trimmed.
                check_checkpoint_matches(self.folder.path, state, model_files=False)
                self.trainer = trainer_from_checkpoint(trainer_pt, device=device,
                                                       progress=progress, state=state)
                check_model_files(self.folder.paths.last, state)
                saved = session_state(state, trainer_pt)
                same_device_type = (state.get("device_type", self.trainer.device.type)
                                    == self.trainer.device.type)
            else:
                self.trainer = Trainer(self.folder.read_config(), device=device,
                                       progress=progress)
                self.notes.append(f"{self.folder.path} has no checkpoint yet (it was stopped "
                                  f"before its first one): starting it over from step 0 with "
                                  f"its config.toml")
        else:
            if cfg is None:
                raise ValueError("a new run needs a config")
            self.trainer = Trainer(cfg, device=device, progress=progress)
        start = self.trainer.step_count
        if steps is not None:
            if steps < start:
                raise ConfigError(f"run.steps (--steps) = {steps} is below step {start}, where "
                                  f"{self.folder.path} resumes; give {start} or more")
            self.trainer.cfg.set("run.steps", steps)

        stored = self.folder.read_schedule() if resume else []
        # A change the run already has in its schedule.json is the run's own (a sweep trial
        # or a script passes its schedule again on every resume): it is not new, whether or
        # not its step has passed. A user's new change for a passed step is refused below.
        new = sorted(not_stored(changes, stored, self.trainer.cfg), key=lambda c: c[0])
        for step, key, _ in new:
            if step < start:
                raise ConfigError(f"--change {step}:{key} is for step {step}, but the run "
                                  f"resumes at step {start}: a change can only be scheduled "
                                  f"for step {start} or later")
        pending = sorted([c for c in stored if c[0] >= start] + new, key=lambda c: c[0])
        self.schedule: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        typed_new = []
        probe = self.trainer.cfg.copy()
        for change in pending:
            step, key, value = change
            try:
                if isinstance(value, str):
                    value = probe.set_text(key, value)  # typed and range-checked now, not mid-run
                else:
                    probe.set(key, value)
                    value = probe.get(key)
                if not is_live(key):
                    raise ConfigError(f"{key} cannot change during a run")
            except ConfigError as exc:
                if any(change is c for c in new):
                    raise
                raise RunFolderError(f"{self.folder.paths.schedule}: {exc}") from None
            self.schedule[step].append((key, value))
            if any(change is c for c in new):
                typed_new.append((step, key, value))

        if self.cfg.run.tensorboard:
            require_tensorboard("run.tensorboard = true")

        if resume:  # before the files are opened for appending
            self.folder.trim_after(start, saved.get("logged_step"))
        self.folder.open()
        if not resume:
            self.folder.write_config(self.trainer.cfg)
        if not resume or typed_new:
            self.folder.write_schedule(stored + typed_new)
        # run.tensorboard: the records below are also written as TensorBoard events
        self.tensorboard = LiveLog(self.folder.path, self.cfg,
                                   resume_step=start if resume else None) \
            if self.cfg.run.tensorboard else None
        self.last_record: dict[str, Any] | None = None
        self._logged_step = self._saved_step = self.trainer.step_count if resume else -1
        # The step of the checkpoint set on disk (None: none yet); what the CLI's messages cite.
        self.checkpoint_step: int | None = start if has_checkpoint else None
        self.prober = Prober(self.trainer)
        own_bar = progress is None  # the CLI: a tqdm bar while a scorer trains (first use)
        bar = TqdmProgress() if own_bar else progress
        try:
            self.prober.quality, note = quality_probe_for(self.trainer, bar)
        finally:
            if own_bar:
                bar.close()
        if note:
            self.notes.append(note)
        self._slow_step: int | None = None
        if saved:  # go on exactly as the session that wrote the checkpoint would have
            self._logged_step, self._slow_step = saved["logged_step"], saved["slow_step"]
            self.prober.load_state_dict(saved["probes"], same_device_type=same_device_type)
        self._sampled_step = -1
        self._elapsed0 = self.trainer.elapsed()
        self._probe_seconds_logged = 0.0
        # Set when non-finite losses or weights were found: from then on the run folder keeps
        # the last good checkpoint and metrics (finish() only closes it).
        self.diverged = False
        # Set by a device failure (DeviceStepError): the trainer's state may be half a step,
        # so nothing more is written from it.
        self.failed = False
        self._new_events: list[dict[str, Any]] = []
        self._warnings: list[str] = []
        self._warned_level = LOSS_WARNING_LEVEL

    @property
    def cfg(self) -> Config:
        return self.trainer.cfg

    @property
    def done(self) -> bool:
        return self.trainer.step_count >= self.cfg.run.steps

    @property
    def run_dir(self) -> Path:
        return self.folder.path

    @property
    def checkpoint_dir(self) -> Path:
        return self.folder.checkpoint_dir

    def submit(self, key: str, value: Any) -> None:
        """Queue a live change; applied before the next step (or by :meth:`apply_pending`).
        Raises ``ConfigError`` when the config refuses it."""
        self.trainer.submit(key, value)

    def advance(self, net: str | None = None) -> dict[str, Any] | None:
        """One generator step (with its critic steps); returns the metrics record if one was
        logged at this step. ``net = "D"`` or ``"G"`` updates that network alone instead (Step
        D / Step G, ``Trainer.step_d`` / ``step_g``): a Step G is a generator step (logged,
        sampled and checkpointed on the cadences); a Step D is not (no line: its loss counts in
        the next one). Raises ``trainer.Diverged`` when losses or weights stop being
        finite (found at a log line or before a checkpoint, whichever comes first) and
        ``trainer.DeviceStepError`` when the device fails; after either, continue with
        :meth:`continue_from_checkpoint`."""
        try:
            return self._advance(net)
        except DeviceStepError:
            self.failed = True
            raise
        except Exception as exc:  # a device error that surfaced at a sync (log, checkpoint)
            reason = device_failure(exc)
            if reason is None:
                raise
            self.failed = True
            raise DeviceStepError(reason, str(self.trainer.device), self.trainer.step_count,
                                  first_line(exc, limit=200)) from exc

    def schedule_change(self, step: int, key: str, value: Any) -> None:
        """Schedule a live change for ``step`` (applied before generator step ``step + 1``)
        as ``--change`` does: checked now, stored in ``schedule.json``. ConfigError for a
        step the run has passed, a key that cannot change during a run or a bad value."""
        now = self.trainer.step_count
        if step < now:
            raise ConfigError(f"{key} at step {step}: the run is at step {now} already; "
                              f"schedule it for step {now} or later")
        if not is_live(key):
            raise ConfigError(f"{key} cannot change during a run")
        probe = self.trainer.cfg.copy()
        if isinstance(value, str):
            probe.set_text(key, value)  # typed and range-checked now, not mid-run
        else:
            probe.set(key, value)
        value = probe.get(key)
        self.folder.write_schedule(self.folder.read_schedule() + [(step, key, value)])
        self.schedule[step].append((key, value))

    def _advance(self, net: str | None) -> dict[str, Any] | None:
        trainer = self.trainer
        scheduled = self.schedule.pop(trainer.step_count, ())
        for key, value in scheduled:
            trainer.submit(key, value)
        {None: trainer.step, "D": trainer.step_d, "G": trainer.step_g}[net]()
        self._write_events()
        if scheduled:
            pause_point("change")  # tests: a run just past its scheduled change
        if net == "D":
            return None
        step, run = trainer.step_count, self.cfg.run
        record = None
        if step % run.log_every == 0 or step >= run.steps:
            record = self.log()
        if trainer.is_image and (step % run.sample_every == 0 or step >= run.steps):
            self.save_samples()
        if step % run.checkpoint_every == 0 or step >= run.steps:
            self.checkpoint()
        return record

    def apply_pending(self) -> None:
        """Apply queued changes without training (e.g. while paused) and log their events."""
        self.trainer.apply_pending()
        self._write_events()

    def _write_events(self) -> None:
        for event in self.trainer.drain_events():
            self.folder.append_event(event)
            self._new_events.append(dict(event))
            if self.tensorboard is not None:
                self.tensorboard.event(event)

    def drain_events(self) -> list[dict[str, Any]]:
        """The events written to events.jsonl since the last call (for a front end that
        shows them, e.g. the GUI's markers)."""
        events, self._new_events = self._new_events, []
        return events

    def log(self, *, final: bool = False) -> dict[str, Any]:
        trainer = self.trainer
        try:
            record = trainer.log_record()
            trainer.check_finite()  # weights too: the probes below cannot measure NaN weights
        except Diverged:
            self.diverged = True
            raise
        step, run = trainer.step_count, self.cfg.run
        # Slow probes on the first line, on the first line at or after each multiple of
        # run.probe_every, and on the run's last line.
        slow = (final or self._slow_step is None or step >= run.steps
                or step // run.probe_every > self._slow_step // run.probe_every)
        record.update(self.prober.probe(slow=slow, final=final or step >= run.steps))
        if slow:
            self._slow_step = step
        self._add_timing(record)
        self.folder.append_metrics(record)
        if self.tensorboard is not None:
            self.tensorboard.metrics(record)
        self.last_record = record
        self._logged_step = self.trainer.step_count
        self._check_loss_scale(record)
        pause_point("log")
        return record

    def _check_loss_scale(self, record: dict[str, Any]) -> None:
        """Warn (once, then again each time it grows 100-fold) when the losses explode: the
        run goes on, since large finite values are a fact to show, not an error."""
        keys = [k for k in ("loss_d", "loss_g", "d_real", "d_fake") if record[k] is not None]
        key = max(keys, key=lambda k: abs(record[k]))
        value = abs(record[key])
        if value > self._warned_level:
            self._warned_level = value * 100
            self._warnings.append(
                f"losses are exploding: |{key}| = {value:.3g} at step {record['step']}; training "
                f"goes on (it stops only if they become NaN/inf), but consider lower learning "
                f"rates (optim.lr_d / optim.lr_g) or a Lipschitz constraint")

    def drain_warnings(self) -> list[str]:
        """One-line warnings about the run since the last call (e.g. exploding losses)."""
        warnings, self._warnings = self._warnings, []
        return warnings

    def drain_notes(self) -> list[str]:
        """One-line notices since the last call (e.g. what an optimizer switch reset)."""
        return self.trainer.drain_notes()

    def _add_timing(self, record: dict[str, Any]) -> None:
        trainer, prober = self.trainer, self.prober
        totals, steps = trainer.timer.read()
        probe_now = prober.seconds - self._probe_seconds_logged
        self._probe_seconds_logged = prober.seconds
        if trainer.timer.enabled and steps > 0:
            split = {name: 1000.0 * sec / steps for name, sec in totals.items()}
            split["probe"] = 1000.0 * probe_now / steps
            record["time_split_ms"] = split
        else:
            record["time_split_ms"] = None
        train_seconds = trainer.elapsed() - self._elapsed0 - prober.seconds
        record["probe_time_share"] = prober.seconds / train_seconds if train_seconds > 0 else None
        prober.publish(time_split_ms=record["time_split_ms"])

    def save_samples(self) -> None:
        """Save G's sample grid on the fixed noise to samples/ (image data)."""
        step = self.trainer.step_count
        path = self.folder.paths.sample(step)
        self.prober.samples(path)
        self._sampled_step = step
        if self.tensorboard is not None:
            self.tensorboard.sample(step, path, self.trainer.elapsed())

    def snapshot(self) -> ProbeSnapshot:
        """The latest probe results (see :class:`core.contract.ProbeSnapshot`)."""
        return self.prober.snapshot()

    def checkpoint(self) -> None:
        """Write the checkpoint set of the current step, after checking that it is finite
        (else ``Diverged``, and the previous checkpoint stays the last one)."""
        try:
            self.trainer.check_finite()
        except Diverged:
            self.diverged = True
            raise
        self.folder.save_checkpoint(self.trainer, {
            "logged_step": self._logged_step, "slow_step": self._slow_step,
            "probes": self.prober.state_dict()})
        self._saved_step = self.checkpoint_step = self.trainer.step_count

    def finish(self) -> None:
        """Make the current step the run's last logged and checkpointed step, then close.
        After a divergence or a device failure it only closes: the last good checkpoint must
        stay the last one. May raise ``Diverged`` (found by the final line or checkpoint).

        The checkpoint comes before the last line: a run stopped between two log lines keeps
        in its checkpoint the averages and probe streams as they were before that off-cadence
        line, and a resume drops the line (``trim_after``), so the resumed run writes the
        lines an uninterrupted run writes."""
        try:
            if self.trainer.step_count > 0 and not self.diverged and not self.failed:
                if self._saved_step != self.trainer.step_count:
                    self.checkpoint()
                if self._logged_step != self.trainer.step_count:
                    self.log(final=True)
                if self.trainer.is_image and self._sampled_step != self.trainer.step_count:
                    self.save_samples()
        finally:
            self.close()

    def close(self) -> None:
        self.folder.close()
        if self.tensorboard is not None:
            log, self.tensorboard = self.tensorboard, None
            status = ("failure" if self.diverged or self.failed else
                      "success" if self.done else "unknown")
            log.close(status, self.trainer.step_count, self.trainer.elapsed())

    def continue_from_checkpoint(self, *, device: str | None = None,
                                 settings: dict[str, Any] | None = None) -> "TrainingSession":
        """A new session that continues this run from its last good checkpoint, e.g. after a
        ``DeviceStepError`` (on ``device="cpu"``, or with ``settings={"data.batch_size": n}``)
        or a divergence (with other learning rates). ``settings`` are live changes applied
        before its first step and recorded in events.jsonl like any change; the metrics and
        events after the checkpoint are dropped, as on a resume. This session is closed and
        its trainer released (device memory included; call it after leaving the ``except``
        block, whose traceback still holds the old tensors); use only the returned one.

        Without a checkpoint the run starts over from step 0 with its config."""
        settings = dict(settings or {})
        trial = self.cfg.copy()
        for key in settings:
            if not is_live(key):
                raise ConfigError(f"{key} cannot change during a run; it needs a new run")
        trial.update(settings)  # refuse a bad value before anything is closed
        steps = self.cfg.run.steps
        old_device = self.trainer.device
        self.close()
        self.trainer = self.prober = None  # release the old state before the new one loads
        if old_device.type == "cuda":
            # Device memory held by tensors in reference cycles must be freed before the new
            # state loads. Only there: a forced collection on a front end's worker thread (the
            # app's in-thread mode) can destroy Qt objects off their own thread and crash.
            gc.collect()
            torch.cuda.empty_cache()
        session = TrainingSession(self.folder.path, resume=True, device=device, steps=steps)
        for key, value in settings.items():
            session.trainer.submit(key, value)
        return session

    def finish_keeping_events(self) -> None:
        """:meth:`finish` at the run's last step, keeping events.jsonl open for changes a
        front end still applies to the finished run."""
        self.finish()
        self.folder.open()


