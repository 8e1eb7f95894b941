"""Model builders: the architecture comes from the config and the data's sample shape."""

from __future__ import annotations

from torch import nn

from ..config import ModelConfig
from .cnn32 import SNGANDiscriminator, SNGANGenerator
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator

__all__ = ["build_models", "DCGANGenerator", "DCGANDiscriminator", "MLPGenerator",
           "MLPDiscriminator", "SNGANGenerator", "SNGANDiscriminator"]


def build_models(cfg: ModelConfig, sample_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """Return (G, D) for the given config and data sample shape ((2,) or (C, H, W))."""
    if cfg.arch == "mlp":
        if tuple(sample_shape) != (2,):
            raise ValueError(f"model.arch 'mlp' needs 2D points, the data has shape {sample_shape}")
        return (MLPGenerator(cfg.z_dim, cfg.g_width, cfg.depth),
                MLPDiscriminator(cfg.d_width, cfg.depth, cfg.d_norm))
    if len(sample_shape) != 3:
        raise ValueError(f"model.arch '{cfg.arch}' needs images [C, H, W], the data has shape "
                         f"{tuple(sample_shape)}")
    channels, height, width = sample_shape
    if cfg.arch == "dcgan":
        if (height, width) != (28, 28):
            raise ValueError(f"model.arch 'dcgan' is the notebook's 28x28 model; the data is "
                             f"{height}x{width} (use model.arch 'sngan_cnn' for 32x32)")
        return (DCGANGenerator(cfg.z_dim, cfg.g_width, channels),
                DCGANDiscriminator(cfg.d_width, channels, cfg.d_norm))
    if cfg.arch == "sngan_cnn":
        if height != width:
            raise ValueError(f"model.arch 'sngan_cnn' needs square images; the data is "
                             f"{height}x{width}")
        return (SNGANGenerator(cfg.z_dim, cfg.g_width, channels, height),
                SNGANDiscriminator(cfg.d_width, channels, height, cfg.d_norm))
    raise ValueError(f"unknown model.arch '{cfg.arch}'")
