"""MLP generator and discriminator for 2D data.

Hidden layers are named ``fc1..fcN`` (with ``norm{i}`` / ``act{i}`` after each) and the last
linear layer ``out``, so probe names such as ``sigma["fc2"]`` read like the architecture.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .norm import d_norm_layer


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, width: int, depth: int, out_dim: int = 2):
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        fan_in = z_dim
        for i in range(1, depth + 1):
            layers[f"fc{i}"] = nn.Linear(fan_in, width)
            layers[f"act{i}"] = nn.ReLU()
            fan_in = width
        layers["out"] = nn.Linear(fan_in, out_dim)
        self.net = nn.Sequential(layers)
        self.z_dim = z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """Returns one logit/critic value per sample, shape [N]."""

    def __init__(self, width: int, depth: int, norm: str = "none", in_dim: int = 2):
        super().__init__()
        fan_in = in_dim
        for i in range(1, depth + 1):
            self.add_module(f"fc{i}", nn.Linear(fan_in, width))
            layer_norm = d_norm_layer(norm, width, feature_maps=False)
            if layer_norm is not None:
                self.add_module(f"norm{i}", layer_norm)
            self.add_module(f"act{i}", nn.LeakyReLU(0.2))
            fan_in = width
        self.add_module("out", nn.Linear(fan_in, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.children():
            x = module(x)
        return x.squeeze(-1)
