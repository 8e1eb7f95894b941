"""The filmstrip's data (Qt-free): several runs' samples at one step, each with its quality
figures at that step, and the report figure of them.

What a run has at a past step: an image run saves its sample grid to
``samples/step_NNNNNNN.png`` every ``run.sample_every`` steps and at its last step; its quality
figures (``fd``, ``classes`` ...) are on the metrics lines of the slow probes, every
``run.probe_every`` steps, so a grid's step and the nearest quality line's step may differ.
A 2D run writes no landscape to its folder: only its last checkpoint can be measured again
(``core.runsnapshot``), and a front end that watched the run train may have kept the ones it
was sent. Runs saved at different steps are shown at the step nearest the one asked for, and
every such difference is said beside the figure (:meth:`FilmFrame.step_note`,
:meth:`FilmFrame.figures`).

:class:`QualityLog` reads the quality lines of a metrics.jsonl incrementally (only those lines
are parsed: a million-line file costs one regular-expression scan); :func:`frame_specs` and
:func:`filmstrip_caption` make the report figure (``core.figures``) that the app's filmstrip
exports and a report can draw from run folders alone.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .contract import Landscape
from .figures import REPORT, FigureStyle, Heatmap, PlotSpec, Points, cut_middle
from .runlayout import RunPaths, sample_step
from .runreader import JsonlTail

# A metrics line that carries a quality figure (image runs: fd; 2D and stacked runs: modes).
QUALITY_LINE = re.compile(rb'"(?:fd|modes|hq)": ?-?[0-9]')
# Each figure's meaning, for the caption.
MEANINGS = {"fd": "fd: Fréchet distance in the dataset scorer's features (lower is better)",
            "classes": "classes: classes with at least 1/(2K) of the samples",
            "modes": "modes: modes with a sample within 3 std",
            "hq": "hq: share of samples within 3 std of a mode"}
# Report figure panels (inches): a sample grid is square, with a title and two lines under it.
IMAGE_PANEL_IN = (2.3, 2.75)
PANEL_2D_IN = (2.3, 2.6)
TITLE_CHARS = 30  # a label's line above its grid (wrapped onto a second line when longer)


# --------------------------------------------------------------------------- steps
def nearest_step(steps: Sequence[int], target: int) -> int | None:
    """The step of ``steps`` (sorted) nearest ``target``, the earlier of two as near; None
    when there is none."""
    if not steps:
        return None
    i = bisect.bisect_left(steps, target)
    if i == len(steps):
        return steps[-1]
    if i == 0 or steps[i] == target:
        return steps[i]
    before, after = steps[i - 1], steps[i]
    return before if target - before <= after - target else after


def latest_common(step_lists: Iterable[Sequence[int]]) -> int | None:
    """The newest step every run with steps has reached: the smallest of their last steps."""
    lasts = [steps[-1] for steps in step_lists if steps]
    return min(lasts) if lasts else None


def saved_sample_steps(run_dir: str | Path) -> list[int]:
    """The steps of the sample grids saved in a run folder (``samples/step_*.png``), sorted;
    a temporary file of a grid being written is not one."""
    try:
        names = [e.name for e in os.scandir(RunPaths(run_dir).samples)]
    except OSError:
        return []
    return sorted(s for s in map(sample_step, names) if s is not None)


# --------------------------------------------------------------------------- quality lines
class QualityLog:
    """The metrics lines of one run folder that carry quality figures, by step; read
    incrementally (:meth:`refresh`), started over when the file was rewritten (a resume cuts
    the lines after its checkpoint)."""

    def __init__(self, run_dir: str | Path):
        self.path = RunPaths(run_dir).metrics
        self._tail = JsonlTail(self.path, require_step=True, only=QUALITY_LINE)
        self.lines: dict[int, dict[str, Any]] = {}
        self.steps: list[int] = []

    def refresh(self) -> bool:
        """Read the lines written since the last call; True when the table changed. A line
        that cannot be read is skipped (the run's own reader reports it)."""
        try:
            new = self._tail.read_new()
        except ValueError:  # RunReadError: the folder went away; keep what was read
            return False
        if self._tail.restarted:
            self.lines.clear()
        for line in new:
            self.lines[int(line["step"])] = line
        changed = bool(new) or self._tail.restarted
        if changed:
            self.steps = sorted(self.lines)
        return changed

    def nearest(self, step: int) -> dict[str, Any] | None:
        """The quality line at ``step``, or the nearest one (None: none yet)."""
        at = nearest_step(self.steps, step)
        return None if at is None else self.lines[at]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else math.nan


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def quality_parts(line: dict[str, Any] | None, *, two_d: bool,
                  modes_total: int | None = None) -> list[str]:
    """The figures shown under a run's samples: "fd 12.3", "classes 9" (image runs;
    stacked data also its modes of 1,000), "modes 8/8", "hq 93 %" (2D runs)."""
    if line is None:
        return []
    parts = []
    if two_d:
        modes, hq = _number(line.get("modes")), _number(line.get("hq"))
        if math.isfinite(modes):
            parts.append(f"modes {modes:.0f}" + (f"/{modes_total}" if modes_total else ""))
        if math.isfinite(hq):
            parts.append(f"hq {100 * hq:.0f} %")
        return parts
    fd, classes = _number(line.get("fd")), _number(line.get("classes"))
    if math.isfinite(fd):
        parts.append(f"fd {_fmt(fd)}")
    if math.isfinite(classes):
        parts.append(f"classes {classes:.0f}")
    modes = _number(line.get("modes"))
    if math.isfinite(modes):  # stacked data: modes of 1,000
        parts.append(f"modes {modes:.0f}")
    return parts


# --------------------------------------------------------------------------- one run's frame
@dataclass(frozen=True)
class FilmFrame:
    """One run at the step asked for: what it has nearest that step.

    ``step``: the step of the samples shown (None: the run has none); ``pixels`` an image
    grid (uint8 [H, W, C]); ``landscape`` / ``real`` a 2D run's landscape and real points;
    ``quality`` the metrics line whose figures are shown (None: no quality line yet);
    ``missing`` why something is not shown (e.g. past 2D landscapes are not on disk).
    """

    label: str
    asked: int
    step: int | None
    two_d: bool = False
    pixels: np.ndarray | None = None
    landscape: Landscape | None = None
    real: np.ndarray | None = None
    quality: dict[str, Any] | None = None
    modes_total: int | None = None
    color: str = "#000000"
    missing: str = ""
    unmeasured: str = ""  # why the run has no quality figures at all (e.g. switched off)

    @property
    def quality_step(self) -> int | None:
        return None if self.quality is None else int(self.quality["step"])

    def step_note(self) -> str:
        """"step 750", "step 750 (nearest to 800)" or "no samples yet"."""
        if self.step is None:
            return self.missing or "no samples yet"
        if self.step == self.asked:
            return f"step {self.step:,}"
        return f"step {self.step:,} (nearest to {self.asked:,})"

    def figures(self) -> str:
        """The quality figures, with the step they were measured at when it is not the
        samples' step ("fd 12.3 · classes 9 (at step 500)")."""
        parts = quality_parts(self.quality, two_d=self.two_d, modes_total=self.modes_total)
        if not parts:
            if self.quality is None:
                return self.unmeasured or "no quality figures yet"
            return ""
        text = " · ".join(parts)
        if self.quality_step != self.step:
            text += f" (at step {self.quality_step:,})"
        return text


# --------------------------------------------------------------------------- the figure
def _title(label: str, chars: int) -> str:
    """A run's label in at most two lines of about ``chars`` (the end of a longer one kept:
    labels of runs alike differ at their end, "... (2)")."""
    lines = textwrap.wrap(label, chars) or [""]
    if len(lines) <= 2:
        return "\n".join(lines)
    return lines[0] + "\n" + cut_middle(" ".join(lines[1:]), chars)


def frame_specs(frames: Sequence[FilmFrame], *, heat_stops: tuple[tuple[float, str], ...],
                real_color: str, fake_color: str, fake_points: int = 1000) -> list[PlotSpec]:
    """The report figure's panels: per image run its grid, per 2D run its samples (real and
    generated points) and its critic landscape side by side; the run's label above, its step
    and quality figures below."""
    specs: list[PlotSpec] = []
    for f in frames:
        under = f"{f.step_note()}\n{f.figures()}"
        title = _title(f.label, TITLE_CHARS if not f.two_d else TITLE_CHARS - 8)
        if not f.two_d:
            spec = PlotSpec(title=title, xlabel=under, axes=False, legend=[])
            if f.pixels is not None:
                pixels = np.asarray(f.pixels)
                spec.image = pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 \
                    else pixels
            specs.append(spec)
            continue
        land = f.landscape
        samples = PlotSpec(title=f"{title}\nsamples", xlabel=under, equal_aspect=True,
                           legend_loc="upper left")
        critic = PlotSpec(title=f"{title}\ncritic D(x)",
                          xlabel=f"{f.step_note()}" if land is not None
                          else f.missing or "no landscape", equal_aspect=True, legend=[])
        if f.real is not None:
            samples.points.append(Points(np.asarray(f.real, dtype=float), "real", real_color))
        if land is not None:
            fake = np.asarray(land.samples[:fake_points], dtype=float)[:, :2]
            samples.points.append(Points(fake, "generated", fake_color))
            values = np.asarray(land.values, dtype=float)
            finite = values[np.isfinite(values)]
            lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
            if hi <= lo:
                hi = lo + 1e-6
            critic.heatmap = Heatmap(values, tuple(land.extent), (float(lo), float(hi)),
                                     heat_stops, "D(x)")
        specs += [samples, critic]
    return specs


def frame_columns(frames: Sequence[FilmFrame], runs_per_row: int | None = None) -> int:
    """Panels per row: 2 to 3 runs per row (a 2D run has two panels)."""
    n = len(frames)
    per_row = runs_per_row or (n if n <= 3 else 3 if n in (5, 6) or n > 6 else 2)
    per_row = max(1, min(per_row, n))
    return per_row * (2 if any(f.two_d for f in frames) else 1)


def figure_style(frames: Sequence[FilmFrame], style: FigureStyle = REPORT) -> FigureStyle:
    """``style`` with panels sized for sample grids (square, with two lines under them)."""
    w, h = PANEL_2D_IN if any(f.two_d for f in frames) else IMAGE_PANEL_IN
    return dataclasses.replace(style, panel_width_in=w, panel_height_in=h)


def filmstrip_caption(frames: Sequence[FilmFrame], asked: int, runs_caption: str = "") -> str:
    """What the figure shows: the step, each run's nearer step where it differs, where the
    figures come from and what they mean, then ``runs_caption`` (``core.compare.caption``:
    the runs and how they differ)."""
    two_d = any(f.two_d for f in frames)
    what = "Samples and critic landscapes" if two_d else "Samples"
    text = f"{what} at step {asked:,}."
    if any(f.step != asked for f in frames):
        text += " A run without samples at that step shows its nearest, its step under it."
    keys = ("modes", "hq") if two_d else ("fd", "classes")
    text += (" Under each: " + "; ".join(MEANINGS[k] for k in keys) + ", from the run's "
             "metrics line at that step, or its nearest quality line (its step given).")
    return f"{text} {runs_caption}".strip()
