"""Where the filmstrip finds each run's samples and quality figures at a past step (Qt-free
but for reading a PNG): image grids from the run folder's ``samples/step_*.png`` and, for a run
training now, its live grid; 2D landscapes from what the app kept of the ones a run reported
(:class:`LandscapeArchive`) and the latest one (of a folder opened from disk: its last
checkpoint's, the only one a folder holds); quality figures from the folder's metrics.jsonl
(``core.filmstrip.QualityLog``), read by this module itself, not from the plots' decimated
history."""

from __future__ import annotations

import collections
import weakref
from pathlib import Path

import numpy as np

from core.contract import Landscape
from core.filmstrip import FilmFrame, QualityLog, nearest_step, saved_sample_steps
from core.runlayout import RunPaths

from .compare.disk_run import read_sample_png
from .run_model import RunModel

KEEP_LANDSCAPES = 200  # per run; beyond it every other one goes (the run's span stays)
PNG_CACHE = 48         # sample grids read from disk kept in memory


class LandscapeArchive:
    """The 2D landscapes each run reported while this window held it, by step. A run folder
    keeps no past landscape (only its last checkpoint can be measured again), so these are
    the only ones there are; a run continued from a checkpoint loses the ones after it."""

    def __init__(self):
        self._kept: weakref.WeakKeyDictionary[RunModel, tuple[int, dict[int, Landscape]]] = \
            weakref.WeakKeyDictionary()

    def note(self, model: RunModel) -> None:
        """Keep ``model``'s latest landscape (called on every change of a run)."""
        land = model.snapshot.landscape
        if land is None:
            return
        serial, kept = self._kept.get(model, (model.serial, {}))
        if serial != model.serial:  # continued from a checkpoint: later steps are undone
            kept = {s: v for s, v in kept.items() if s <= model.step}
        kept.setdefault(int(land.step), land)
        if len(kept) > KEEP_LANDSCAPES:
            steps = sorted(kept)
            for s in steps[1:-1:2]:
                del kept[s]
        self._kept[model] = (model.serial, kept)

    def landscapes(self, model: RunModel) -> dict[int, Landscape]:
        out = dict(self._kept.get(model, (0, {}))[1])
        land = model.snapshot.landscape
        if land is not None:
            out[int(land.step)] = land
        return out


class FilmSources:
    """Each run's steps and frames (see the module docstring); caches the quality tables and
    the grids read from disk."""

    def __init__(self, archive: LandscapeArchive):
        self.archive = archive
        self._logs: dict[Path, QualityLog] = {}
        self._grids: collections.OrderedDict[tuple[Path, int, int], np.ndarray | None] = \
            collections.OrderedDict()

    def quality(self, path: Path | None) -> QualityLog | None:
        if path is None:
            return None
        log = self._logs.get(path)
        if log is None:
            log = self._logs[path] = QualityLog(path)
        log.refresh()
        return log

    def steps(self, model: RunModel, path: Path | None) -> list[int]:
        """The steps at which this run has samples to show."""
        if not model.is_image:
            return sorted(self.archive.landscapes(model))
        steps = set(saved_sample_steps(path)) if path is not None else set()
        live = model.snapshot.samples
        if live is not None:
            steps.add(int(live.step))
        return sorted(steps)

    def _grid(self, model: RunModel, path: Path | None, step: int) -> np.ndarray | None:
        live = model.snapshot.samples
        if live is not None and live.step == step:
            return np.asarray(live.pixels)
        if path is None:
            return None
        png = RunPaths(path).sample(step)
        try:  # a resumed run writes the grids after its checkpoint again: a new file
            key = (path, step, png.stat().st_mtime_ns)
        except OSError:
            return None
        if key in self._grids:
            self._grids.move_to_end(key)
            return self._grids[key]
        grid = read_sample_png(png, step)
        pixels = None if grid is None else grid.pixels
        self._grids[key] = pixels
        while len(self._grids) > PNG_CACHE:
            self._grids.popitem(last=False)
        return pixels

    def frame(self, label: str, color: str, model: RunModel, path: Path | None,
              asked: int, steps: list[int] | None = None) -> FilmFrame:
        """The run nearest step ``asked``."""
        steps = self.steps(model, path) if steps is None else steps
        step = nearest_step(steps, asked)
        log = self.quality(path)
        quality = None if log is None or step is None else log.nearest(step)
        if model.is_image:
            pixels = None if step is None else self._grid(model, path, step)
            missing = "" if step is not None else (
                "no samples yet" if path is None else f"no samples in {RunPaths(path).samples}")
            off = "" if model.cfg.quality.enabled else "quality not measured (quality.enabled off)"
            return FilmFrame(label, asked, step, pixels=pixels, quality=quality, color=color,
                             missing=missing, unmeasured=off)
        land = None if step is None else self.archive.landscapes(model)[step]
        if land is not None and (quality is None or quality["step"] != step):
            # a landscape measured between the log lines (core.liveprobes) carries its own
            # coverage figures, the same measurement as a slow-probe line's
            quality = {"step": step, "modes": int(land.modes), "hq": float(land.hq)}
        return FilmFrame(label, asked, step, two_d=True, landscape=land,
                         real=model.real_points, quality=quality, color=color,
                         modes_total=model.modes_total,
                         missing="" if step is not None else "no landscape yet")
