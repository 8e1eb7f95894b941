"""Lipschitz constraints on the discriminator, switchable at any step boundary.

:class:`ConstraintSet` owns the constraint state of one D and reconciles it with a
``ConstraintsConfig`` whenever the trainer applies a change (between steps, on the training
thread). Every switch keeps the Parameter objects of D, so the optimizer and its moment
estimates carry on untouched:

- clip: after each D optimizer step every D parameter is clamped to [-c, c].
- gp: a penalty added to the D loss (see penalty.py).
- spectral / rowsum: a :class:`LayerConstraint` parametrization on every Linear / Conv /
  ConvTranspose weight of D (see layer.py). Turning spectral off with ``on_disable = "keep"``
  writes the current effective weight into the raw Parameter (D's function does not jump, as
  with ``remove_spectral_norm``); ``"restore"`` leaves the raw weight the optimizer trained
  (D's function jumps). Row-sum has the same choice in ``constraints.rowsum.on_disable``.
Biases and normalization layers are never touched by the layer constraints.
"""

from __future__ import annotations

import contextlib
import copy

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..config import ConstraintsConfig
from .layer import LayerConstraint
from .matrix import constrained_layers, weight_matrix
from .penalty import dragan_points, gradient_penalty
from .rowsum import layer_geometry, linf_norm

__all__ = ["ConstraintSet", "LayerConstraint", "constrained_layers", "dragan_points",
           "gradient_penalty",
           "layer_geometry", "linf_norm", "weight_matrix"]

_PARAM_KEY = ".parametrizations.weight."


