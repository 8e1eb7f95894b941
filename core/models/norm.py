"""The normalization a discriminator puts after a layer (``model.d_norm``)."""

from __future__ import annotations

from torch import nn


def d_norm_layer(kind: str, size: int, *, feature_maps: bool) -> nn.Module | None:
    """``kind`` "batch" | "layer" | "none" for ``size`` features, or channels of feature maps
    (LayerNorm on feature maps is ``GroupNorm(1, C)``: over (C, H, W) per sample)."""
    if kind == "batch":
        return nn.BatchNorm2d(size) if feature_maps else nn.BatchNorm1d(size)
    if kind == "layer":
        return nn.GroupNorm(1, size) if feature_maps else nn.LayerNorm(size)
    return None
