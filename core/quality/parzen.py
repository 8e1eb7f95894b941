"""The Parzen-window log-likelihood of Goodfellow et al. 2014 (after Breuleux et al. 2011).

A Gaussian kernel of width σ sits on each of K images (a generator's samples); the estimated
density of an image x is the mean of the kernels there::

    log p(x) = logsumexp_i(−‖x − μ_i‖² / 2σ²) − log K − (d/2)·log(2πσ²)

with pixels in [0, 1] and images flattened (d = C·H·W), as the paper's code does for MNIST.
σ is the value of a grid with the highest mean log-likelihood of a *validation* split of real
images; the estimate is then the mean log p of *held-out* real images, in nats per image
(the paper's table: "log-likelihood of test set", ± its standard error).

Theis et al. 2016 ("A note on the evaluation of generative models") show that in high
dimensions this estimate is dominated by the distance to the nearest kernel, far from the
true log-likelihood even with many samples, and largely independent of how good the samples
look; the reproduction report's Parzen section measures it through training runs next to
``fd``. Every sum over kernels is a log-sum-exp (exp(−‖x−μ‖²/2σ²) underflows to 0 for every
kernel at d = 784 and small σ), and the squared distances are computed in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# σ grid: 10 values a decade from 0.01 to 10 (the paper's MNIST grid, 0.1 to 1, lies inside).
SIGMAS = tuple(10.0 ** (e / 10) for e in range(-20, 11))
CHUNK = 256  # rows of the distance matrix computed at once


def flatten01(images: torch.Tensor) -> torch.Tensor:
    """Images as float64 rows with pixels in [0, 1]: uint8 (0..255) or float in [-1, 1]."""
    x = images.reshape(images.shape[0], -1)
    if images.dtype == torch.uint8:
        return x.double() / 255.0
    return (x.double().clamp(-1, 1) + 1) / 2


def squared_distances(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """‖x_j − μ_i‖² [n, K] in float64 (‖x‖² + ‖μ‖² − 2 x·μ, clamped at 0 against rounding)."""
    x, centres = x.double(), centres.double()
    c2 = (centres * centres).sum(1)
    out = []
    for i in range(0, x.shape[0], CHUNK):
        xi = x[i:i + CHUNK]
        d = (xi * xi).sum(1, keepdim=True) + c2[None, :] - 2 * xi @ centres.T
        out.append(d.clamp_min_(0))
    return torch.cat(out) if out else x.new_zeros(0, centres.shape[0])


def log_likelihoods(dist2: torch.Tensor, sigma: float, dim: int) -> torch.Tensor:
    """log p of each row of squared distances [n, K] under kernels of width ``sigma`` in
    ``dim`` dimensions."""
    k = dist2.shape[1]
    return (torch.logsumexp(-dist2 / (2 * sigma * sigma), dim=1) - math.log(k)
            - 0.5 * dim * math.log(2 * math.pi * sigma * sigma))


@dataclass(frozen=True)
class ParzenResult:
    """The estimate (mean log p of the test images, nats), its standard error, the chosen σ
    and whether it lies at an end of the grid (then the best σ may lie beyond it)."""

    ll: float
    se: float
    sigma: float
    at_grid_edge: bool


def parzen_estimate(centres: torch.Tensor, validation: torch.Tensor, test: torch.Tensor,
                    sigmas: tuple[float, ...] = SIGMAS) -> ParzenResult:
    """Kernels on ``centres``; σ chosen on ``validation``; the estimate on ``test`` (each
    [N, ...] images as :func:`flatten01` takes them)."""
    mu, val, tst = flatten01(centres), flatten01(validation), flatten01(test)
    dim = mu.shape[1]
    d_val = squared_distances(val, mu)
    scores = [float(log_likelihoods(d_val, s, dim).mean()) for s in sigmas]
    best = max(range(len(sigmas)), key=lambda i: scores[i])
    sigma = sigmas[best]
    ll = log_likelihoods(squared_distances(tst, mu), sigma, dim)
    se = float(ll.std() / math.sqrt(ll.numel())) if ll.numel() > 1 else 0.0
    return ParzenResult(float(ll.mean()), se, sigma, best in (0, len(sigmas) - 1))


__all__ = ["SIGMAS", "ParzenResult", "flatten01", "log_likelihoods", "parzen_estimate",
           "squared_distances"]
