"""Warm-started power iteration for the largest singular value of a linear operator.

The operator is given as two functions, ``apply(v) = A v`` and ``adjoint(u) = A^T u``, so the
same routine serves weight matrices (``M @ v`` and ``M.T @ u``) and convolutions
(``conv2d`` and ``conv_transpose2d``, see convnorm.py).

The returned estimate is ``||A v||`` for a unit vector ``v``: it never exceeds the true top
singular value and increases monotonically toward it; iteration stops once two successive
estimates agree to ``tol`` (relative). Warm starting from the previous call's vector makes the
next call converge in a few iterations, since weights change little between probes.
The probe's own vectors are used, never a spectral-norm layer's persistent ``u``/``v``.
"""

from __future__ import annotations

from typing import Callable

import torch

EPS = 1e-12


@torch.no_grad()
def power_sigma(apply: Callable[[torch.Tensor], torch.Tensor],
                adjoint: Callable[[torch.Tensor], torch.Tensor], v: torch.Tensor, *,
                max_iters: int = 200, tol: float = 1e-6, check_every: int = 4,
                ) -> tuple[float, torch.Tensor]:
    """Return (sigma estimate, unit right singular vector estimate); ``v`` is the start.

    Convergence is checked (one device sync) every ``check_every`` iterations.
    """
    v = v / v.norm().clamp_min(EPS)
    prev = None
    sigma = 0.0
    for i in range(1, max_iters + 1):
        u = apply(v)
        w = adjoint(u)
        v = w / w.norm().clamp_min(EPS)
        if i % check_every == 0 or i == max_iters:
            sigma = float(apply(v).norm())
            if prev is not None and abs(sigma - prev) <= tol * max(sigma, EPS):
                return sigma, v
            prev = sigma
    return sigma, v


def matrix_sigma(matrix: torch.Tensor, v: torch.Tensor | None = None, *, generator=None,
                 **kwargs) -> tuple[float, torch.Tensor]:
    """Top singular value of a 2-D matrix by warm-started power iteration."""
    matrix = matrix.detach()
    if v is None:
        v = torch.randn(matrix.shape[1], generator=generator, dtype=matrix.dtype).to(matrix.device)
    return power_sigma(lambda x: torch.mv(matrix, x), lambda y: torch.mv(matrix.T, y), v, **kwargs)
