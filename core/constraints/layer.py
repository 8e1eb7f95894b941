"""One parametrization per constrained D layer: spectral and/or row-sum normalization.

A single module per layer (rather than one per constraint) lets both be switched
independently: ``torch.nn.utils.parametrize.remove_parametrizations`` removes *every*
parametrization of a tensor, so stacking two would make turning one off drop the other.

Effective weight:
- spectral only: W / sigma(W)                       (sigma by power iteration)
- row-sum only:  W * target / ||W||_inf             (exact, see rowsum.py)
- both:          W / max(sigma(W), ||W||_inf / target)
  Both are rescalings, so applying one after the other would simply undo the first; dividing
  by the larger factor makes both bounds hold (sigma <= 1 and ||.||_inf <= target) with the
  tighter one met with equality.

The persistent vectors u, v always exist (so the state dict layout depends only on whether a
layer constraint is on, which a resumed run knows from its config) and are updated only by
:meth:`LayerConstraint.power_iterate`, which the trainer calls once per D update in training
mode: evaluating D (eval mode, probes, the G update) never moves them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .matrix import is_transposed, weight_matrix
from .rowsum import layer_geometry, linf_norm
from .spectral import EPS, WARMUP_ITERS, exact_vectors, power_iterate, sigma_estimate


class LayerConstraint(nn.Module):
    def __init__(self, layer: nn.Module, generator: torch.Generator):
        super().__init__()
        weight = layer.weight
        self.transposed = is_transposed(layer)
        _, self.stride, self.dilation = layer_geometry(layer)
        rows, cols = weight_matrix(weight, self.transposed).shape
        gen_device = generator.device
        u = torch.randn(rows, generator=generator, device=gen_device)
        v = torch.randn(cols, generator=generator, device=gen_device)
        self.register_buffer("u", F.normalize(u, dim=0, eps=EPS).to(weight.device, weight.dtype))
        self.register_buffer("v", F.normalize(v, dim=0, eps=EPS).to(weight.device, weight.dtype))
        self.spectral = False
        self.rowsum = False
        self.target = 1.0
        # The weight values u, v are exact for (method exact); not state: recomputed at need.
        self.exact_for: torch.Tensor | None = None

    def matrix(self, weight: torch.Tensor) -> torch.Tensor:
        return weight_matrix(weight, self.transposed)

    def power_iterate(self, weight: torch.Tensor, iters: int) -> None:
        power_iterate(self.matrix(weight.detach()), self.u, self.v, iters)

    def warm_up(self, weight: torch.Tensor) -> None:
        self.power_iterate(weight, WARMUP_ITERS)

    def exact(self, weight: torch.Tensor) -> None:
        """u, v := the exact top singular vectors of ``weight`` (method ``exact``), unless
        they already are for these values (an optimizer step, clipping or a loaded
        checkpoint changes them; fused Adam does not bump a tensor's version, so the values
        are compared: far cheaper than the decomposition)."""
        seen = self.exact_for
        if seen is not None and seen.shape == weight.shape and torch.equal(seen, weight):
            return
        exact_vectors(self.matrix(weight.detach()), self.u, self.v)
        self.exact_for = weight.detach().clone()

    def sigma(self, weight: torch.Tensor) -> torch.Tensor:
        return sigma_estimate(self.matrix(weight), self.u, self.v)

    def linf(self, weight: torch.Tensor) -> torch.Tensor:
        return linf_norm(weight, self.transposed, self.stride, self.dilation)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.spectral and self.rowsum:
            scale = torch.maximum(self.sigma(weight), self.linf(weight) / self.target)
            return weight / scale
        if self.spectral:
            return weight / self.sigma(weight)
        if self.rowsum:
            norm = self.linf(weight)
            return weight / (norm if self.target == 1.0 else norm / self.target)
        return weight

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        # Registering keeps the raw weight as "original" (the same Parameter object).
        return weight
