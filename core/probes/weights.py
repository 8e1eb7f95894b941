"""Where the weights sit relative to the clipping bound (WGAN-GP paper, Fig. 1b: clipping
piles the critic's weights at +-c, a gradient penalty does not)."""

from __future__ import annotations

import torch

from ..constraints import ConstraintSet

EDGE_TOLERANCE = 0.01  # "at the bound": within 1 % of c


@torch.no_grad()
def edge_share(weight: torch.Tensor, bound: float, tol: float = EDGE_TOLERANCE) -> float:
    """Share of the entries of ``weight`` with |w| >= (1 - tol) * bound."""
    w = weight.detach()
    if w.numel() == 0:
        return 0.0
    return float((w.abs() >= (1.0 - tol) * bound).sum()) / w.numel()


@torch.no_grad()
def clip_shares(constraints: ConstraintSet) -> dict[str, float] | None:
    """{layer: share of the raw weight's entries within 1 % of +-c} while clipping is on
    (the raw Parameter is what clipping clamps); None while it is off."""
    clip = constraints.cfg.clip
    if not clip.enabled:
        return None
    return {name: edge_share(constraints.raw_weight(layer), clip.c)
            for name, layer in constraints.layers}
