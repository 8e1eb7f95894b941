"""Weight histograms per discriminator layer (clipping drives weights to +-c; SN rescales)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import parametrize

from ..constraints import ConstraintSet

HIST_BINS = 51


@torch.no_grad()
def histogram(values: torch.Tensor, bins: int = HIST_BINS) -> dict:
    """Symmetric histogram over [-max|w|, max|w|]: ``{"edges": [bins+1], "counts": [bins]}``."""
    v = values.detach().float().flatten()
    m = float(v.abs().max()) if v.numel() else 0.0
    m = m if m > 0 else 1.0
    counts = torch.histc(v, bins=bins, min=-m, max=m)
    return {"edges": np.linspace(-m, m, bins + 1),
            "counts": counts.cpu().numpy().astype(np.int64)}


@torch.no_grad()
def weight_histograms(constraints: ConstraintSet, bins: int = HIST_BINS) -> dict[str, dict]:
    """``{layer: {"edges", "counts", "raw_edges", "raw_counts", "max_abs"}}``: the effective
    weight (what D computes with) and the raw Parameter (what the optimizer and clipping see;
    the same tensor unless a layer constraint is on)."""
    out = {}
    for name, layer in constraints.layers:
        eff = histogram(layer.weight, bins)
        raw = histogram(constraints.raw_weight(layer), bins) if parametrize.is_parametrized(layer, "weight") else eff
        out[name] = {"edges": eff["edges"], "counts": eff["counts"],
                     "raw_edges": raw["edges"], "raw_counts": raw["counts"],
                     "max_abs": float(eff["edges"][-1])}
    return out
