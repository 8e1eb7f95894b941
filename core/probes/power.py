"""Largest singular value of a linear operator by block Krylov iteration (block Lanczos with
full reorthogonalization and Rayleigh-Ritz), warm-startable and with a random restart block.

Why not plain power iteration: when the top singular values nearly coincide (spectral norm
makes them do so; a trained conv layer often has several within 1-2 %), power iteration
converges at the rate (sigma_2 / sigma_1)^2 per step, and its stopping test ("v is nearly a
singular vector") also accepts a *lower* singular vector. A warm start from the previous call's
vector then stays on a singular value that has been overtaken (observed: 12 % low, below
sigma_3). Block Krylov fixes both: Rayleigh-Ritz over the Krylov space of a block of start
vectors finds every direction the block reaches, converging like Chebyshev polynomials in the
*relative gap*, and the block always carries fresh random vectors besides the warm ones, so a
singular value that overtook the tracked one is found (the Krylov space of a random vector has a
component along every singular vector).

The operator is given by ``gram(X) = A^T A X`` on a batch of column blocks ``X`` [L, n, b]
(L independent operators iterated in lockstep, e.g. several weight matrices zero-padded to one
stack, or L = 1 for a convolution). The top Ritz value theta of A^T A over an orthonormal basis
satisfies theta <= sigma_1^2 (interlacing), so ``sqrt(theta)`` is a lower estimate that rises
toward sigma_1, monotonically step by step. Iteration stops when, for every operator, theta
moved by at most ``tol`` * theta. (A residual test, ||A^T A y - theta y|| small, would be the textbook choice, but when the
top singular values nearly coincide the top Ritz *vector* mixes their vectors and its residual
falls slowly while its *value* is already accurate: it cost 3-5x more steps for nothing.)

The probe's own vectors are used, never a spectral-norm layer's persistent ``u``/``v``.
"""

from __future__ import annotations

import functools
from typing import Callable

import torch

EPS = 1e-12
WARM = 3        # warm columns carried from one call to the next (plus one fresh random column)
BASIS = 64      # Krylov basis columns kept before a thick restart from the top Ritz vectors

Gram = Callable[[torch.Tensor], torch.Tensor]


def _orthonormalize(w: torch.Tensor, basis: torch.Tensor | None) -> torch.Tensor:
    """Orthonormal columns [L, n, b'] spanning the part of ``w`` [L, n, b] outside ``basis``
    [L, n, m] (orthonormal), b' = min(b, n - m): the trailing columns of a Householder QR of
    [basis, w], which are orthonormal and orthogonal to the basis even where ``w`` has nothing
    new (then they are some other directions, which cannot hurt a Rayleigh-Ritz step)."""
    if basis is None:
        return torch.linalg.qr(w)[0]
    m = basis.shape[2]
    return torch.linalg.qr(torch.cat([basis, w], 2))[0][:, :, m:]


