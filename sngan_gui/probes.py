"""Snapshots for the plots, computed on the training thread between steps.

``take_snapshot(session)`` returns plain numpy/python data in one normalized layout that the
panels read (every key optional):

- ``step``; ``kind`` ("2d" or "image")
- ``grid``: image grid, uint8 [H, W, C] (fixed noise; the pixels the run's PNGs have)
- ``real``, ``fake``: [N, 2] points; ``extent``: (x0, x1, y0, y1); ``critic``: [gy, gx] values
  of D on a regular grid over ``extent``; ``arrows``: [M, 4] (x, y, dx, dy) gradient at fakes
- ``modes``, ``hq``
- ``spectra``: {layer: singular values (descending)}; ``conv_norm``: {layer: true operator norm}
- ``sigma``: {layer: top singular value}; ``lip_bound``; ``lip_grad``
- ``hist``: {layer: (counts, edges)} of the effective weights

Everything comes from the engine's ``TrainingSession.snapshot()`` (core.probes), adapted to
this layout; between the engine's own cadences the GUI asks its prober for a fresher image
grid or 2D landscape, and fresher spectra and histograms, on a small time budget (same
measurements, so every number shown keeps its metrics meaning; eval mode, no random draws:
training is untouched).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

N_POINTS = 512     # real points shown (drawn from the mixture itself)


def _np(x) -> Any:
    """Tensor/array/list -> numpy copy (never a live tensor)."""
    if x is None:
        return None
    if hasattr(x, "detach"):
        return x.detach().float().cpu().numpy().copy()
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


# panel key <- engine snapshot key (core/session.py lists the engine's keys)
_DIRECT = {"spectra": "spectra", "conv_norm": "conv_norm", "sigma": "sigma", "modes": "modes",
           "hq": "hq", "lip_bound": "lip_bound", "lip_grad": "lip_grad", "step": "step",
           "time_split": "time_split_ms", "probe_share": "probe_time_share",
           "sample_step": "sample_step", "slow_step": "slow_step", "spectra_step": "spectra_step",
           "fast_step": "fast_step",
           "lip_bound_note": "lip_bound_note", "landscape_step": "landscape_step"}


def adapt(raw: dict[str, Any], state: dict | None = None) -> dict[str, Any]:
    """Map the engine's snapshot (core.session docstring) to the panels' layout."""
    state = {} if state is None else state
    out: dict[str, Any] = {key: raw[name] for key, name in _DIRECT.items()
                           if raw.get(name) is not None}
    land = raw.get("landscape")
    if land is not None:
        out["critic"], out["extent"] = _np(land["values"]), land["extent"]
    arrows = raw.get("arrows")
    if arrows is not None:
        out["arrows"] = np.concatenate([np.asarray(arrows["points"], dtype=float)[:, :2],
                                        np.asarray(arrows["grads"], dtype=float)[:, :2]], 1)
    if raw.get("coverage_samples") is not None:
        out["fake"] = _np(raw["coverage_samples"][:1000])
    centres = raw.get("centres")
    if centres is not None:
        # Real points for display, drawn once per layout from the mixture itself (numpy only).
        centres = np.asarray(centres, dtype=float)
        std = float(raw["mode_std"])
        cache = state.get("real")
        if cache is None or cache[0] != (centres.shape, std):
            rng = np.random.default_rng(0)
            idx = rng.integers(0, len(centres), N_POINTS)
            cache = ((centres.shape, std), centres[idx] + std * rng.standard_normal((N_POINTS, 2)))
            state["real"] = cache
        out["real"] = cache[1]
        out["modes_total"] = int(len(centres))
    hist = raw.get("histograms")
    if hist is not None:
        out["hist"] = {k: (np.asarray(v["counts"], dtype=float), np.asarray(v["edges"], dtype=float))
                       for k, v in hist.items()}
    grid = raw.get("sample_grid")
    if grid is not None:  # uint8 [H, W, C], the pixels of samples/step_*.png
        out["grid"] = np.asarray(grid)
    return out


# Extra refreshes for the GUI between the engine's cadences: at most 3% of the time each, and
# at most one image grid per second / one 2D landscape per 0.4 s / one set of spectra and
# histograms per second (measured on the DCGAN in the app: GUI 16.1 steps/s at 1 s, 15.9 at
# 0.25 s, 16.4 without; the cost is the GUI's redraw, not the ~1 ms measurement).
BUDGET = 0.03
MIN_INTERVAL = {"grid": 1.0, "landscape": 0.4, "spectra": 1.0}


def _refresh_on_budget(name: str, measure, fresh: bool, state: dict, force: bool) -> None:
    """Call ``measure()`` unless the snapshot is ``fresh`` (already of this step) or the
    last call was too recent for its cost to stay within ``BUDGET`` of the time."""
    if fresh:
        return
    now = time.perf_counter()
    due = now - state.get(f"{name}_t", -1e9) >= max(MIN_INTERVAL[name],
                                                     state.get(f"{name}_cost", 0.0) / BUDGET)
    if force or due:
        measure()
        state[f"{name}_cost"] = time.perf_counter() - now
        state[f"{name}_t"] = time.perf_counter()


def take_snapshot(session, state: dict, force: bool = False) -> dict[str, Any] | None:
    """The latest probe results in the panels' layout, or None when nothing is new."""
    trainer, prober = session.trainer, session.prober
    step = trainer.step_count
    if trainer.is_image:
        _refresh_on_budget("grid", prober.samples,
                           prober.snapshot().get("sample_step") == step, state, force)
    else:
        _refresh_on_budget("landscape", prober.landscape,
                           prober.snapshot().get("landscape_step") == step, state, force)
    _refresh_on_budget("spectra", prober.spectra,
                       prober.snapshot().get("spectra_step") == step, state, force)
    raw = session.snapshot()
    key = (raw.get("step"), raw.get("sample_step"), raw.get("landscape_step"),
           raw.get("spectra_step"))
    if not force and key == state.get("key"):
        return None
    state["key"] = key
    snap = adapt(raw, state)
    snap.setdefault("step", step)
    snap["kind"] = "image" if trainer.is_image else "2d"
    return snap
