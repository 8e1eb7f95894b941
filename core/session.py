"""A training run: trainer + run folder + cadences + scheduled changes.

Both front ends drive training through this class, so a headless run and a GUI run of the same
config do exactly the same work and write the same files:
``python main.py train`` loops over :meth:`TrainingSession.advance`, and the GUI's worker thread
calls it between its pause/step/stop checks.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable


from .checkpoint import load_trainer_state
from .config import Config, ConfigError, is_live
from .runfolder import RunFolder
from .trainer import Trainer


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

    @property
    def cfg(self) -> Config:
        return self.trainer.cfg

    @property
    def done(self) -> bool:
        return self.trainer.step_count >= self.cfg.run.steps

    def advance(self) -> dict[str, Any] | None:
        """One generator step (with its critic steps); returns the metrics record if one was
        logged at this step. Raises ``trainer.Diverged`` when losses stop being finite."""
        trainer = self.trainer
        for key, value in self.schedule.pop(trainer.step_count, ()):
            trainer.submit(key, value)
        trainer.step()
        for event in trainer.drain_events():
            self.folder.append_event(event)
        step, run = trainer.step_count, self.cfg.run
        record = None
        if step % run.log_every == 0 or step >= run.steps:
            record = self.log()
        if step % run.checkpoint_every == 0 or step >= run.steps:
            self.checkpoint()
        return record

    def apply_pending(self) -> None:
        """Apply queued changes without training (e.g. while paused) and log their events."""
        self.trainer.apply_pending()
        for event in self.trainer.drain_events():
            self.folder.append_event(event)

    def log(self) -> dict[str, Any]:
        record = self.trainer.log_record()
        self.folder.append_metrics(record)
        self.last_record = record
        self._logged_step = self.trainer.step_count
        return record

    def checkpoint(self) -> None:
        self.folder.save_checkpoint(self.trainer)
        self._saved_step = self.trainer.step_count

    def finish(self) -> None:
        """Make the current step the run's last logged and checkpointed step, then close."""
        try:
            if self.trainer.step_count > 0:
                if self._logged_step != self.trainer.step_count:
                    self.log()
                if self._saved_step != self.trainer.step_count:
                    self.checkpoint()
        finally:
            self.folder.close()

    def close(self) -> None:
        self.folder.close()