@torch.no_grad()
def krylov_sigmas(gram: Gram, start: torch.Tensor, *, tol: float = 1e-6, min_steps: int = 1,
                  max_steps: int = 200) -> tuple[list[float], torch.Tensor]:
    """(top singular value of each of the L operators, their top Ritz vectors [L, n, b]).

    ``start`` [L, n, b] is the start block (warm vectors and/or random ones; it needs b <= n).
    At least ``min_steps`` and at most ``max_steps`` applications of ``gram`` to a block (one
    device sync per step from ``min_steps`` on). ``tol = 0`` runs ``max_steps``. The returned
    block (top-b Ritz vectors, best first) is a warm start for the next call.
    """
    if max_steps < 1:
        raise ValueError("max_steps must be >= 1")
    b = start.shape[2]
    q = _orthonormalize(start, None)
    qs: list[torch.Tensor] = []
    gqs: list[torch.Tensor] = []
    theta_prev = None
    for step in range(1, max_steps + 1):
        qs.append(q)
        gqs.append(gram(q))
        basis, g_basis = torch.cat(qs, 2), torch.cat(gqs, 2)
        t = torch.bmm(basis.transpose(1, 2), g_basis).double()
        values, vectors = torch.linalg.eigh((t + t.transpose(1, 2)) / 2)
        top = vectors[:, :, -b:].flip(2).to(basis.dtype)  # [L, m, b], best first
        theta = values[:, -1].clamp_min(0.0)
        ritz = torch.bmm(basis, top)
        if step >= min_steps and theta_prev is not None:
            if bool(((theta - theta_prev).abs() <= tol * theta).all()):
                break
        theta_prev = theta
        if step == max_steps:
            break
        if basis.shape[2] + b > BASIS:  # thick restart: keep the best directions found
            qs, gqs = [], []
            q = _orthonormalize(ritz, None)
            theta_prev = None
        elif basis.shape[2] >= basis.shape[1]:
            break  # the basis spans the whole space: the Ritz values are exact
        else:
            q = _orthonormalize(gqs[-1], basis)
    return theta.sqrt().tolist(), ritz


def random_block(shape: tuple[int, ...], generator: torch.Generator | None,
                 dtype: torch.dtype, device) -> torch.Tensor:
    """Gaussian start columns drawn from ``generator`` (a CPU generator of the probes')."""
    return torch.randn(shape, generator=generator, dtype=dtype).to(device)


def matrix_gram(stack: torch.Tensor) -> Gram:
    """gram for a stack of matrices [L, R, C]: X [L, C, b] -> M^T M X."""
    stack = stack.detach()
    stack_t = stack.transpose(1, 2)
    return lambda x: torch.bmm(stack_t, torch.bmm(stack, x))


@torch.no_grad()
def pad_stack(matrices: list[torch.Tensor]) -> torch.Tensor:
    """Zero-pad matrices to one [L, R, C] stack (padding adds only zero singular values and
    zero row sums)."""
    rows = max(m.shape[0] for m in matrices)
    cols = max(m.shape[1] for m in matrices)
    return torch.stack([torch.nn.functional.pad(m.detach(), (0, cols - m.shape[1],
                                                             0, rows - m.shape[0]))
                        for m in matrices])


@functools.lru_cache(maxsize=64)
def _column_mask(widths: tuple[int, ...], cols: int, device, dtype) -> torch.Tensor:
    mask = torch.arange(cols).unsqueeze(0) < torch.tensor(widths).unsqueeze(1)
    return mask.unsqueeze(2).to(device, dtype)


def column_mask(widths: list[int], cols: int, device, dtype) -> torch.Tensor:
    """[L, cols, 1]: 1 on each padded matrix's own columns (start vectors live there);
    cached (a run's layer shapes are fixed)."""
    return _column_mask(tuple(widths), cols, torch.device(device), dtype)


@torch.no_grad()
def matrix_sigma(matrix: torch.Tensor, v: torch.Tensor | None = None, *, generator=None,
                 max_iters: int = 200, tol: float = 1e-6, min_steps: int = 1
                 ) -> tuple[float, torch.Tensor]:
    """Top singular value of a 2-D matrix by block Krylov iteration; ``v`` is a warm start
    (a vector [n] or a block [n, b], e.g. the previous call's result), to which one random
    column is added. Returns (sigma, Ritz block [n, b])."""
    matrix = matrix.detach()
    n = matrix.shape[1]
    fresh = random_block((n, 1), generator, matrix.dtype, matrix.device)
    start = fresh if v is None else torch.cat([v.reshape(n, -1)[:, : min(WARM, n - 1)], fresh], 1)
    sigmas, ritz = krylov_sigmas(matrix_gram(matrix.unsqueeze(0)), start.unsqueeze(0),
                                 tol=tol, min_steps=min_steps, max_steps=max_iters)
    return sigmas[0], ritz[0]
