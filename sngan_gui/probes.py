"""Snapshots for the plots, computed on the training thread between steps.

``take_snapshot(session)`` returns plain numpy/python data in one normalized layout that the
panels read (every key optional):

- ``step``; ``kind`` ("2d" or "image")
- ``grid``: image grid [H, W] or [H, W, 3] in [-1, 1] (fixed noise)
- ``real``, ``fake``: [N, 2] points; ``extent``: (x0, x1, y0, y1); ``critic``: [gy, gx] values
  of D on a regular grid over ``extent``; ``arrows``: [M, 4] (x, y, dx, dy) gradient at fakes
- ``modes``, ``hq``
- ``spectra``: {layer: singular values (descending)}; ``conv_norm``: {layer: true operator norm}
- ``sigma``: {layer: top singular value}; ``lip_bound``; ``lip_grad``
- ``hist``: {layer: (counts, edges)} of the effective weights

When the engine's ``TrainingSession.snapshot()`` exists its output is adapted to this layout;
otherwise a small local probe computes the same things (in eval mode, with its own random
stream, so the training run itself is untouched).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

GRID = 64          # critic heat map resolution
N_POINTS = 512     # real / fake points shown
N_ARROWS = 96      # gradient arrows on fake points
HIST_BINS = 60


def _np(x) -> Any:
    """Tensor/array/list -> numpy copy (never a live tensor)."""
    if x is None:
        return None
    if hasattr(x, "detach"):
        return x.detach().float().cpu().numpy().copy()
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def adapt(raw: dict[str, Any], state: dict | None = None) -> dict[str, Any]:
    """Map the engine's snapshot (core.session docstring) to the panels' layout."""
    state = {} if state is None else state
    out: dict[str, Any] = {}
    alias = {
        "grid": ("grid", "sample_grid", "image_grid", "samples_grid"),
        "real": ("real", "real_points"),
        "fake": ("fake", "coverage_samples", "fake_points", "generated"),
        "extent": ("extent", "landscape_extent"),
        "critic": ("critic", "landscape", "critic_grid", "heatmap"),
        "arrows": ("arrows", "gradients", "grad_arrows"),
        "spectra": ("spectra", "singular_values", "spectrum"),
        "conv_norm": ("conv_norm", "true_norm", "conv_norms", "operator_norm"),
        "sigma": ("sigma",),
        "hist": ("hist", "histograms", "weight_hist", "weight_histograms"),
        "modes": ("modes",), "hq": ("hq",), "lip_bound": ("lip_bound",),
        "lip_grad": ("lip_grad",), "step": ("step",), "kind": ("kind",),
        "time_split": ("time_split_ms", "time_split", "timing"),
        "probe_share": ("probe_time_share",), "sample_step": ("sample_step",),
        "slow_step": ("slow_step",), "lip_bound_note": ("lip_bound_note",),
    }
    for key, names in alias.items():
        for name in names:
            if name in raw and raw[name] is not None:
                out[key] = raw[name]
                break
    # nested landscape dict, e.g. {"landscape": {"values", "extent", "arrows"}}
    land = raw.get("landscape")
    if isinstance(land, dict):
        out["critic"] = land.get("values", land.get("critic"))
        out["extent"] = land.get("extent", out.get("extent"))
        if "arrows" in land:
            out["arrows"] = land["arrows"]
        for k in ("real", "fake"):
            if k in land:
                out[k] = land[k]
    arrows = raw.get("arrows")
    if isinstance(arrows, dict) and "points" in arrows and "grads" in arrows:
        out["arrows"] = np.concatenate([np.asarray(arrows["points"], dtype=float)[:, :2],
                                        np.asarray(arrows["grads"], dtype=float)[:, :2]], 1)
    centres = raw.get("centres")
    if centres is not None and "real" not in out:
        # Real points for display, drawn once per layout from the mixture itself (numpy only).
        centres = np.asarray(centres, dtype=float)
        std = float(raw.get("mode_std") or 0.02)
        cache = state.get("real")
        if cache is None or cache[0] != (centres.shape, std):
            rng = np.random.default_rng(0)
            idx = rng.integers(0, len(centres), N_POINTS)
            cache = ((centres.shape, std), centres[idx] + std * rng.standard_normal((N_POINTS, 2)))
            state["real"] = cache
        out["real"] = cache[1]
        out["modes_total"] = int(len(centres))
    if isinstance(out.get("fake"), np.ndarray) and len(out["fake"]) > 1000:
        out["fake"] = out["fake"][:1000]
    for key in ("grid", "real", "fake", "critic", "arrows"):
        if key in out:
            out[key] = _np(out[key])
    if isinstance(out.get("spectra"), dict):
        out["spectra"] = {k: np.asarray(_np(v), dtype=float) for k, v in out["spectra"].items()}
    hist = out.get("hist")
    if isinstance(hist, dict):
        fixed = {}
        for k, v in hist.items():
            if isinstance(v, dict):
                v = (v.get("counts"), v.get("edges"))
            fixed[k] = (np.asarray(_np(v[0]), dtype=float), np.asarray(_np(v[1]), dtype=float))
        out["hist"] = fixed
    if "grid" in out and out["grid"] is not None:
        g = np.asarray(out["grid"])
        g = g.astype(np.float32) / 127.5 - 1.0 if g.dtype == np.uint8 else g.astype(np.float32)
        if g.ndim == 3 and g.shape[0] in (1, 3) and g.shape[-1] not in (1, 3):
            g = np.moveaxis(g, 0, -1)  # CHW -> HWC
        if g.ndim == 3 and g.shape[-1] == 1:
            g = g[..., 0]
        out["grid"] = g
    return out


GRID_BUDGET = 0.03        # extra image grids for the GUI: at most 3% of the time
GRID_MIN_INTERVAL = 1.0   # ... and at most one per second


def _extra_grid(session, state: dict, force: bool) -> None:
    """Refresh the engine's fixed-noise grid for the GUI between its own sample steps
    (G in eval mode on the fixed noise: no effect on training or on the logged metrics)."""
    prober = getattr(session, "prober", None)
    if prober is None or not session.trainer.is_image or not hasattr(prober, "samples"):
        return
    import time

    now = time.perf_counter()
    last_step = prober.snapshot().get("sample_step")
    if last_step == session.trainer.step_count:
        return
    due = now - state.get("grid_t", -1e9) >= max(GRID_MIN_INTERVAL,
                                                  state.get("grid_cost", 0.0) / GRID_BUDGET)
    if force or due:
        prober.samples()
        state["grid_cost"] = time.perf_counter() - now
        state["grid_t"] = time.perf_counter()


def take_snapshot(session, state: dict, force: bool = False) -> dict[str, Any] | None:
    """The latest probe results in the panels' layout, or None when nothing is new."""
    engine = getattr(session, "snapshot", None)
    if not callable(engine):
        return _local_snapshot(session, state)
    _extra_grid(session, state, force)
    land = _extra_landscape(session, state, force)
    raw = engine()
    key = (raw.get("step"), raw.get("sample_step"), raw.get("slow_step"))
    if not force and key == state.get("key") and land is None:
        return None
    state["key"] = key
    snap = adapt(raw, state)
    if land is None:
        land = state.get("landscape")
    if land is not None and land["step"] >= (raw.get("slow_step") or -1):
        # fresher than the engine's slow probe (run.probe_every steps apart)
        for k in ("real", "fake", "critic", "extent", "arrows", "modes", "hq", "modes_total"):
            if k in land:
                snap[k] = land[k]
        snap["landscape_step"] = land["step"]
    else:
        snap["landscape_step"] = raw.get("slow_step")
    snap.setdefault("step", session.trainer.step_count)
    snap["kind"] = "image" if session.trainer.is_image else "2d"
    return snap


