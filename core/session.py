"""A training run: trainer + run folder + cadences + scheduled changes.

Both front ends drive training through this class, so a headless run and a GUI run of the same
config do exactly the same work and write the same files:
``python main.py train`` loops over :meth:`TrainingSession.advance`, and the GUI's worker thread
runs it in :class:`core.runloop.RunLoop` between its pause/step/stop checks.

Probes (core.probes)
--------------------
Each metrics record gets the probe fields listed in README.md ("Metrics fields"): the fast
probes (``sigma``, ``sigma_raw``, ``linf``, ``conv_norm``, ``lip_bound``, ``lip_grad`` ...)
on every log line, the slow ones (exact spectra, histograms, 2D landscape and coverage:
``modes``, ``hq``) every ``run.probe_every`` steps and on the run's last line. Image runs save
a sample grid from the fixed noise to ``RUN_DIR/samples/step_NNNNNNN.png`` every
``run.sample_every`` steps and at the last step.

:meth:`TrainingSession.snapshot` returns the latest probe arrays for a front end as a frozen
:class:`core.contract.ProbeSnapshot` (its fields and parts are documented there).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable


from .checkpoint import CheckpointError, load_trainer_state
from .config import Config, ConfigError, is_live
from .contract import ProbeSnapshot
from .data import DatasetError
from .device import DeviceError
from .probes import Prober
from .runfolder import RunFolder, RunFolderError
from .trainer import Diverged, Trainer

# What bad input raises while a run is prepared or changed: front ends report these as one
# line (the CLI exits with status 2), never as a traceback.
USER_ERRORS = (ConfigError, DatasetError, CheckpointError, RunFolderError, DeviceError)


def parse_change(text: str) -> tuple[int, str, str]:
    """``STEP:KEY=VALUE`` -> (step, key, value text); the key is checked to be live."""
    step_text, sep, rest = text.partition(":")
    key, eq, value = rest.partition("=")
    if not sep or not eq or not key.strip():
        raise ConfigError(f"--change must look like STEP:KEY=VALUE, got '{text}'")
    try:
        step = int(step_text)
    except ValueError:
        raise ConfigError(f"--change step must be an integer, got '{step_text}' in '{text}'") from None
    if step < 0:
        raise ConfigError(f"--change step must be >= 0, got {step}")
    key = key.strip()
    if not is_live(key):
        raise ConfigError(f"--change cannot change {key} during a run; set it with --set instead")
    return step, key, value


class TrainingSession:
    def __init__(self, run_dir: str | Path, cfg: Config | None = None, *, resume: bool = False,
                 device: str | None = None, steps: int | None = None,
                 changes: Iterable[tuple[int, str, Any]] = ()):
        """Prepare a run; everything is validated before anything is written.

        ``changes`` are (step, key, value) with value typed or as text; each is applied before
        generator step ``step + 1`` exactly as a live change from the GUI.
        """
        self.folder = RunFolder(run_dir, resume=resume)
        if resume:
            state = load_trainer_state(self.folder.checkpoint_dir / "trainer.pt")
            self.trainer = Trainer.from_state(state, device=device)
        else:
            if cfg is None:
                raise ValueError("a new run needs a config")
            self.trainer = Trainer(cfg, device=device)
        if steps is not None:
            self.trainer.cfg.set("run.steps", steps)

        self.schedule: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        probe = self.trainer.cfg.copy()
        for step, key, value in sorted(changes, key=lambda c: c[0]):
            if isinstance(value, str):
                value = probe.set_text(key, value)  # typed and range-checked now, not mid-run
            else:
                probe.set(key, value)
            if step >= self.trainer.step_count:
                self.schedule[step].append((key, value))

        self.folder.open()
        if resume:
            self.folder.trim_after(self.trainer.step_count)
        else:
            self.folder.write_config(self.trainer.cfg)
        self.last_record: dict[str, Any] | None = None
        self._logged_step = self._saved_step = self.trainer.step_count if resume else -1
        self.prober = Prober(self.trainer)
        self._slow_step: int | None = None
        self._sampled_step = -1
        self._elapsed0 = self.trainer.elapsed()
        self._probe_seconds_logged = 0.0
        # Set when a log line found non-finite losses: from then on the run folder keeps the
        # last good checkpoint and metrics (finish() only closes it).
        self.diverged = False
        self._new_events: list[dict[str, Any]] = []

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

    def advance(self) -> dict[str, Any] | None:
        """One generator step (with its critic steps); returns the metrics record if one was
        logged at this step. Raises ``trainer.Diverged`` when losses stop being finite."""
        trainer = self.trainer
        for key, value in self.schedule.pop(trainer.step_count, ()):
            trainer.submit(key, value)
        trainer.step()
        self._write_events()
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

    def drain_events(self) -> list[dict[str, Any]]:
        """The events written to events.jsonl since the last call (for a front end that
        shows them, e.g. the GUI's markers)."""
        events, self._new_events = self._new_events, []
        return events

    def log(self, *, final: bool = False) -> dict[str, Any]:
        trainer = self.trainer
        try:
            record = trainer.log_record()
        except Diverged:
            self.diverged = True
            raise
        step, run = trainer.step_count, self.cfg.run
        # Slow probes on the first line, on the first line at or after each multiple of
        # run.probe_every, and on the run's last line.
        slow = (final or self._slow_step is None or step >= run.steps
                or step // run.probe_every > self._slow_step // run.probe_every)
        record.update(self.prober.probe(slow=slow))
        if slow:
            self._slow_step = step
        self._add_timing(record)
        self.folder.append_metrics(record)
        self.last_record = record
        self._logged_step = self.trainer.step_count
        return record

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
        self.prober.samples(self.folder.samples_dir / f"step_{step:07d}.png")
        self._sampled_step = step

    def snapshot(self) -> ProbeSnapshot:
        """The latest probe results (see :class:`core.contract.ProbeSnapshot`)."""
        return self.prober.snapshot()

    def checkpoint(self) -> None:
        self.folder.save_checkpoint(self.trainer)
        self._saved_step = self.trainer.step_count

    def finish(self) -> None:
        """Make the current step the run's last logged and checkpointed step, then close.
        After a divergence it only closes: the last good checkpoint must stay the last one."""
        try:
            if self.trainer.step_count > 0 and not self.diverged:
                if self._logged_step != self.trainer.step_count:
                    self.log(final=True)
                if self.trainer.is_image and self._sampled_step != self.trainer.step_count:
                    self.save_samples()
                if self._saved_step != self.trainer.step_count:
                    self.checkpoint()
        finally:
            self.folder.close()

    def close(self) -> None:
        self.folder.close()

    def finish_keeping_events(self) -> None:
        """:meth:`finish` at the run's last step, keeping events.jsonl open for changes a
        front end still applies to the finished run."""
        self.finish()
        self.folder.open()


