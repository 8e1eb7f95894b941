"""The l-infinity operator norm (largest absolute row sum) of a layer's linear map.

A "row" of the operator is one output element; its absolute sum is the sum of |w| over the
weights that touch that output.

- Linear [out, in]: row o sums |W[o, :]|.
- Conv2d [out, in, kh, kw]: an output pixel away from the zero-padded border sees the whole
  kernel, so the norm is max_o sum_{c,i,j} |W[o, c, i, j]|, exactly (pixels at a padded border
  see fewer taps and have smaller sums). With groups the weight is already [out, in/groups, ..].
- ConvTranspose2d [in, out, kh, kw] with stride s and dilation d: output pixel Y receives tap i
  only when Y + padding = y*s + i*d for some input y, so one output pixel sees only the taps of
  one residue class (i*d) mod s per spatial axis. The norm is
  max_o max_{a,b} sum_c sum_{(i*d_h) mod s_h = a, (j*d_w) mod s_w = b} |W[c, o, i, j]|.
  This is exact once the input is at least ceil(k/s) pixels wide, so that some output pixel
  receives all taps of its class; on smaller inputs (e.g. a 1x1 noise map) it is an upper
  bound. For stride 1 it reduces to the whole-kernel sum, like Conv2d.
"""

from __future__ import annotations

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
