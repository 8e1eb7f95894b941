"""Image sample grids (``torchvision.utils.make_grid`` / ``save_image``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.utils import make_grid, save_image

GRID_NROW = 8


@torch.no_grad()
def sample_grid(images: torch.Tensor, nrow: int = GRID_NROW) -> torch.Tensor:
    """Images in [-1, 1], [N, C, H, W] -> a float grid [3 or 1, H', W'] in [0, 1] on the CPU."""
    images = images.detach().float().cpu().contiguous()
    return make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=(-1, 1),
                     pad_value=1.0)


def grid_to_uint8(grid: torch.Tensor) -> np.ndarray:
    """[C, H, W] in [0, 1] -> uint8 [H, W, C] (C = 1 or 3), as an image viewer wants it."""
    return (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy().copy()


def save_grid(grid: torch.Tensor, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    save_image(grid, tmp)
    tmp.replace(path)
    return path
