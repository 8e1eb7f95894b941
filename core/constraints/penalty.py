"""Gradient penalties on the discriminator's input gradient.

- ``two_sided`` (WGAN-GP, Gulrajani et al.): lambda * (||grad_x D(x_hat)|| - 1)^2 on
  x_hat = eps * real + (1 - eps) * fake, one eps ~ U[0, 1] per sample.
- ``one_sided`` (WGAN-LP, Petzka et al.): lambda * max(0, ||grad_x D(x_hat)|| - 1)^2, same x_hat.
- ``r1`` (Mescheder et al.): (lambda / 2) * ||grad_x D(x_real)||^2, zero-centred on real data.
- ``dragan`` (Kodali et al. 2017, "On Convergence and Stability of GANs"):
  lambda * (||grad_x D(x_hat)|| - 1)^2 on points around the real data,
  x_hat = x + alpha * c * std(x) * u, u ~ U[0, 1)^d per coordinate, alpha ~ U[0, 1) per sample,
  std(x) the standard deviation of the whole real batch (all its numbers). This is the
  authors' reference code (github.com/kodalinaveen3/DRAGAN: ``X_p = X + 0.5 * X.std() *
  np.random.random(X.shape)``, then ``X + alpha * (X_p - X)``), which torchgan and compare_gan
  follow; the paper's text writes the perturbation as Gaussian, delta ~ N(0, cI). The noise
  is one-sided (u >= 0), as in that code.

Each is a mean over the batch. With BatchNorm in D the penalty is computed on a batch of
interpolates whose statistics BatchNorm uses, so it depends on the batch, not on single
points; that is a known caveat of GP with BatchNorm (WGAN-GP recommends LayerNorm).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORM_EPS = 1e-12  # keeps the norm's gradient finite where the input gradient is exactly 0


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return torch.lerp(fake, real, eps)  # eps * real + (1 - eps) * fake


def dragan_points(real: torch.Tensor, c: float, generator: torch.Generator) -> torch.Tensor:
    """DRAGAN's perturbed real points x + alpha * c * std(x) * u (module docstring)."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    u = torch.rand(real.shape, generator=generator, device=real.device, dtype=real.dtype)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    return real + alpha * (c * real.std()) * u


def input_gradient(D: nn.Module, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    out = D(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=create_graph)
    return grad


def gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, kind: str,
                     weight: float, generator: torch.Generator, dragan_c: float = 0.5
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (penalty, per-sample gradient norms); the penalty is differentiable in D."""
    if kind == "r1":
        x = real
    elif kind == "dragan":
        x = dragan_points(real.detach(), dragan_c, generator)
    else:
        x = interpolates(real, fake, generator)
    grad = input_gradient(D, x, create_graph=True)
    sq = grad.flatten(1).pow(2).sum(1)
    if kind == "r1":
        return 0.5 * weight * sq.mean(), sq.detach().sqrt()
    norms = (sq + NORM_EPS).sqrt()
    excess = norms - 1.0
    if kind == "one_sided":
        excess = F.relu(excess)
    elif kind not in ("two_sided", "dragan"):
        raise ValueError(f"unknown gradient penalty kind '{kind}'")
    return weight * excess.pow(2).mean(), norms.detach()
