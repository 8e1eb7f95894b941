"""The scorer's network: a small CNN classifier whose penultimate layer is the feature space
of the distance metrics, and the fixed random embedding used where a dataset has no labels.

Input: images as the GAN sees them (float, [-1, 1], [N, C, H, W], any H = W >= 8). The
architecture is size-free (global average pooling), so one network serves 28x28 and 32x32.
"""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 128  # size of the penultimate layer: the distance metrics' feature space


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class ScorerNet(nn.Module):
    """conv-pool, conv-pool, conv, global average pool, fc (the features, BatchNorm + ReLU),
    fc (class logits). ``width`` is the first block's channel count (then 2w, 4w)."""

    def __init__(self, channels: int, classes: int, width: int = 32, features: int = FEATURES):
        super().__init__()
        self.num_features = features  # read by torchmetrics when this module is a `feature`
        self.body = nn.Sequential(
            _block(channels, width), nn.MaxPool2d(2),
            _block(width, 2 * width), nn.MaxPool2d(2),
            _block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4 * width, features, bias=False), nn.BatchNorm1d(features),
            nn.ReLU(inplace=True))
        self.head = nn.Linear(features, classes) if classes else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations [N, features]."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits [N, classes]."""
        return self.head(self.body(x))


class FeatureExtractor(nn.Module):
    """``net.features`` as a module of its own (what torchmetrics' ``feature`` argument and
    ``score`` call): eval mode, [N, features] float."""

    def __init__(self, net: nn.Module, num_features: int):
        super().__init__()
        self.net = net
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)


class PrecomputedFeatures(nn.Module):
    """The identity on feature rows: lets torchmetrics' FID / KID take features the scorer
    has already computed (one scorer pass per image serves every metric)."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected features [N, {self.num_features}], got {tuple(x.shape)}")
        return x
