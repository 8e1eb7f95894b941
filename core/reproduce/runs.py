"""The reproduction's run folders as a report section reads them (metrics lines and the
exported critic), and the context every section gets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..runlayout import RunPaths
from ..runreader import RunReader, RunReadError
from ..sweep_spec import Sweep, Trial
from ..sweep_summary import ms_per_step, weighted_split

# The constraint variants of the reproduction's sweeps, in the order the tables list them.
CONSTRAINTS = ("none", "clip", "gp", "spectral", "rowsum")


class Run:
    """One trial's run folder: its metrics lines and (lazily) its exported critic."""

    def __init__(self, folder: Path, trial: Trial):
        self.folder, self.trial = folder, trial
        try:
            self.lines = RunReader(folder).poll().metrics
        except RunReadError:
            self.lines = []
        self._d = None

    @property
    def ok(self) -> bool:
        return bool(self.lines)

    @property
    def last(self) -> dict[str, Any]:
        return self.lines[-1] if self.lines else {}

    def series(self, key: str, sub: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        steps, values = [], []
        for m in self.lines:
            v = m.get(key)
            if sub is not None:
                v = v.get(sub) if isinstance(v, dict) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                steps.append(m["step"])
                values.append(float(v))
        return np.asarray(steps), np.asarray(values)

    def final(self, key: str) -> float | None:
        for m in reversed(self.lines):
            v = m.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
        return None

    def critic(self) -> dict[str, np.ndarray]:
        """The exported critic's tensors ({} while the trial has no checkpoint yet)."""
        if self._d is None:
            import torch
            path = RunPaths(self.folder).critic_checkpoint
            state = torch.load(path, map_location="cpu", weights_only=True) \
                if path.is_file() else {}
            self._d = {k: v.double().numpy() for k, v in state.items()}
        return self._d

    def weight(self, layer: str) -> np.ndarray | None:
        return self.critic().get(layer + ".weight")

    def constraint_share(self) -> float | None:
        """Steps' total time over the time outside the ``constraint`` phase, within this run
        (so machine load between runs cancels): a lower bound on the constraint's cost ratio,
        since the backward through W/σ and the penalty's backward run in ``d_step``."""
        total, phases, _ = weighted_split(self.lines)
        extra = phases.get("constraint", 0.0)
        return total / (total - extra) if total > extra > 0 else (1.0 if total else None)

    def ms_per_step(self) -> float | None:
        return ms_per_step(self.lines) if self.lines else None


def load_runs(out: Path, sweep: Sweep) -> dict[str, list[Run]]:
    """{variant (or "all"): [Run per seed]} of one experiment folder."""
    runs: dict[str, list[Run]] = {}
    for trial in sweep.trials:
        runs.setdefault(trial.variant or "all", []).append(Run(out / trial.name, trial))
    return runs


def layer_names(runs: Iterable[Run]) -> list[str]:
    for run in runs:
        sigma = run.last.get("sigma")
        if isinstance(sigma, dict):
            return list(sigma)
    return []


@dataclass
class ReportContext:
    """What every section reads: each experiment's runs by variant, and its sweep."""

    runs: dict[str, dict[str, list[Run]]]
    sweeps: dict[str, Sweep]

    @classmethod
    def load(cls, out: Path, experiments) -> "ReportContext":
        """From ``[(experiment, Sweep)]`` and the reproduction's output folder."""
        return cls({exp.name: load_runs(out / exp.name, sweep) for exp, sweep in experiments},
                   {exp.name: sweep for exp, sweep in experiments})

    def steps(self, experiment: str) -> int:
        """The generator steps of an experiment's trials."""
        return self.sweeps[experiment].trials[0].steps

    def unfinished(self) -> list[str]:
        return [f"{name}/{run.trial.name}" for name, variants in self.runs.items()
                for runs in variants.values() for run in runs
                if not run.lines or run.lines[-1]["step"] < run.trial.steps]
