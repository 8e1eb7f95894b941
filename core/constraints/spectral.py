"""The top singular vectors of a weight matrix, for sigma = u^T W v (spectral normalization).

The persistent vectors u (left, size out) and v (right, size in*kernel) are updated under
``no_grad``; the estimate sigma = u^T W v is differentiable in W with u, v held constant,
exactly as in Miyato et al. and in PyTorch's own spectral_norm. Two ways to update them
(``constraints.spectral.method``):

- ``power`` (:func:`power_iterate`): a few warm-started power iterations per D update, the
  paper's. Where sigma_1 and sigma_2 are close (spectral norm flattens a layer's spectrum) it
  converges slowly, u^T W v lags below sigma_1, and W / sigma then has a norm above 1.
- ``exact`` (:func:`exact_vectors`): the top eigenvector of the smaller Gram matrix (W W^T or
  W^T W, in float64) and its image, so u^T W v = sigma_1 to float precision. An eigh of a
  min(out, in*k*k)-square matrix: cheap for the layers here (at most 512 rows).
"""

from __future__ import annotations

import contextlib

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


@torch.no_grad()
def exact_vectors(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> None:
    """Set ``u``, ``v`` in place to the top singular vectors of ``matrix`` (u^T W v = sigma_1).

    Computed in float64 from the smaller Gram matrix: its top eigenvector is one singular
    vector, the other is its image under W, normalized. (A full SVD gives the same vectors at
    several times the cost; a Krylov solve needs many steps exactly where sigma_1 ~ sigma_2.)
    """
    w = matrix.detach().double()
    wide = w.shape[0] <= w.shape[1]
    gram = w @ w.T if wide else w.T @ w  # a GEMM: every thread helps
    with _one_cpu_thread(w.device):
        top = torch.linalg.eigh(gram).eigenvectors[:, -1]
    if wide:
        left = top
    else:
        left = w @ top
        left = left / left.norm().clamp_min(EPS)
    right = w.T @ left  # so that sigma = left^T W right = |W^T left| comes out positive
    u.copy_(left.to(u.dtype))
    v.copy_((right / right.norm().clamp_min(EPS)).to(v.dtype))


@contextlib.contextmanager
def _one_cpu_thread(device: torch.device):
    """LAPACK on matrices this small is fastest on one thread; with two, its OpenMP threads
    spin, and on a busy 2-core machine a 128 x 128 eigh was seen to take 0.1-2 s instead of
    1 ms. Switching the thread count costs under a microsecond."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
