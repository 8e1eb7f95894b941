"""The image-quality metrics of one set of generated features against the held-out real set.

- ``fd``: Fréchet distance ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^½) between Gaussians fitted
  to the two feature sets: torchmetrics' ``FrechetInceptionDistance`` (float64 statistics);
- ``kid`` / ``kid_std``: the unbiased squared MMD with the cubic polynomial kernel
  (Bińkowski et al. 2018), mean and standard deviation over random subsets: torchmetrics'
  ``KernelInceptionDistance`` (its subsets are drawn from a fixed seed, so a measurement is
  repeatable and leaves the global random state as it was);
- ``classes``: how many classes receive at least ``1 / (2 K)`` of the samples (half the share
  of each class in a balanced set: 5 % of the samples for 10 classes), by the scorer's top
  class; ``class_kl``: KL(generated class histogram ‖ held-out class histogram) in nats;
  ``confidence``: the scorer's mean top-class probability;
- ``precision`` / ``recall`` / ``density`` / ``coverage``: :mod:`.prdc`;
- stacked data: ``modes`` (of 1,000) with at least one sample, ``mode_kl`` = KL(generated mode
  histogram ‖ uniform), as VEEGAN and PacGAN count them.

Both torchmetrics classes receive features the scorer has already computed, through an
identity ``feature`` module (:class:`.network.PrecomputedFeatures`): one scorer pass per image
serves every metric.
"""

from __future__ import annotations

import math
import warnings

import torch

from .network import PrecomputedFeatures
from .prdc import K_DENSITY_COVERAGE, K_PRECISION_RECALL, precision_recall_density_coverage

KID_SUBSETS = 50
KID_MAX_SUBSET = 1000
KID_SEED = 271_828
QUALITY_FIELDS = ("fd", "kid", "kid_std", "classes", "class_kl", "confidence", "precision",
                  "recall", "density", "coverage")
STACKED_FIELDS = ("modes", "mode_kl")


def class_share_threshold(classes: int) -> float:
    return 1.0 / (2 * classes)


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    # imported here: torchmetrics takes seconds to import, and 2D runs never need it
    from torchmetrics.image.fid import FrechetInceptionDistance

    d = real.shape[1]
    metric = FrechetInceptionDistance(feature=PrecomputedFeatures(d))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kernel_distance(real: torch.Tensor, fake: torch.Tensor, subset_size: int | None = None,
                    subsets: int = KID_SUBSETS) -> tuple[float, float]:
    """(mean, std) of the unbiased KID over ``subsets`` random subsets of ``subset_size``
    (default: half the smaller set, at most KID_MAX_SUBSET: subsets of the whole set would all
    be the same set, and their spread zero)."""
    from torchmetrics.image.kid import KernelInceptionDistance

    d = real.shape[1]
    size = subset_size or max(2, min(KID_MAX_SUBSET, min(real.shape[0], fake.shape[0]) // 2))
    with warnings.catch_warnings():  # "will save all extracted features": N of them, by design
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=PrecomputedFeatures(d), subsets=subsets,
                                         subset_size=size)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(KID_SEED)
        mean, std = metric.compute()
    return float(mean), float(std)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """KL(p ‖ q) in nats for histograms (0 log 0 = 0; q > 0 where p > 0)."""
    p = p.double() / p.sum()
    q = q.double() / q.sum()
    nz = p > 0
    if bool((q[nz] <= 0).any()):
        return math.inf
    return float((p[nz] * (p[nz] / q[nz]).log()).sum())


def class_fields(probs: torch.Tensor, data_labels: torch.Tensor, classes: int) -> dict:
    """``classes``, ``class_kl``, ``confidence`` of class probabilities [N, K]."""
    top, label = probs.max(1)
    counts = torch.bincount(label.cpu(), minlength=classes)
    data = torch.bincount(data_labels.cpu(), minlength=classes)
    share = counts.double() / counts.sum()
    return {"classes": int((share >= class_share_threshold(classes) - 1e-12).sum()),
            "class_kl": kl_divergence(counts, data),
            "confidence": float(top.double().mean())}


def mode_fields(channel_labels: torch.Tensor) -> dict:
    """``modes`` and ``mode_kl`` of stacked samples from their per-channel digits [N, 3]."""
    mode = channel_labels[:, 0] * 100 + channel_labels[:, 1] * 10 + channel_labels[:, 2]
    counts = torch.bincount(mode.cpu(), minlength=1000)
    return {"modes": int((counts > 0).sum()),
            "mode_kl": kl_divergence(counts, torch.ones(1000))}


def distance_fields(real: torch.Tensor, fake: torch.Tensor) -> dict:
    """``fd``, ``kid``, ``kid_std``, ``precision``, ``recall``, ``density``, ``coverage``."""
    kid, kid_std = kernel_distance(real, fake)
    out = {"fd": frechet_distance(real, fake), "kid": kid, "kid_std": kid_std}
    out.update(precision_recall_density_coverage(real, fake, K_PRECISION_RECALL,
                                                 K_DENSITY_COVERAGE))
    return out
