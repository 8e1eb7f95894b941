"""Data sources: 2D Gaussian mixtures and image datasets, behind one sampler interface.

A sampler has ``kind`` ("2d" or "image"), ``shape`` (one sample's shape) and
``sample(n, generator) -> Tensor`` on the training device, values in the model's range
(2D: raw coordinates; images: [-1, 1]).
"""

from __future__ import annotations

import torch

from ..config import DATASETS_2D, DataConfig
from .images import DatasetError, ImageTensorSampler, digits_uint8
from .toy2d import Toy2DSampler, mode_centres, mode_std

__all__ = ["DatasetError", "ImageTensorSampler", "Toy2DSampler", "make_sampler", "mode_centres",
           "mode_std"]


def make_sampler(cfg: DataConfig, device: torch.device):
    if cfg.dataset in DATASETS_2D:
        return Toy2DSampler(cfg.dataset, device)
    if cfg.dataset == "digits":
        return ImageTensorSampler("digits", digits_uint8(28), device)
    raise DatasetError(f"dataset '{cfg.dataset}' is not available yet in this build")