class ConstraintSet:
    def __init__(self, D: nn.Module, cfg: ConstraintsConfig, generator: torch.Generator,
                 init_generator: torch.Generator | None = None):
        """``generator`` draws GP interpolation weights (the run's stream); ``init_generator``
        draws the initial power-iteration vectors (its state is part of :meth:`state_dict`)."""
        self.D = D
        self.generator = generator
        self.init_generator = init_generator or torch.Generator(device=generator.device)
        self.layers = constrained_layers(D)
        self.cfg = ConstraintsConfig()
        self.last_penalty: torch.Tensor | None = None
        self.last_grad_norms: torch.Tensor | None = None
        self.configure(cfg)

    # ------------------------------------------------------------------ reconciling
    def configure(self, cfg: ConstraintsConfig) -> None:
        """Bring D's constraint state in line with ``cfg`` (call between steps only)."""
        old = self.cfg
        spectral_on, rowsum_on = cfg.spectral.enabled, cfg.rowsum.enabled
        if (old.spectral.enabled, old.rowsum.enabled) != (spectral_on, rowsum_on) or \
                old.rowsum.target != cfg.rowsum.target:
            for _, layer in self.layers:
                self._reconfigure_layer(layer, old, cfg)
        self.cfg = _copy(cfg)
        self.exact_vectors()  # switched on, or to method exact: exact from this step on

    def _reconfigure_layer(self, layer: nn.Module, old: ConstraintsConfig,
                           new: ConstraintsConfig) -> None:
        turning_off = [(old.spectral.enabled and not new.spectral.enabled, new.spectral.on_disable),
                       (old.rowsum.enabled and not new.rowsum.enabled, new.rowsum.on_disable)]
        if parametrize.is_parametrized(layer, "weight"):
            p = self.parametrization(layer)
            if any(off and mode == "keep" for off, mode in turning_off):
                with torch.no_grad():
                    effective = layer.weight.detach().clone()
                    original = layer.parametrizations.weight.original
                    original.copy_(effective)  # same Parameter object, optimizer unaffected
        if not (new.spectral.enabled or new.rowsum.enabled):
            if parametrize.is_parametrized(layer, "weight"):
                # The raw Parameter already holds what "keep"/"restore" asked for.
                parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
            return
        if not parametrize.is_parametrized(layer, "weight"):
            p = LayerConstraint(layer, self.init_generator)
            parametrize.register_parametrization(layer, "weight", p)
        p = self.parametrization(layer)
        raw = layer.parametrizations.weight.original
        if new.spectral.enabled and not p.spectral and new.spectral.method == "power":
            p.warm_up(raw)  # sigma is accurate from the first step
        p.spectral, p.rowsum, p.target = new.spectral.enabled, new.rowsum.enabled, new.rowsum.target

    @staticmethod
    def parametrization(layer: nn.Module) -> LayerConstraint:
        return layer.parametrizations.weight[0]

    # ------------------------------------------------------------------ training hooks
    def before_d_step(self) -> None:
        """Advance the power iteration: ``power_iters`` iterations per D update (method
        ``power``); with ``exact``, make sure u, v are exact for the weights as they are."""
        if not self.cfg.spectral.enabled or not self.D.training:
            return
        if self.cfg.spectral.method == "exact":
            self.exact_vectors()
            return
        iters = self.cfg.spectral.power_iters
        for _, layer in self.layers:
            self.parametrization(layer).power_iterate(
                layer.parametrizations.weight.original, iters)

    @torch.no_grad()
    def exact_vectors(self) -> None:
        """Method ``exact``: each SN layer's u, v become the exact top singular vectors of its
        raw weight (skipped where they already are). Run after every D update too, so the
        weights the probes measure and the checkpoint stores are W / sigma_1 exactly, not W
        after the update over sigma before it."""
        if not (self.cfg.spectral.enabled and self.cfg.spectral.method == "exact"):
            return
        for _, layer in self.layers:
            self.parametrization(layer).exact(layer.parametrizations.weight.original)

    def cached(self):
        """Compute each constrained weight once per forward/backward instead of per call."""
        if self.cfg.spectral.enabled or self.cfg.rowsum.enabled:
            return parametrize.cached()
        return contextlib.nullcontext()

    def penalty(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        gp = self.cfg.gp
        if not gp.enabled or gp.weight == 0:
            self.last_penalty = self.last_grad_norms = None
            return None
        value, norms = gradient_penalty(D, real, fake, gp.kind, gp.weight, self.generator,
                                        gp.dragan_c)
        self.last_penalty, self.last_grad_norms = value.detach(), norms
        return value

    @torch.no_grad()
    def after_d_step(self) -> None:
        if self.cfg.clip.enabled:
            c = self.cfg.clip.c
            params = [p for p in self.D.parameters()]
            torch._foreach_clamp_min_(params, -c)
            torch._foreach_clamp_max_(params, c)
        self.exact_vectors()  # after clipping: for the weights as the update left them

    # ------------------------------------------------------------------ inspection / export
    def raw_weight(self, layer: nn.Module) -> torch.Tensor:
        """The weight the optimizer updates (before any layer constraint)."""
        if parametrize.is_parametrized(layer, "weight"):
            return layer.parametrizations.weight.original
        return layer.weight

    @torch.no_grad()
    def plain_state_dict(self) -> dict[str, torch.Tensor]:
        """D's state dict with the effective weights under the plain ``<layer>.weight`` keys and
        no parametrization entries: loadable into an unconstrained copy of D, which then
        computes the same function."""
        effective = {name: layer.weight.detach() for name, layer in self.layers
                     if parametrize.is_parametrized(layer, "weight")}
        out: dict[str, torch.Tensor] = {}
        for key, value in self.D.state_dict().items():
            if _PARAM_KEY in key:
                prefix, rest = key.split(_PARAM_KEY, 1)
                if rest == "original":
                    out[f"{prefix}.weight"] = effective[prefix].cpu().clone()
                continue
            out[key] = value.detach().cpu().clone()
        return out

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"init_generator": self.init_generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.init_generator.set_state(state["init_generator"])


def _copy(cfg: ConstraintsConfig) -> ConstraintsConfig:
    return copy.deepcopy(cfg)
