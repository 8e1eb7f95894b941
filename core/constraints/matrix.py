"""How a layer's weight tensor is read as the matrix that spectral normalization controls.

PyTorch stores Linear as [out, in], Conv2d as [out, in, kh, kw] and ConvTranspose2d as
[in, out, kh, kw]. The "output" dimension is 0 for the first two and 1 for ConvTranspose
(the same choice as ``torch.nn.utils.parametrizations.spectral_norm``); the matrix is
[out, everything else].
"""

from __future__ import annotations

import torch
from torch import nn

CONSTRAINED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
                      nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def is_transposed(module: nn.Module) -> bool:
    return isinstance(module, nn.modules.conv._ConvTransposeNd)


def weight_matrix(weight: torch.Tensor, transposed: bool) -> torch.Tensor:
    """The weight as a matrix [out, in * kernel]."""
    if transposed:
        weight = weight.transpose(0, 1)
    return weight.reshape(weight.shape[0], -1)


def constrained_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(qualified name, module) of every layer whose weight the layer constraints act on."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, CONSTRAINED_LAYERS)]
