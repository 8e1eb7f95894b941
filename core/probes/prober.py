"""The probe runner: measures a trainer's D (and G's samples) without disturbing training.

Guarantees (tested in tests/test_probes_session.py):
- no effect on training: probes run D and G in eval mode (BatchNorm running statistics and
  spectral-norm vectors stay as they are; train/eval flags and ``requires_grad`` are restored),
  never call an optimizer, and draw every random number from generators of their own (seeded
  from ``run.seed``), never from ``trainer.generator`` or torch's global stream. A run with
  probes is bit-identical to the same run without them.
- cost: the fast probes run on each log line; the slow ones (full spectra, histograms, 2D
  landscape and mode coverage) every ``run.probe_every`` steps. :attr:`Prober.seconds` is the
  time spent in probes.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..data.toy2d import mode_centres, mode_std
from .convnorm import conv_operator_norm, is_conv
from .coverage import COVERAGE_SAMPLES, critic_grid, mode_coverage
from .histograms import weight_histograms
from .images import grid_to_uint8, sample_grid, save_grid
from .lipschitz import evaluating, input_grad_norms, lipschitz_bound
from .power import matrix_sigma
from .spectra import effective_matrix, is_parametrized, layer_linf, layer_spectra, raw_matrix

PROBE_SEED_OFFSET = 104729  # probe streams: run.seed + offset (+1, +2); never the training one
PROBE_POINTS_2D = 128       # real, fake and interpolated points each, per log line
PROBE_POINTS_IMAGE = 32
LANDSCAPE_SIZE = 64
ARROWS = 128


def layer_input_shapes(D: torch.nn.Module, sample_shape: tuple[int, ...], device
                       ) -> dict[str, tuple[int, ...]]:
    """Per-sample input shape of every module of D, from one eval-mode forward of zeros."""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [m.register_forward_hook(
        lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(inp[0].shape[1:])))
        for name, m in D.named_modules() if name and ".parametrizations" not in f".{name}"]
    try:
        with evaluating(D), torch.no_grad():
            D(torch.zeros((2,) + tuple(sample_shape), device=device))
    finally:
        for h in hooks:
            h.remove()
    return shapes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Prober:
    def __init__(self, trainer, *, probe_points: int | None = None):
        self.trainer = trainer
        self.device = trainer.device
        seed = trainer.cfg.run.seed + PROBE_SEED_OFFSET
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(seed)
        self.cpu_gen = torch.Generator().manual_seed(seed + 1)
        self.is_2d = not trainer.is_image
        self.points = probe_points or (PROBE_POINTS_2D if self.is_2d else PROBE_POINTS_IMAGE)
        self.seconds = 0.0
        self._vectors: dict[tuple[str, str], torch.Tensor] = {}
        self._input_shapes: dict[str, tuple[int, ...]] | None = None
        self._snapshot: dict[str, Any] = {}
        if self.is_2d:
            name = trainer.cfg.data.dataset
            self.centres = mode_centres(name)
            self.std = mode_std(name)
            held_out = torch.Generator().manual_seed(seed + 2)
            self.coverage_noise = torch.randn(COVERAGE_SAMPLES, trainer.cfg.model.z_dim,
                                              generator=held_out).to(self.device)

    # ------------------------------------------------------------------ public
    def snapshot(self) -> dict[str, Any]:
        """The latest probe results as plain Python / numpy data (see core.session)."""
        return dict(self._snapshot)

    def publish(self, **items: Any) -> None:
        """Add plain-data items to the snapshot (a new dict: readers keep a consistent one)."""
        self._snapshot = {**self._snapshot, **items}

    def probe(self, *, slow: bool) -> dict[str, Any]:
        """Run the fast probes (and the slow ones when ``slow``); return the metrics fields."""
        t0 = time.perf_counter()
        snap = dict(self._snapshot)
        fields = self._fast(snap)
        if slow:
            fields.update(self._slow(snap))
        elif self.is_2d:
            fields["modes"] = fields["hq"] = None
        _sync(self.device)
        snap["step"] = self.trainer.step_count
        self._snapshot = snap
        self.seconds += time.perf_counter() - t0
        return fields

    def samples(self, path=None) -> np.ndarray:
        """G's sample grid on the trainer's fixed noise (uint8 [H, W, C]); saved as PNG at
        ``path`` when given. Updates the snapshot."""
        t0 = time.perf_counter()
        grid = sample_grid(self.trainer.generate())
        image = grid_to_uint8(grid)
        if path is not None:
            save_grid(grid, path)
        snap = dict(self._snapshot)
        snap.update(sample_grid=image, sample_step=self.trainer.step_count,
                    sample_path=str(path) if path is not None else None)
        self._snapshot = snap
        self.seconds += time.perf_counter() - t0
        return image

    # ------------------------------------------------------------------ helpers
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        if self._input_shapes is None:
            self._input_shapes = layer_input_shapes(self.trainer.D, self.trainer.sampler.shape,
                                                    self.device)
        return self._input_shapes

    def _sigma(self, key: tuple[str, str], matrix: torch.Tensor) -> float:
        v = self._vectors.get(key)
        warm = v is not None
        sigma, v = matrix_sigma(matrix, v, generator=self.cpu_gen,
                                max_iters=50 if warm else 300, tol=1e-5,
                                check_every=2 if warm else 4)
        self._vectors[key] = v
        return sigma

    def _conv_norm(self, name: str, layer) -> float:
        key = (name, "conv")
        v = self._vectors.get(key)
        sigma, v = conv_operator_norm(layer, layer.weight, self.input_shapes()[name], v,
                                      generator=self.cpu_gen,
                                      max_iters=50 if v is not None else 300, tol=1e-5)
        self._vectors[key] = v
        return sigma

    def _probe_batch(self) -> dict[str, torch.Tensor]:
        tr, n = self.trainer, self.points
        real = tr.sampler.sample(n, self.gen)
        z = torch.randn(n, tr.cfg.model.z_dim, generator=self.gen, device=self.device)
        fake = tr.generate(z).to(real.dtype)
        shape = (n,) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, generator=self.gen, device=self.device, dtype=real.dtype)
        interp = torch.lerp(fake, real, eps)
        return {"real": real, "fake": fake, "interp": interp}

    # ------------------------------------------------------------------ fast probes
    @torch.no_grad()
    def _fast(self, snap: dict[str, Any]) -> dict[str, Any]:
        tr = self.trainer
        cons, D = tr.constraints, tr.D
        sigma, sigma_raw, linf, conv_norm, norms = {}, {}, {}, {}, {}
        with cons.cached():
            for name, layer in cons.layers:
                sigma[name] = self._sigma((name, "eff"), effective_matrix(layer))
                sigma_raw[name] = (self._sigma((name, "raw"), raw_matrix(cons, layer))
                                   if is_parametrized(layer) else sigma[name])
                linf[name] = layer_linf(layer)
                if is_conv(layer):
                    conv_norm[name] = self._conv_norm(name, layer)
                norms[name] = conv_norm.get(name, sigma[name])
            bound, factors, note = lipschitz_bound(D, norms)

            batch = self._probe_batch()
            x = torch.cat(list(batch.values()), 0)
            if tr.is_image:
                x = x.contiguous(memory_format=tr.memory_format)
            with evaluating(D):
                gnorms, grads = input_grad_norms(D, x)
        n = self.points
        parts = {k: gnorms[i * n:(i + 1) * n] for i, k in enumerate(batch)}
        stats = torch.stack([gnorms.max(), parts["real"].max(), parts["fake"].max(),
                             parts["interp"].max(), parts["interp"].mean()]).tolist()
        fields = {
            "sigma": sigma, "sigma_raw": sigma_raw, "linf": linf, "conv_norm": conv_norm,
            "lip_grad": stats[0], "lip_bound": bound, "lip_bound_note": note,
            "lip_grad_real": stats[1], "lip_grad_fake": stats[2], "lip_grad_interp": stats[3],
            "lip_grad_mean_interp": stats[4],
        }
        snap.update({k: (dict(v) if isinstance(v, dict) else v) for k, v in fields.items()})
        snap["layers"] = [name for name, _ in cons.layers]
        snap["lip_bound_factors"] = factors
        snap["grad_norms"] = {k: v.float().cpu().numpy() for k, v in parts.items()}
        snap["fast_step"] = tr.step_count
        if self.is_2d:
            m = min(ARROWS, n)
            snap["arrows"] = {"points": batch["fake"][:m].float().cpu().numpy(),
                               "grads": grads[n:n + m].float().cpu().numpy()}
        return fields

    # ------------------------------------------------------------------ slow probes
    @torch.no_grad()
    def _slow(self, snap: dict[str, Any]) -> dict[str, Any]:
        tr = self.trainer
        cons, D = tr.constraints, tr.D
        fields: dict[str, Any] = {}
        with cons.cached():
            spectra = layer_spectra(cons)
            hist = weight_histograms(cons)
        # The exact values replace the power-iteration ones on this line.
        sigma = {name: s["sigma"] for name, s in spectra.items()}
        sigma_raw = {name: s["sigma_raw"] for name, s in spectra.items()}
        fields["sigma"], fields["sigma_raw"] = sigma, sigma_raw
        norms = {name: snap["conv_norm"].get(name, sigma[name]) for name in sigma}
        bound, factors, note = lipschitz_bound(D, norms)
        fields["lip_bound"] = bound
        snap.update(sigma=dict(sigma), sigma_raw=dict(sigma_raw), lip_bound=bound,
                    lip_bound_factors=factors, lip_bound_note=note,
                    spectra={name: s["svdvals"] for name, s in spectra.items()},
                    histograms=hist, slow_step=tr.step_count)
        if self.is_2d:
            samples = tr.generate(self.coverage_noise).cpu().numpy()
            cov = mode_coverage(samples, self.centres, self.std)
            fields["modes"], fields["hq"] = cov["modes"], cov["hq"]
            with evaluating(D), cons.cached():
                land = critic_grid(D, tr.sampler.extent(), LANDSCAPE_SIZE, self.device)
            snap.update(modes=cov["modes"], hq=cov["hq"], mode_counts=cov["mode_counts"],
                        centres=self.centres.copy(), mode_std=self.std,
                        coverage_samples=samples, landscape=land)
        return fields

