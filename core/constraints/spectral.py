"""Power iteration for the top singular value of a weight matrix (the SN-GAN estimate).

The persistent vectors u (left, size out) and v (right, size in*kernel) are updated by
:func:`power_iterate` under ``no_grad``; the estimate sigma = u^T W v is differentiable in W
with u, v held constant, exactly as in Miyato et al. and in PyTorch's own spectral_norm.
"""

from __future__ import annotations

import torch

WARMUP_ITERS = 15  # as torch's parametrizations.spectral_norm does on registration
EPS = 1e-12


@torch.no_grad()
def power_iterate(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor, iters: int) -> None:
    """Run ``iters`` power iterations in place on ``u`` and ``v``.

    Written with ``out=`` and in-place ops: on small layers the cost of SN is the number of
    tensor ops dispatched, not the arithmetic, and this is ~8 per iteration instead of ~12.
    """
    for _ in range(iters):
        torch.mv(matrix.T, u, out=v)
        v.div_(torch.linalg.vector_norm(v).clamp_min_(EPS))
        torch.mv(matrix, v, out=u)
        u.div_(torch.linalg.vector_norm(u).clamp_min_(EPS))


def sigma_estimate(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.linalg.multi_dot([u, matrix, v])
