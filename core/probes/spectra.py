"""Per-layer spectra of the discriminator: singular values of the effective weight matrix.

"Effective" is the weight the forward pass uses (after spectral/row-sum normalization, i.e.
``layer.weight``); "raw" is the Parameter the optimizer updates
(``layer.parametrizations.weight.original`` when a layer constraint is on, else the same
tensor). Both are read as the matrix [out, in * kernel] that spectral normalization controls
(``core.constraints.weight_matrix``; ConvTranspose uses its output dim, dim 1).
``linf`` is the l-infinity operator norm (largest absolute row sum) of the effective operator,
as computed by the row-sum constraint (``core.constraints.linf_norm``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from ..constraints import ConstraintSet, layer_geometry, linf_norm, weight_matrix
from ..constraints.matrix import is_transposed


def effective_matrix(layer: nn.Module) -> torch.Tensor:
    return weight_matrix(layer.weight.detach(), is_transposed(layer))


def raw_matrix(constraints: ConstraintSet, layer: nn.Module) -> torch.Tensor:
    return weight_matrix(constraints.raw_weight(layer).detach(), is_transposed(layer))


@torch.no_grad()
def layer_linf_tensor(layer: nn.Module) -> torch.Tensor:
    """The l-inf operator norm of the effective layer, as a 0-d tensor (no device sync)."""
    transposed, stride, dilation = layer_geometry(layer)
    return linf_norm(layer.weight.detach(), transposed, stride, dilation)


def layer_linf(layer: nn.Module) -> float:
    return float(layer_linf_tensor(layer))


@torch.no_grad()
def svdvals(matrix: torch.Tensor) -> np.ndarray:
    """All singular values (descending, float64 numpy), computed in float64 on the CPU."""
    return torch.linalg.svdvals(matrix.detach().to("cpu", torch.float64)).numpy()


@torch.no_grad()
def layer_spectra(constraints: ConstraintSet) -> dict[str, dict]:
    """Exact spectra of every constrained D layer.

    Returns ``{name: {"svdvals": ndarray, "sigma": float, "sigma_raw": float, "linf": float}}``;
    ``svdvals`` are of the effective weight matrix, ``sigma`` is its first entry and
    ``sigma_raw`` the top singular value of the raw weight matrix.
    """
    out = {}
    for name, layer in constraints.layers:
        sv = svdvals(effective_matrix(layer))
        raw = svdvals(raw_matrix(constraints, layer))[0] if parametrize.is_parametrized(layer, "weight") else sv[0]
        out[name] = {"svdvals": sv, "sigma": float(sv[0]), "sigma_raw": float(raw),
                     "linf": layer_linf(layer)}
    return out
