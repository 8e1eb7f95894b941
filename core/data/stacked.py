"""Stacked digits: three handwritten digits as the three colour channels of one image, so the
data has 10 x 10 x 10 = 1,000 modes (stacked MNIST of VEEGAN, Table 2, and PacGAN, Table 2).

``stacked_digits`` stacks scikit-learn's offline digits, ``stacked_mnist`` MNIST's training
digits (where its files are on disk). Each image draws its three digits independently and
uniformly from the base set with a fixed seed, so every mode is (near) equally likely and the
set is the same on every machine.
"""

from __future__ import annotations

import torch

STACKED_IMAGES = 25_600  # images of a stacked training set (~26 per mode)
STACKED_SEED = 20_171_201
STACKED_BASE = {"stacked_digits": "digits", "stacked_mnist": "mnist"}


def stack_triples(gray: torch.Tensor, count: int, seed: int,
                  labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``count`` images uint8 [count, 3, H, W] whose channels are digits of ``gray``
    ([N, 1, H, W]) drawn uniformly with replacement (a fixed generator from ``seed``); with
    ``labels`` ([N] in 0..9) also the mode of each image, 100 * red + 10 * green + blue."""
    if gray.dim() != 4 or gray.shape[1] != 1:
        raise ValueError(f"stacking needs grayscale digits [N, 1, H, W], got {tuple(gray.shape)}")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, gray.shape[0], (count, 3), generator=gen)
    images = gray[idx.flatten(), 0].view(count, 3, *gray.shape[2:]).contiguous()
    modes = None
    if labels is not None:
        digit = labels[idx]
        modes = digit[:, 0] * 100 + digit[:, 1] * 10 + digit[:, 2]
    return images, modes
