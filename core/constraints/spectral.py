"""Power iteration for the top singular value of a weight matrix (the SN-GAN estimate).

The persistent vectors u (left, size out) and v (right, size in*kernel) are updated by
:func:`power_iterate` under ``no_grad``; the estimate sigma = u^T W v is differentiable in W
with u, v held constant, exactly as in Miyato et al. and in PyTorch's own spectral_norm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WARMUP_ITERS = 15  # as torch's parametrizations.spectral_norm does on registration
EPS = 1e-12


@torch.no_grad()
def power_iterate(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor, iters: int) -> None:
    """Run ``iters`` power iterations in place on ``u`` and ``v``."""
    for _ in range(iters):
        v.copy_(F.normalize(torch.mv(matrix.T, u), dim=0, eps=EPS))
        u.copy_(F.normalize(torch.mv(matrix, v), dim=0, eps=EPS))


def sigma_estimate(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.dot(u, torch.mv(matrix, v))
