"""What the image sections (9-12) read from a run folder: the quality lines with their floor
and ceiling, the step a measurement first passes a level, the trial's status, a run cut at an
earlier step and the saved sample grids."""

from __future__ import annotations

import copy
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..runlayout import RunPaths, sample_step
from ..sweep_summary import read_summary
from .runs import Run


def quality_lines(run: Run) -> list[dict]:
    """The run's lines with an ``fd`` (its quality measurements)."""
    return [m for m in run.lines if isinstance(m.get("fd"), (int, float))]


def reference(run: Run, key: str) -> tuple[float | None, float | None]:
    """(floor, ceiling) of ``key`` as the run's quality lines state them."""
    for m in quality_lines(run):
        floor = (m.get("quality_floor") or {}).get(key)
        ceiling = (m.get("quality_ceiling") or {}).get(key)
        if floor is not None or ceiling is not None:
            return floor, ceiling
    return None, None


def first_step(run: Run, key: str, passes: Callable[[float], bool]) -> int | None:
    """The first logged step whose ``key`` passes (None: never within the run)."""
    for m in run.lines:
        v = m.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and passes(float(v)):
            return int(m["step"])
    return None


def value_at(run: Run, key: str, step: int) -> float | None:
    """``key`` on the line of exactly ``step`` (None if that line has none)."""
    for m in run.lines:
        if m["step"] == step:
            v = m.get(key)
            return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None
    return None


def status(run: Run) -> str:
    """The trial's status in its sweep's summary.csv ("done", "diverged", ...; "" if none)."""
    return read_summary(run.folder.parent).get(run.trial.name, {}).get("status", "")


def cut(run: Run, step: int) -> Run:
    """The run as a run of ``step`` steps would be (its lines up to ``step``): training does
    not depend on the probes' cadence or the run's length, so the lines are the same."""
    short = copy.copy(run)
    short.lines = [m for m in run.lines if m["step"] <= step]
    return short


def sample_grids(run: Run) -> dict[int, Path]:
    """{step: PNG} of the run's saved sample grids."""
    folder = RunPaths(run.folder).samples
    if not folder.is_dir():
        return {}
    found = {sample_step(p.name): p for p in folder.iterdir()}
    return {s: p for s, p in sorted(found.items()) if s is not None}


@dataclass(frozen=True)
class Censored:
    """Steps at which runs first passed a level; None for a run that never did within
    ``horizon`` steps (its true step is above the horizon)."""

    steps: tuple[int | None, ...]
    horizon: int

    @property
    def reached(self) -> list[int]:
        return [s for s in self.steps if s is not None]

    def bounds(self) -> tuple[float, float]:
        """Lower and upper bound of the mean step (inf when a run never reached it)."""
        if not self.steps:
            return math.nan, math.nan
        low = statistics.mean(s if s is not None else self.horizon for s in self.steps)
        return low, (math.inf if None in self.steps else low)

    def cell(self) -> str:
        """"mean ± sd (k of n)" over the runs that reached it; "> horizon" when none did."""
        got, n = self.reached, len(self.steps)
        if not got:
            return f"> {self.horizon} (0 of {n})" if n else "n/a"
        spread = f" ± {statistics.stdev(got):.0f}" if len(got) > 1 else ""
        return f"{statistics.mean(got):.0f}{spread} ({len(got)} of {n})"

    def median(self) -> str:
        """The median step, a run that never got there counted as above the horizon ("> H"
        when the median falls among those): robust where the mean has only bounds."""
        if not self.steps:
            return "n/a"
        ordered = sorted(s if s is not None else math.inf for s in self.steps)
        mid = statistics.median(ordered)
        return f"> {self.horizon}" if math.isinf(mid) or math.isnan(mid) else f"{mid:.0f}"

    def per_run(self) -> str:
        return ", ".join(str(s) if s is not None else f"> {self.horizon}" for s in self.steps)