LANDSCAPE_BUDGET = 0.03
LANDSCAPE_MIN_INTERVAL = 0.4


def _extra_landscape(session, state: dict, force: bool) -> dict[str, Any] | None:
    """For 2D data, a fresh critic landscape / points / arrows for the GUI between the
    engine's slow probes, on a time budget (eval mode, own random stream: training and the
    logged metrics are untouched)."""
    import time

    trainer = session.trainer
    if trainer.is_image:
        return None
    now = time.perf_counter()
    last = state.get("landscape")
    if last is not None and last["step"] == trainer.step_count:
        return None
    due = now - state.get("land_t", -1e9) >= max(LANDSCAPE_MIN_INTERVAL,
                                                  state.get("land_cost", 0.0) / LANDSCAPE_BUDGET)
    if not (force or due):
        return None
    land = _local_snapshot(session, state, landscape_only=True)
    state["land_cost"] = time.perf_counter() - now
    state["land_t"] = time.perf_counter()
    state["landscape"] = land
    return land


def make_grid(images: np.ndarray, nrow: int = 8, pad: int = 2) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> one [rows*(H+pad)+pad, ...] grid (2D if C == 1)."""
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    nrows = int(math.ceil(n / ncol))
    grid = np.full((c, nrows * (h + pad) + pad, ncol * (w + pad) + pad), -1.0, dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[:, y:y + h, x:x + w] = images[i]
    return grid[0] if c == 1 else np.moveaxis(grid, 0, -1)


def _local_snapshot(session, rng_state: dict, layers_only: bool = False,
                    landscape_only: bool = False) -> dict[str, Any]:
    import torch

    from core.constraints import constrained_layers, weight_matrix
    from core.constraints.matrix import is_transposed

    trainer = session.trainer
    D = trainer.D
    snap: dict[str, Any] = {"step": trainer.step_count,
                            "kind": "image" if trainer.is_image else "2d"}
    gen = rng_state.get("gen")
    if gen is None:
        gen = torch.Generator(device=trainer.device)
        gen.manual_seed(12345)
        rng_state["gen"] = gen

    d_training, g_training = D.training, trainer.G.training
    D.eval()
    try:
        with torch.no_grad():
            spectra, sigma, hist = {}, {}, {}
            layers = [] if landscape_only else constrained_layers(D)
            bound = 1.0
            for name, layer in layers:
                w = layer.weight.detach().float()
                s = torch.linalg.svdvals(weight_matrix(w, is_transposed(layer))).cpu().numpy()
                spectra[name] = s
                sigma[name] = float(s[0]) if s.size else math.nan
                bound *= sigma[name]
                counts, edges = np.histogram(w.cpu().numpy().ravel(), bins=HIST_BINS)
                hist[name] = (counts.astype(float), edges)
            if not landscape_only:
                snap.update(spectra=spectra, sigma=sigma, hist=hist)
            if not trainer.d_has_batchnorm and not landscape_only:
                snap["lip_bound"] = bound  # BatchNorm makes the plain product meaningless
        if layers_only:
            return snap
        if trainer.is_image:
            imgs = trainer.generate().cpu().numpy()
            snap["grid"] = make_grid(np.clip(imgs, -1, 1))
            return snap
        sampler = trainer.sampler
        x0, x1, y0, y1 = sampler.extent()
        snap["extent"] = (x0, x1, y0, y1)
        with torch.no_grad():
            real = sampler.sample(N_POINTS, gen)
            z = torch.randn(N_POINTS, trainer.cfg.model.z_dim, generator=gen, device=trainer.device)
            fake = trainer.generate(z)
            xs = torch.linspace(x0, x1, GRID, device=trainer.device)
            ys = torch.linspace(y0, y1, GRID, device=trainer.device)
            yy, xx = torch.meshgrid(ys, xs, indexing="ij")
            pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
            critic = D(pts).reshape(GRID, GRID)
        snap["real"], snap["fake"] = _np(real), _np(fake)
        snap["critic"] = _np(critic)
        with torch.enable_grad():
            probe = torch.cat([real[: N_ARROWS], fake]).detach().requires_grad_(True)
            out = D(probe)
            (grad,) = torch.autograd.grad(out.sum(), probe)
        norms = grad.norm(dim=1)
        snap["lip_grad"] = float(norms.max())
        arrows_at = fake[:N_ARROWS]
        snap["arrows"] = _np(torch.cat([arrows_at, grad[N_ARROWS: 2 * N_ARROWS]], 1))
        snap.update(_modes(sampler, fake))
        return snap
    finally:
        D.train(d_training)
        trainer.G.train(g_training)


def _modes(sampler, fake) -> dict[str, float]:
    import torch

    centres = sampler.centres
    d = torch.cdist(fake, centres)
    best, idx = d.min(dim=1)
    good = best <= 3 * sampler.std
    modes = int(torch.unique(idx[good]).numel())
    return {"modes": modes, "modes_total": int(centres.shape[0]), "hq": float(good.float().mean())}
