"""Whole-discriminator Lipschitz estimates: an upper bound and an empirical lower bound.

Both describe the same function: D in **eval mode** (BatchNorm uses its running statistics,
spectral-norm vectors are frozen), which is a fixed function of x. In train mode BatchNorm
normalizes with the statistics of the batch, so D(x) depends on the other samples and has no
per-sample Lipschitz constant; the eval-mode numbers are what can be stated truthfully.

``lip_bound`` (:func:`lipschitz_bound`) is the product of per-module l2 operator-norm bounds,
taken over D's leaf modules in registration order, which is the order of the forward pass
for the app's discriminators (plain chains: MLP and DCGAN):
- Linear: top singular value of the effective weight; Conv: the true operator norm for the
  layer's stride, padding and input size (convnorm.py).
- BatchNorm (eval): max_c |gamma_c| / sqrt(running_var_c + eps) (a per-channel scale).
- LayerNorm / GroupNorm: x -> (x - mean) / sqrt(var + eps) has Jacobian norm at most
  1 / sqrt(var + eps) <= 1 / sqrt(eps), reached for nearly constant inputs, so the valid global
  factor is max|gamma| / sqrt(eps) (about 316 max|gamma| for eps = 1e-5). It is true but large;
  ``lip_bound_note`` says so.
- (Leaky)ReLU: max(1, |slope|); Identity, Flatten, Dropout (eval), Tanh: 1; Sigmoid: 1/4.
- Anything else: no bound (inf) and a note naming the module.
Biases do not change a Lipschitz constant.

``lip_grad`` (:func:`input_grad_norms`) is max ||grad_x D(x)|| over probe points; every such
norm is a lower bound on D's Lipschitz constant, so lip_grad <= lip_bound must hold.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from .convnorm import is_conv

LINEAR_LAYERS = (nn.Linear, nn.Bilinear)
_ONE = (nn.Identity, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
        nn.Dropout3d, nn.Tanh, nn.Hardtanh, nn.Softsign)


def leaf_modules(D: nn.Module) -> list[tuple[str, nn.Module]]:
    """D's leaf modules in registration order; parametrization containers are skipped
    (a parametrized layer is one leaf whose weight is the effective weight)."""
    out = []
    for name, m in D.named_modules():
        if ".parametrizations" in f".{name}":
            continue
        children = [c for n, c in m.named_children() if n != "parametrizations"]
        if not children and name:
            out.append((name, m))
    return out


def module_factor(name: str, m: nn.Module, layer_norms: dict[str, float]
                  ) -> tuple[float, str | None]:
    """(l2 Lipschitz factor, note or None) of one leaf module in eval mode."""
    if isinstance(m, (nn.Linear,)) or is_conv(m):
        return float(layer_norms[name]), None
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        if not m.track_running_stats or m.running_var is None:
            return math.inf, f"{name}: BatchNorm without running stats normalizes by the batch"
        scale = 1.0 / torch.sqrt(m.running_var.detach().double() + m.eps)
        if m.affine:
            scale = scale * m.weight.detach().double().abs()
        return float(scale.max()), None
    if isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
        affine = m.elementwise_affine if isinstance(m, nn.LayerNorm) else m.affine
        gamma = 1.0
        if affine and m.weight is not None:
            gamma = float(m.weight.detach().abs().max())
        return gamma / math.sqrt(m.eps), (
            f"{name}: {type(m).__name__} bounded by max|gamma|/sqrt(eps), its worst case near "
            f"constant inputs")
    if isinstance(m, nn.LeakyReLU):
        return max(1.0, abs(m.negative_slope)), None
    if isinstance(m, (nn.ReLU, nn.ReLU6)):
        return 1.0, None
    if isinstance(m, nn.ELU):
        return max(1.0, abs(m.alpha)), None
    if isinstance(m, _ONE):
        return 1.0, None
    if isinstance(m, nn.Sigmoid):
        return 0.25, None
    return math.inf, f"{name}: no Lipschitz bound known for {type(m).__name__}"


def lipschitz_bound(D: nn.Module, layer_norms: dict[str, float],
                    leaves: list[tuple[str, nn.Module]] | None = None
                    ) -> tuple[float, dict[str, float], str | None]:
    """(product bound, per-module factors, note or None). ``layer_norms`` maps each
    Linear/Conv module name to its operator norm; ``leaves`` is :func:`leaf_modules` (D)
    when the caller has it already."""
    bound, factors, notes = 1.0, {}, []
    for name, m in (leaves if leaves is not None else leaf_modules(D)):
        f, note = module_factor(name, m, layer_norms)
        factors[name] = f
        bound *= f
        if note:
            notes.append(note)
    return bound, factors, ("; ".join(notes) or None)


@contextlib.contextmanager
def eval_modes(modules: list[nn.Module]):
    """Eval mode for the given modules (e.g. a model's ``modules()``), restored on exit."""
    modes = [m.training for m in modules]
    for m in modules:
        object.__setattr__(m, "training", False)  # = m.eval(), minus nn.Module's overhead
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            object.__setattr__(m, "training", mode)


@contextlib.contextmanager
def frozen(params: list[nn.Parameter]):
    """No gradients for the given parameters, restored on exit."""
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """Put every submodule in eval mode and stop weight gradients; restore both on exit."""
    with eval_modes(list(model.modules())), frozen(list(model.parameters())):
        yield model


def input_grad_norms(D: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(per-sample ||grad_x D(x)||, the gradients) for D as it is (call inside
    :func:`evaluating` for eval mode: then samples do not interact and the gradient of the sum
    is each sample's own gradient)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        out = D(x)
        (grad,) = torch.autograd.grad(out.sum(), x)
    return grad.flatten(1).norm(dim=1), grad
