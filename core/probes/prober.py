"""The probe runner: measures a trainer's D (and G's samples) without disturbing training.

Guarantees (tested in tests/test_probes_session.py):
- no effect on training: probes run D and G in eval mode (BatchNorm running statistics and
  spectral-norm vectors stay as they are; train/eval flags and ``requires_grad`` are restored),
  never call an optimizer, and draw every random number from generators of their own (seeded
  from ``run.seed``), never from ``trainer.generator`` or torch's global stream. A run with
  probes is bit-identical to the same run without them.
- cost: the fast probes run on each log line; the slow ones (full spectra, histograms, 2D
  landscape and mode coverage, image quality through :attr:`Prober.quality`, a
  :class:`core.quality.QualityProbe` set by the session) every ``run.probe_every`` steps. :attr:`Prober.seconds` is the
  time spent in probes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Any

import numpy as np
import torch
from torch.nn.utils import parametrize

from ..constraints.penalty import dragan_points, interpolates
from ..constraints.rowsum import operator_linf
from ..contract import FastProbe, Histogram, Landscape, ProbeSnapshot, SampleGrid, Spectra
from .convnorm import conv_gram, conv_start, is_conv
from .coverage import COVERAGE_SAMPLES, critic_grid, mode_coverage
from .histograms import weight_histograms
from .images import grid_to_uint8, sample_grid, save_grid
from .lipschitz import (eval_modes, evaluating, frozen, input_grad_norms, leaf_modules,
                        lipschitz_bound)
from .power import WARM, column_mask, krylov_sigmas, matrix_gram, pad_stack, random_block
from .spectra import effective_matrix, layer_spectra, raw_matrix
from .weights import clip_shares

PROBE_SEED_OFFSET = 104729  # probe streams: run.seed + offset (+1, +2); never the training one
PROBE_POINTS_2D = 32        # real, fake and interpolated points each, per log line
PROBE_POINTS_IMAGE = 32
LANDSCAPE_SIZE = 48
ARROWS = 128
FAST_TOL = 1e-4  # Krylov iteration stops when the top Ritz pair is this accurate (relative)
# Krylov steps: a warm start (the previous line's top Ritz vectors + one random column) converges
# in a few steps; a cold start (and every conv layer's call: random columns beside the warm
# ones) runs longer so that the random block's Krylov space reaches the top singular vectors.
WARM_STEPS = {"min_steps": 2, "max_steps": 30}
COLD = {"min_steps": 8, "max_steps": 120}
FRESH_COLD = 3


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


@contextlib.contextmanager
def _one_thread(device: torch.device):
    """Probes are many tiny ops: on the CPU, torch's intra-op thread pool costs more per op
    than it saves (a 64x128 @ 128x128 matmul: 15 us on one thread, 44 us on two busy cores).
    The training thread runs them with one intra-op thread, then restores the setting."""
    if device.type != "cpu":
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


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
        # DRAGAN's perturbation draws (lip_grad_mean_perturbed) have a stream of their own, so
        # the other probe points are those a run measured before that field existed
        self.perturb_gen = torch.Generator(device=self.device)
        self.perturb_gen.manual_seed(seed + 3)
        self.is_2d = not trainer.is_image
        self.points = probe_points or (PROBE_POINTS_2D if self.is_2d else PROBE_POINTS_IMAGE)
        self.seconds = 0.0
        self._vectors: dict[tuple[str, str], torch.Tensor] = {}
        self._input_shapes: dict[str, tuple[int, ...]] | None = None
        self._leaves = leaf_modules(trainer.D)  # the models' structure is fixed for the run
        self._g_modules = list(trainer.G.modules())
        self._d_lists = None
        self._stack_buffers: dict[tuple, torch.Tensor] = {}
        self._snapshot = ProbeSnapshot()
        self.quality = None  # image runs: a core.quality.QualityProbe (set by the session)
        if self.is_2d:
            sampler = trainer.sampler
            self.centres = sampler.centres_np
            self.std = sampler.std
            self.mode_of = sampler.mode_of
            held_out = torch.Generator().manual_seed(seed + 2)
            self.coverage_noise = torch.randn(COVERAGE_SAMPLES, trainer.cfg.model.z_dim,
                                              generator=held_out).to(self.device)

    # ------------------------------------------------------------------ public
    def snapshot(self) -> ProbeSnapshot:
        """The latest probe results (a frozen :class:`core.contract.ProbeSnapshot`; each
        measurement replaces it with a new one, so a reader keeps a consistent one)."""
        return self._snapshot

    def publish(self, **items: Any) -> None:
        """Replace top-level fields of the snapshot (e.g. ``time_split_ms``)."""
        self._snapshot = dataclasses.replace(self._snapshot, **items)

    def probe(self, *, slow: bool, final: bool = False) -> dict[str, Any]:
        """Run the fast probes (and the slow ones when ``slow``; ``final``: the run's last
        line); return the metrics fields."""
        t0 = time.perf_counter()
        parts: dict[str, Any] = {}
        with _one_thread(self.device):
            fields = self._fast(parts)
            if slow:
                fields.update(self._slow(parts))
            elif self.is_2d:
                fields["modes"] = fields["hq"] = None
            _sync(self.device)
        if self.quality is not None:
            # all threads: hundreds of samples through G and the scorer are large ops
            fields.update(self.quality.measure(final=final) if slow else self.quality.empty())
            _sync(self.device)
        self._snapshot = dataclasses.replace(self._snapshot, step=self.trainer.step_count,
                                             **parts)
        self.seconds += time.perf_counter() - t0
        return fields

    # ------------------------------------------------------------------ resuming
    def state_dict(self) -> dict[str, Any]:
        """What the next lines' probes depend on besides the models: the random streams of
        the probe points and the Krylov starts, and the warm-start vectors. A checkpoint keeps
        it, so a resumed run logs the lines an uninterrupted run logs."""
        return {"gen": self.gen.get_state(), "cpu_gen": self.cpu_gen.get_state(),
                "perturb_gen": self.perturb_gen.get_state(),
                "vectors": [[key, v.detach().cpu()] for key, v in self._vectors.items()]}

    def load_state_dict(self, state: dict[str, Any], *, same_device_type: bool = True) -> None:
        """Continue from :meth:`state_dict`. A generator's state fits only its own kind of
        device: on another kind the streams start from their seeds (as the trainer's do)."""
        if same_device_type:
            self.gen.set_state(state["gen"])
            if "perturb_gen" in state:  # absent from checkpoints older than DRAGAN's probe
                self.perturb_gen.set_state(state["perturb_gen"])
        self.cpu_gen.set_state(state["cpu_gen"])
        self._vectors = {key: v.to(self.device) for key, v in state["vectors"]}

    def samples(self, path=None) -> np.ndarray:
        """G's sample grid on the trainer's fixed noise (uint8 [H, W, C]); saved as PNG at
        ``path`` when given. Updates the snapshot."""
        t0 = time.perf_counter()
        with _one_thread(self.device):
            grid = sample_grid(self.trainer.generate())
            image = grid_to_uint8(grid)
            if path is not None:
                save_grid(grid, path)
        self._snapshot = dataclasses.replace(
            self._snapshot, samples=SampleGrid(step=self.trainer.step_count, pixels=image))
        self.seconds += time.perf_counter() - t0
        return image

    def landscape(self) -> dict[str, Any]:
        """2D data: refresh the coverage and critic landscape of the snapshot now (the GUI
        asks between slow probes); the same measurement as the slow probe's, so ``modes`` and
        ``hq`` keep their metrics meaning. Returns the ``modes`` / ``hq`` fields."""
        return self._on_demand(self._landscape)

    def spectra(self) -> None:
        """Refresh the snapshot's full spectra and weight histograms from D's current weights
        (the GUI asks between slow probes; ``python benchmarks/probes.py`` measures its
        cost). The same measurement as
        the slow probe's; the metrics fields are left to the probes on the log cadence."""
        self._on_demand(self._spectra)

    def _on_demand(self, measure):
        """Run ``measure(parts)`` between steps, publish the parts it measured, count the
        time."""
        t0 = time.perf_counter()
        parts: dict[str, Any] = {}
        with _one_thread(self.device):
            result = measure(parts)
            _sync(self.device)
        self._snapshot = dataclasses.replace(self._snapshot, **parts)
        self.seconds += time.perf_counter() - t0
        return result

    # ------------------------------------------------------------------ helpers
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        if self._input_shapes is None:
            self._input_shapes = layer_input_shapes(self.trainer.D, self.trainer.sampler.shape,
                                                    self.device)
        return self._input_shapes

    def _operator_norms(self, cons) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
        """(operator norms, linf): the top singular value of every layer's effective (and raw)
        weight matrix and every conv layer's true operator norm by block Krylov iteration
        (power.py), warm-started from the previous call's Ritz vectors plus fresh random
        columns; and each layer's exact l-inf operator norm."""
        mats: dict[tuple[str, str], torch.Tensor] = {}
        convs = {}
        for name, layer in cons.layers:
            mats[(name, "eff")] = effective_matrix(layer)
            if parametrize.is_parametrized(layer, "weight"):
                mats[(name, "raw")] = raw_matrix(cons, layer)
            if is_conv(layer):
                convs[name] = layer
        keys = list(mats)
        widths = [mats[k].shape[1] for k in keys]
        vkey = ("matrices", tuple(keys), tuple(widths))
        buf = self._stack_buffers.get(vkey)
        if buf is None:
            stack = self._stack_buffers[vkey] = pad_stack([mats[k] for k in keys])
        else:  # copy into the padded buffer: its padding stays zero
            stack = buf
            for i, k in enumerate(keys):
                stack[i, : mats[k].shape[0], : mats[k].shape[1]].copy_(mats[k])
        warm = self._vectors.get(vkey)
        steps = COLD if warm is None else WARM_STEPS
        fresh = random_block((len(keys), stack.shape[2], FRESH_COLD if warm is None else 1),
                             self.cpu_gen, stack.dtype, self.device)
        start = fresh if warm is None else torch.cat([warm[:, :, :WARM], fresh], 2)
        start = start * column_mask(widths, stack.shape[2], self.device, stack.dtype)
        sigmas, self._vectors[vkey] = krylov_sigmas(matrix_gram(stack), start, tol=FAST_TOL,
                                                    **steps)
        found = dict(zip(keys, sigmas))
        # l-inf = largest absolute row sum of the matrix for Linear layers; conv layers need
        # their input size for the exact value (rowsum.operator_linf)
        row_max = stack.abs().sum(2).amax(1).tolist()
        linf = {k[0]: row_max[i] for i, k in enumerate(keys) if k[1] == "eff"}
        for name, layer in convs.items():
            linf[name] = operator_linf(layer, layer.weight, self.input_shapes()[name])
        for name, layer in convs.items():
            shape, weight = self.input_shapes()[name], layer.weight.detach()
            # Conv layers restart on every line (warm vectors + FRESH_COLD random ones, COLD
            # steps): their top singular values crowd together and cross while training, and
            # a warm start alone then read low for a line or two; the cost is small next to
            # the conv models' steps (benchmarks/probes.py).
            start = conv_start(shape, weight, self.cpu_gen, self._vectors.get((name, "conv")),
                               fresh=FRESH_COLD)
            sigmas, ritz = krylov_sigmas(conv_gram(layer, weight, shape), start, tol=FAST_TOL,
                                         **COLD)
            found[(name, "conv")] = sigmas[0]
            self._vectors[(name, "conv")] = ritz
        return found, linf

    @contextlib.contextmanager
    def _d_eval(self):
        """Like :func:`evaluating` (eval mode, no weight gradients), with D's module and
        parameter lists cached per layer-constraint state (registering a constraint adds
        modules)."""
        c = self.trainer.constraints.cfg
        key = (c.spectral.enabled, c.rowsum.enabled)
        if self._d_lists is None or self._d_lists[0] != key:
            D = self.trainer.D
            self._d_lists = (key, list(D.modules()), list(D.parameters()))
        _, modules, params = self._d_lists
        with eval_modes(modules), frozen(params):
            yield

    def _probe_batch(self) -> dict[str, torch.Tensor]:
        tr, n = self.trainer, self.points
        real = tr.sampler.sample(n, self.gen)
        z = torch.randn(n, tr.cfg.model.z_dim, generator=self.gen, device=self.device)
        with eval_modes(self._g_modules):
            fake = tr.G(z).to(real.dtype)
        interp = interpolates(real, fake, self.gen)
        # where the dragan penalty acts
        perturbed = dragan_points(real, tr.cfg.constraints.gp.dragan_c, self.perturb_gen)
        return {"real": real, "fake": fake, "interp": interp, "perturbed": perturbed}

    # ------------------------------------------------------------------ fast probes
    @torch.no_grad()
    def _fast(self, parts: dict[str, Any]) -> dict[str, Any]:
        tr = self.trainer
        cons, D = tr.constraints, tr.D
        names = [name for name, _ in cons.layers]
        with cons.cached():
            found, linf = self._operator_norms(cons)
            batch = self._probe_batch()
            x = torch.cat(list(batch.values()), 0)
            if tr.is_image:
                x = x.contiguous(memory_format=tr.memory_format)
            with self._d_eval():
                gnorms, grads = input_grad_norms(D, x)
        n = self.points
        g = gnorms.float().cpu().numpy()
        gl = g.tolist()  # plain Python on 3n numbers beats numpy's per-call overhead here
        real_l, fake_l, interp_l, perturbed_l = gl[:n], gl[n:2 * n], gl[2 * n:3 * n], gl[3 * n:]
        stats = [max(gl[:3 * n]), max(real_l), max(fake_l), max(interp_l), sum(interp_l) / n]
        sigma = {name: found[(name, "eff")] for name in names}
        sigma_raw = {name: found.get((name, "raw"), sigma[name]) for name in names}
        conv_norm = {name: found[(name, "conv")] for name in names if (name, "conv") in found}
        norms = {name: conv_norm.get(name, sigma[name]) for name in names}
        bound, _, note = lipschitz_bound(D, norms, self._leaves)
        fields = {
            "sigma": sigma, "sigma_raw": sigma_raw, "linf": linf, "conv_norm": conv_norm,
            "lip_grad": stats[0], "lip_bound": bound, "lip_bound_note": note,
            "lip_grad_real": stats[1], "lip_grad_fake": stats[2], "lip_grad_interp": stats[3],
            "lip_grad_mean_interp": stats[4],
            "lip_grad_mean_perturbed": sum(perturbed_l) / n,
            "clip_share": clip_shares(cons),
        }
        arrows = None
        if self.is_2d:
            m = min(ARROWS, n)
            arrows = torch.cat([batch["fake"][:m, :2], grads[n:n + m, :2]], 1).float().cpu().numpy()
        parts["fast"] = FastProbe(step=tr.step_count, sigma=dict(sigma),
                                  conv_norm=dict(conv_norm), arrows=arrows)
        return fields

    # ------------------------------------------------------------------ slow probes
    @torch.no_grad()
    def _slow(self, parts: dict[str, Any]) -> dict[str, Any]:
        """Slow probes after the fast ones of the same line (``parts["fast"]`` is set)."""
        tr = self.trainer
        fields: dict[str, Any] = {}
        spectra = self._spectra(parts)
        # The exact values replace the Krylov estimates on this line.
        sigma = {name: s["sigma"] for name, s in spectra.items()}
        sigma_raw = {name: s["sigma_raw"] for name, s in spectra.items()}
        fields["sigma"], fields["sigma_raw"] = sigma, sigma_raw
        fast = parts["fast"]
        norms = {name: fast.conv_norm.get(name, sigma[name]) for name in sigma}
        fields["lip_bound"], _, _ = lipschitz_bound(tr.D, norms, self._leaves)
        parts["fast"] = dataclasses.replace(fast, sigma=dict(sigma))
        parts["slow_step"] = tr.step_count
        if self.is_2d:
            fields.update(self._landscape(parts))
        return fields

    @torch.no_grad()
    def _spectra(self, parts: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Exact spectra and histograms of D's effective weights into ``parts["spectra"]``;
        returns layer_spectra's per-layer results."""
        cons = self.trainer.constraints
        with cons.cached():
            spectra = layer_spectra(cons)
            hist = weight_histograms(cons)
        parts["spectra"] = Spectra(
            step=self.trainer.step_count,
            singular_values={name: s["svdvals"] for name, s in spectra.items()},
            histograms={name: Histogram(counts=h["counts"], edges=h["edges"])
                        for name, h in hist.items()})
        return spectra

    @torch.no_grad()
    def _landscape(self, parts: dict[str, Any]) -> dict[str, Any]:
        """2D data: mode coverage of G on the held-out noise and D's value on a grid (both in
        eval mode, no random draws) into ``parts["landscape"]``; returns the ``modes`` /
        ``hq`` fields."""
        tr = self.trainer
        cons, D = tr.constraints, tr.D
        samples = tr.generate(self.coverage_noise).cpu().numpy()
        cov = mode_coverage(samples, self.centres, self.std, mode_of=self.mode_of)
        with evaluating(D), cons.cached():
            land = critic_grid(D, tr.sampler.extent(), LANDSCAPE_SIZE, self.device)
        parts["landscape"] = Landscape(
            step=tr.step_count, x=land["x"], y=land["y"], values=land["values"],
            extent=tuple(land["extent"]), samples=samples, modes=cov["modes"], hq=cov["hq"],
            mode_counts=cov["mode_counts"])
        return {"modes": cov["modes"], "hq": cov["hq"]}

