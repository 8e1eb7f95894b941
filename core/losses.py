"""GAN losses on raw discriminator outputs (logits / critic values), shape [N].

- ``bce``: D minimises BCE(D(x), 1) + BCE(D(G(z)), 0) (BCEWithLogits, the sum of both halves
  as in pytorch/examples; at equilibrium it is 2 ln 2 = 1.386); G minimises the non-saturating
  BCE(D(G(z)), 1). A G loss near 20 means D(G(z)) ~ e^-20: D rejects every fake with certainty.
- ``hinge``: D: mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))); G: -mean(D(G(z))).
- ``wasserstein``: D: mean(D(G(z))) - mean(D(x)); G: -mean(D(G(z))). Meaningful only with a
  Lipschitz constraint on D (clip, gradient penalty, spectral or row-sum norm).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        # softplus(-x) = BCE(x, 1); softplus(x) = BCE(x, 0); exact and stable for large |x|.
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    if kind == "hinge":
        return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()
    if kind == "wasserstein":
        return fake_out.mean() - real_out.mean()
    raise ValueError(f"unknown loss kind '{kind}'")


def g_loss(kind: str, fake_out: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-fake_out).mean()
    if kind in ("hinge", "wasserstein"):
        return -fake_out.mean()
    raise ValueError(f"unknown loss kind '{kind}'")
