"""Warm-started power iteration for the largest singular value of a linear operator.

The operator is given as two functions, ``apply(v) = A v`` and ``adjoint(u) = A^T u``, so the
same routine serves weight matrices (``M @ v`` and ``M.T @ u``) and convolutions
(``conv2d`` and ``conv_transpose2d``, see convnorm.py).

Each check computes, for the current unit vector v, ``lo = ||A v||`` and
``hi = ||A^T A v|| / ||A v||``; always ``lo <= hi <= sigma_max`` (Cauchy-Schwarz and
``||A^T A v|| <= sigma_max ||A v||``), so ``hi`` is returned (a lower estimate of the true top
singular value that rises toward it) and iteration stops once both ``hi - lo`` and the change
of ``hi`` over the last iteration are within ``tol * hi``. Warm starting from the previous
call's vector makes the next call converge in two or a few iterations (one device sync), since
weights change little between probes.
The probe's own vectors are used, never a spectral-norm layer's persistent ``u``/``v``.
"""

from __future__ import annotations

from typing import Callable

import torch

EPS = 1e-12


def _converged(lo: float, hi: float, hi_prev: float, tol: float) -> bool:
    """Stop when v is nearly a singular vector (hi - lo small) and the estimate has stopped
    moving (hi - hi_prev small): either alone can stall near a nearly-degenerate top pair."""
    scale = tol * max(hi, EPS)
    return hi - lo <= scale and abs(hi - hi_prev) <= scale


@torch.no_grad()
def power_sigma(apply: Callable[[torch.Tensor], torch.Tensor],
                adjoint: Callable[[torch.Tensor], torch.Tensor], v: torch.Tensor, *,
                max_iters: int = 200, tol: float = 1e-6, check_every: int = 4,
                ) -> tuple[float, torch.Tensor]:
    """Return (sigma estimate, unit right singular vector estimate); ``v`` is the start.

    Convergence is checked (one device sync) every ``check_every`` iterations.
    """
    sigmas, vs = power_sigmas([(apply, adjoint)], [v], max_iters=max_iters, tol=tol,
                              check_every=check_every)
    return sigmas[0], vs[0]


@torch.no_grad()
def power_sigmas(ops: list[tuple[Callable, Callable]], vs: list[torch.Tensor], *,
                 max_iters: int = 200, tol: float = 1e-6, check_every: int = 4,
                 ) -> tuple[list[float], list[torch.Tensor]]:
    """:func:`power_sigma` for several operators in lockstep: one device sync per check for
    all of them (cheap on many small layers). ``ops`` are (apply, adjoint) pairs."""
    vs = [v / v.norm().clamp_min(EPS) for v in vs]
    n = len(ops)
    sigmas = [0.0] * n
    hi_prev: dict[int, torch.Tensor] = {}
    active = list(range(n))
    for i in range(1, max_iters + 1):
        if not active:
            break
        us = {k: ops[k][0](vs[k]) for k in active}
        ws = {k: ops[k][1](us[k]) for k in active}
        los = torch.stack([us[k].norm() for k in active])
        w_norms = torch.stack([ws[k].norm() for k in active])
        his = w_norms / los.clamp_min(EPS)
        if i > 1 and (i % check_every == 0 or i == max_iters):
            prev = torch.stack([hi_prev[k] for k in active])
            still = []
            for k, lo, hi, p in zip(active, *torch.stack([los, his, prev]).tolist()):
                sigmas[k] = hi
                if i < max_iters and not _converged(lo, hi, p, tol):
                    still.append(k)
            active = still
        for j, k in enumerate(list(us)):
            if k in active:
                hi_prev[k] = his[j]
                vs[k] = ws[k] / w_norms[j].clamp_min(EPS)
    return sigmas, vs


@torch.no_grad()
def pad_stack(matrices: list[torch.Tensor]) -> torch.Tensor:
    """Zero-pad matrices to one [L, R, C] stack (padding adds only zero singular values and
    zero row sums)."""
    rows = max(m.shape[0] for m in matrices)
    cols = max(m.shape[1] for m in matrices)
    return torch.stack([torch.nn.functional.pad(m.detach(), (0, cols - m.shape[1],
                                                             0, rows - m.shape[0]))
                        for m in matrices])


@torch.no_grad()
def batched_matrix_sigmas(stack: torch.Tensor, widths: list[int], v: torch.Tensor | None, *,
                          generator: torch.Generator | None = None, max_iters: int = 200,
                          tol: float = 1e-6, check_every: int = 4, warm: bool = False
                          ) -> tuple[list[float], torch.Tensor]:
    """Top singular values of several small matrices at once, iterated with ``bmm`` on their
    :func:`pad_stack` (a handful of kernel launches per iteration for all layers together).
    ``widths`` are the matrices' column counts; ``v`` the previous call's right vectors
    [L, C, 1] (or None: a random start from ``generator``). With ``warm`` (v is the previous
    call's), a single step is accepted when ``hi - lo <= tol * hi`` for every matrix (one sync).
    Returns (sigmas, v)."""
    if not widths:
        return [], stack.new_zeros(0, 0, 1)
    if v is None or v.shape != (stack.shape[0], stack.shape[2], 1):
        v = torch.randn(stack.shape[0], stack.shape[2], 1, generator=generator,
                        dtype=stack.dtype).to(stack.device)
        mask = torch.arange(stack.shape[2]).unsqueeze(0) < torch.tensor(widths).unsqueeze(1)
        v = v * mask.unsqueeze(2).to(v.device, v.dtype)
        v = v / v.norm(dim=1, keepdim=True).clamp_min(EPS)
    stack_t = stack.transpose(1, 2)
    sigmas = [0.0] * len(widths)
    hi_prev = None
    for i in range(1, max_iters + 1):
        u = torch.bmm(stack, v)
        w = torch.bmm(stack_t, u)
        lo = u.norm(dim=1).flatten()
        w_norm = w.norm(dim=1, keepdim=True)
        hi = w_norm.flatten() / lo.clamp_min(EPS)
        if warm and i == 1:
            # Warm start: v tracked the top singular vector over the previous calls; accept
            # it after one step when it is (nearly) a singular vector: hi - lo <= tol * hi.
            lo_l, sigmas = torch.stack([lo, hi]).tolist()
            if all(b - a <= tol * max(b, EPS) for a, b in zip(lo_l, sigmas)):
                break
        elif hi_prev is not None and (i % check_every == 0 or i == max_iters):
            lo_l, sigmas, prev_l = torch.stack([lo, hi, hi_prev]).tolist()
            if i == max_iters or all(_converged(a, b, c, tol)
                                     for a, b, c in zip(lo_l, sigmas, prev_l)):
                break
        hi_prev = hi
        v = w / w_norm.clamp_min(EPS)
    return sigmas, v


def matrix_ops(matrix: torch.Tensor) -> tuple[Callable, Callable]:
    matrix = matrix.detach()
    return (lambda x: torch.mv(matrix, x)), (lambda y: torch.mv(matrix.T, y))


def matrix_sigma(matrix: torch.Tensor, v: torch.Tensor | None = None, *, generator=None,
                 **kwargs) -> tuple[float, torch.Tensor]:
    """Top singular value of a 2-D matrix by warm-started power iteration."""
    matrix = matrix.detach()
    if v is None:
        v = torch.randn(matrix.shape[1], generator=generator, dtype=matrix.dtype).to(matrix.device)
    return power_sigma(*matrix_ops(matrix), v, **kwargs)
