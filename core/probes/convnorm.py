"""True operator norm of a convolution layer for its stride, padding and input size.

Spectral normalization controls sigma of the kernel reshaped to [out, in * kh * kw]; the
convolution's real l2 operator norm (what matters for D's Lipschitz constant) is different:
for a stride-1 "same"-size convolution it can be up to sqrt(kh * kw) times larger, and with
stride s each input pixel is seen by at most ceil(k/s) windows per axis, so

    ||conv|| <= sqrt(prod_i ceil(k_i / s_i)) * sigma(reshaped kernel)

(the im2col bound, :func:`im2col_bound`), while a very small input can make it smaller than
sigma(reshaped).
The value is found by block Krylov iteration (power.py) on A^T A, where A is the linear map
x -> conv(x, W) (bias dropped) and A^T its adjoint, the transposed convolution with the same
stride, padding, dilation and groups and an ``output_padding`` that restores the input size
(and the other way round for ConvTranspose layers). The top Ritz vectors are kept between
calls (warm start) and fresh random columns join them on every call.
:func:`operator_matrix` builds the explicit matrix for small sizes (used by the tests).
Only zero padding has this adjoint; other padding modes fall back to autograd.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..constraints.matrix import is_transposed
from .power import WARM, krylov_sigmas, random_block

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

CONV_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d,
               nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def is_conv(layer: nn.Module) -> bool:
    return isinstance(layer, CONV_LAYERS)


def _conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _convt_out(size: int, k: int, s: int, p: int, d: int, op: int) -> int:
    return (size - 1) * s - 2 * p + d * (k - 1) + 1 + op


def conv_maps(layer: nn.Module, weight: torch.Tensor, input_shape: tuple[int, ...]
              ) -> tuple[Callable, Callable, tuple[int, ...]]:
    """(apply, adjoint, output shape) of the layer's linear part for one input of
    ``input_shape`` = (C, *spatial); the maps work on batched tensors [N, C, *spatial]."""
    nd = len(input_shape) - 1
    k, s, p, d = layer.kernel_size, layer.stride, layer.padding, layer.dilation
    g = layer.groups
    if isinstance(p, str):
        raise ValueError("string padding is not supported")
    transposed = is_transposed(layer)
    spatial = input_shape[1:]
    if not transposed:
        out_sp = tuple(_conv_out(spatial[i], k[i], s[i], p[i], d[i]) for i in range(nd))
        op = tuple(spatial[i] - _convt_out(out_sp[i], k[i], s[i], p[i], d[i], 0)
                   for i in range(nd))
        out_shape = (weight.shape[0],) + out_sp

        def apply(x):
            return _CONV[nd](x, weight, None, s, p, d, g)

        def adjoint(y):
            return _CONVT[nd](y, weight, None, s, p, op, g, d)
    else:
        lop = layer.output_padding
        out_sp = tuple(_convt_out(spatial[i], k[i], s[i], p[i], d[i], lop[i]) for i in range(nd))
        out_shape = (weight.shape[1] * g,) + out_sp

        def apply(x):
            return _CONVT[nd](x, weight, None, s, p, lop, g, d)

        def adjoint(y):
            return _CONV[nd](y, weight, None, s, p, d, g)
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        adjoint = _autograd_adjoint(lambda x: layer._conv_forward(x, weight, None), input_shape)
        apply = lambda x: layer._conv_forward(x, weight, None)  # noqa: E731
    return apply, adjoint, out_shape


def _autograd_adjoint(fn, input_shape):
    def adjoint(y):
        with torch.enable_grad():
            x = torch.zeros((y.shape[0],) + tuple(input_shape), device=y.device, dtype=y.dtype,
                            requires_grad=True)
            (g,) = torch.autograd.grad(fn(x), x, y)
        return g
    return adjoint


def conv_gram(layer: nn.Module, weight: torch.Tensor, input_shape: tuple[int, ...]):
    """``gram(X) = A^T A X`` of the layer's linear map A on column blocks X [1, n, b]
    (n = prod(input_shape)): the b columns go through the conv as one batch."""
    apply, adjoint, _ = conv_maps(layer, weight.detach(), tuple(input_shape))
    n = math.prod(input_shape)

    def gram(x):
        b = x.shape[2]
        images = x[0].T.reshape((b,) + tuple(input_shape))
        return adjoint(apply(images)).reshape(b, n).T.unsqueeze(0)
    return gram


def conv_start(input_shape, weight: torch.Tensor, generator: torch.Generator | None,
               warm: torch.Tensor | None = None, fresh: int = 1) -> torch.Tensor:
    """A start block [1, n, b]: the ``warm`` block's first columns (:data:`power.WARM`) and
    ``fresh`` random columns from ``generator`` (a CPU generator that is not the training
    stream)."""
    n = math.prod(input_shape)
    block = random_block((1, n, fresh), generator, weight.dtype, weight.device)
    if warm is not None and warm.shape[1] == n:
        block = torch.cat([warm[:, :, : min(WARM, n - fresh)], block], 2)
    return block[:, :, :n]


@torch.no_grad()
def conv_operator_norm(layer: nn.Module, weight: torch.Tensor, input_shape: tuple[int, ...],
                       v: torch.Tensor | None = None, *, generator: torch.Generator | None = None,
                       max_iters: int = 300, tol: float = 1e-6, min_steps: int = 1,
                       fresh: int = 1) -> tuple[float, torch.Tensor]:
    """(operator norm, warm-start block [1, n, b]) of the layer's convolution for input
    (C, *spatial), by block Krylov iteration (power.py) on A^T A.

    ``v`` is the previous call's block (or None); ``fresh`` random columns from
    ``generator`` are always added to it, so a singular value that overtook the tracked one is
    found.
    """
    start = conv_start(input_shape, weight, generator, v, fresh)
    sigmas, ritz = krylov_sigmas(conv_gram(layer, weight, input_shape), start, tol=tol,
                                 min_steps=min_steps, max_steps=max_iters)
    return sigmas[0], ritz


@torch.no_grad()
def operator_matrix(layer: nn.Module, weight: torch.Tensor,
                    input_shape: tuple[int, ...]) -> torch.Tensor:
    """The explicit matrix [prod(out shape), prod(input_shape)] of the layer's linear part
    (small sizes only: it applies the layer to every basis vector)."""
    apply, _, _ = conv_maps(layer, weight.detach().double(), tuple(input_shape))
    n = math.prod(input_shape)
    eye = torch.eye(n, dtype=torch.float64, device=weight.device).reshape((n,) + tuple(input_shape))
    return apply(eye).reshape(n, -1).T


def im2col_bound(layer: nn.Module, weight: torch.Tensor) -> float:
    """A guaranteed upper bound on the conv's operator norm that needs no input size:
    sqrt(prod_i ceil(k_i / s_i')) * sigma(kernel matrix), s_i' = s_i / gcd(s_i, d_i), since an
    input pixel lies in at most that many windows per axis (im2col has that norm). The kernel
    matrix is [conv out, conv in * kernel]; for ConvTranspose (the adjoint of a conv with
    the same weight) that is [in, out * kernel]."""
    weight = weight.detach().to("cpu", torch.float64)
    k, s, d = layer.kernel_size, layer.stride, layer.dilation
    overlap = math.prod(math.ceil(k[i] / (s[i] // math.gcd(s[i], d[i]))) for i in range(len(k)))
    sigma = float(torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2))
    return math.sqrt(overlap) * sigma
