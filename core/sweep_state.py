"""A sweep's output folder between runs: ``DIR/sweep.json`` records each trial's resolved
config, so running the same sweep again resumes it: finished trials (and diverged ones) are
kept, unfinished ones continue from their last checkpoint, trials without one start again.

Trial statuses in the summary: done, diverged (losses became NaN/inf; the run folder keeps
its last good checkpoint), failed (an error; see message), interrupted (stopped with a
checkpoint; the next run of the sweep resumes it), pending (not started yet).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .disk_errors import os_error_text
from .runreader import last_logged_step
from .sweep_spec import Sweep, SweepError, Trial
from .sweep_summary import read_summary, trial_row, write_summary

STATE_FILE = "sweep.json"
FINAL_STATUSES = ("done", "diverged")


def _prepare_out(out: Path, sweep: Sweep) -> None:
    """Create DIR, or check that an existing DIR holds this sweep's trials (same configs)."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} exists and is not a folder")
    state_path = out / STATE_FILE
    trials = {t.name: {"config": t.config, "changes": t.changes} for t in sweep.trials}
    if state_path.is_file():
        try:
            old = json.loads(state_path.read_text(encoding="utf-8"))["trials"]
        except (OSError, ValueError, KeyError, TypeError):
            raise SweepError(f"{state_path} is unreadable; choose a new --out") from None
        for name, spec in trials.items():
            if name in old and old[name] != spec:
                raise SweepError(f"{out} holds another sweep: trial {name} has a different "
                                 f"config there; choose a new --out")
        trials = {**old, **trials}
    elif out.is_dir() and any(out.iterdir()):
        raise SweepError(f"--out {out} is not empty and holds no sweep; choose a new folder")
    tmp = state_path.with_name(STATE_FILE + ".tmp")
    try:  # a read-only file system, a path under a file: one line, as train --out says it
        out.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"sweep_file": str(sweep.path), "base": str(sweep.base),
                                   "trials": trials}, indent=1), encoding="utf-8")
        os.replace(tmp, state_path)
    except OSError as exc:
        raise SweepError(f"cannot write --out {out}: {os_error_text(exc)}") from None


def _is_finished(folder: Path, steps: int) -> bool:
    last = last_logged_step(folder)
    return last is not None and last >= steps


def _kept(row: dict[str, str]) -> dict[str, Any]:
    """The worker-reported fields of a trial finished by an earlier run of the sweep."""
    return {k: row.get(k) or None for k in ("message", "resumed_from", "threads")}


class SweepJob:
    """One sweep and its output folder: the statuses of its trials and its summary."""

    def __init__(self, sweep: Sweep, out: str | Path):
        self.sweep, self.out = sweep, Path(out)
        _prepare_out(self.out, sweep)
        old_rows = read_summary(self.out)
        self.statuses: dict[str, str] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.todo: list[Trial] = []
        for trial in sweep.trials:
            previous = old_rows.get(trial.name, {}).get("status")
            folder = self.out / trial.name
            if previous == "diverged" and folder.is_dir():
                self.statuses[trial.name] = "diverged"
                self.results[trial.name] = _kept(old_rows[trial.name])
            elif previous == "done" and _is_finished(folder, trial.steps):
                self.statuses[trial.name] = "done"
                self.results[trial.name] = _kept(old_rows[trial.name])
            else:
                self.statuses[trial.name] = "pending"
                self.todo.append(trial)
        self.write()

    def write(self) -> Path:
        return write_summary(self.out, self.sweep, [
            trial_row(self.out, t, self.statuses[t.name], self.results.get(t.name))
            for t in self.sweep.trials])
