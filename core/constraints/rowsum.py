"""The l-infinity operator norm (largest absolute row sum) of a layer's linear map.

A "row" of the operator is one output element; its absolute sum is the sum of |w| over the
weights that touch that output (each weight entry reaches a given output through at most one
input pixel, so no two entries share a matrix element under zero padding).

:func:`linf_norm` (what the row-sum constraint divides by; it knows no input size):
- Linear [out, in]: row o sums |W[o, :]| (exact).
- Conv2d [out, in, kh, kw]: max_o sum_{c,i,j} |W[o, c, i, j]|, the row of an output pixel whose
  window lies wholly inside the input. Exact when such a pixel exists (always without padding;
  with padding p and stride s once some window start o*s - p lands in
  [0, H - (k-1)*d - 1]); otherwise (tiny inputs, large padding) an upper bound.
- ConvTranspose2d [in, out, kh, kw] with stride s and dilation d: output pixel Y receives tap i
  only when Y + padding = y*s + i*d for some input y, so one output pixel sees only the taps of
  one residue class (i*d) mod s per spatial axis. The norm is
  max_o max_{a,b} sum_c sum_{(i*d_h) mod s_h = a, (j*d_w) mod s_w = b} |W[c, o, i, j]|.
  The taps of one class reach inputs d / gcd(s, d) apart, so an output pixel receives all n
  taps of its class only if the input spans (n - 1) * d / gcd(s, d) + 1 pixels (n is at most
  ceil(k / (s / gcd(s, d)))); for d = 1 that is ceil(k / s). On smaller inputs (a 1x1 noise
  map; k = 4, s = 2, d = 2 on a 3x3 input) it is an upper bound. For stride 1 it reduces to
  the whole-kernel sum, like Conv2d.

:func:`operator_linf` is the exact value for the layer's real input size (stride, padding,
dilation, output_padding and groups included), which the probes report as ``linf``.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from .matrix import is_transposed


def _residue_onehot(k: int, stride: int, dilation: int, device, dtype) -> torch.Tensor:
    classes = (torch.arange(k, device=device) * dilation) % stride
    return torch.nn.functional.one_hot(classes, stride).to(dtype).T  # [stride, k]


def layer_geometry(module: nn.Module) -> tuple[bool, tuple[int, ...], tuple[int, ...]]:
    """(transposed, stride, dilation): what linf_norm needs to know about a layer."""
    transposed = is_transposed(module)
    stride = tuple(getattr(module, "stride", ()))
    dilation = tuple(getattr(module, "dilation", ()))
    return transposed, stride, dilation


def linf_norm(weight: torch.Tensor, transposed: bool = False, stride: tuple[int, ...] = (),
              dilation: tuple[int, ...] = ()) -> torch.Tensor:
    """Largest absolute row sum of the operator a layer applies with ``weight``.

    ``transposed``, ``stride`` and ``dilation`` describe the layer (see :func:`layer_geometry`);
    they matter only for transposed convolutions. Differentiable (a max of sums), so it can sit
    inside a parametrization.
    """
    if not transposed:
        # Largest absolute row sum of the [out, in*k] matrix: one call (ops count here).
        return torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=float("inf"))
    per_out = weight.abs().sum(0)  # [out, k1, ...]: the input channels all reach every output
    letters = "abcdefgh"[: per_out.dim() - 1]
    classes = "pqrstuvw"[: per_out.dim() - 1]
    mats = [_residue_onehot(per_out.shape[i + 1], stride[i], dilation[i],
                            weight.device, weight.dtype) for i in range(per_out.dim() - 1)]
    spec = ("o" + letters + "," + ",".join(c + l for c, l in zip(classes, letters))
            + "->o" + classes)
    sums = torch.einsum(spec, per_out, *mats)
    return sums.amax()


@functools.lru_cache(maxsize=256)
def _tap_hits(size: int, k: int, s: int, p: int, d: int, transposed: bool,
              output_padding: int = 0) -> torch.Tensor:
    """[distinct patterns, k] 0/1 (float64, CPU): which kernel taps reach an output position
    along one axis for an input of ``size`` pixels (zero padding), one row per distinct set of
    taps (the maximum needs no more). Cached: a layer's geometry is fixed."""
    taps = torch.arange(k).unsqueeze(0) * d
    if not transposed:
        out = (size + 2 * p - d * (k - 1) - 1) // s + 1
        pos = torch.arange(max(out, 0)).unsqueeze(1) * s - p + taps  # input pixel of each tap
        return torch.unique(((pos >= 0) & (pos < size)).double(), dim=0)
    out = (size - 1) * s - 2 * p + d * (k - 1) + 1 + output_padding
    rel = torch.arange(max(out, 0)).unsqueeze(1) + p - taps  # = y * s for the input y it reads
    return torch.unique(((rel % s == 0) & (rel >= 0) & (rel < size * s)).double(), dim=0)


@torch.no_grad()
def operator_linf(layer: nn.Module, weight: torch.Tensor, input_shape: tuple[int, ...]) -> float:
    """Exact l-inf operator norm of a Conv / ConvTranspose layer (bias dropped) with ``weight``
    on one input of ``input_shape`` = (C, *spatial), zero padding: the largest absolute row
    sum of its explicit matrix, computed from which taps reach each output position per axis.
    (Other padding modes can make two taps read the same pixel: then an upper bound.)"""
    transposed = isinstance(layer, nn.modules.conv._ConvTransposeNd)
    w = weight.detach().to("cpu", torch.float64).abs()
    g = layer.groups
    if transposed:  # [in, out/g, k...] -> per output channel: its group's input channels
        per_out = w.reshape((g, w.shape[0] // g) + tuple(w.shape[1:])).sum(1)
        per_out = per_out.reshape((g * w.shape[1],) + tuple(w.shape[2:]))
    else:
        per_out = w.sum(1)  # [out, k...]
    spatial = tuple(input_shape[1:])
    sums = per_out
    for axis in range(per_out.dim() - 1):
        hits = _tap_hits(spatial[axis], layer.kernel_size[axis], layer.stride[axis],
                         layer.padding[axis], layer.dilation[axis], transposed,
                         layer.output_padding[axis] if transposed else 0)
        # contract this axis' taps (always dim 1: earlier axes moved to the end)
        sums = torch.tensordot(sums, hits, dims=([1], [1]))
    return float(sums.amax()) if sums.numel() else 0.0
