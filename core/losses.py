"""GAN losses on raw discriminator outputs (logits / critic values), shape [N].

- ``bce``: D minimises BCE(D(x), 1) + BCE(D(G(z)), 0) (BCEWithLogits, the sum of both halves
  as in pytorch/examples; at equilibrium it is 2 ln 2 = 1.386); G minimises the non-saturating
  BCE(D(G(z)), 1). A G loss near 20 means D(G(z)) ~ e^-20: D rejects every fake with certainty.
- ``hinge``: D: mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))); G: -mean(D(G(z))).
- ``wasserstein``: D: mean(D(G(z))) - mean(D(x)); G: -mean(D(G(z))). Meaningful only with a
  Lipschitz constraint on D (clip, gradient penalty, spectral or row-sum norm).

One-sided label smoothing (``bce`` only; Salimans et al. 2016, "Improved Techniques for
Training GANs", section 3.4): D's target for real samples is 1 - s instead of 1, so its real
half is BCE(D(x), 1 - s) = (1 - s) softplus(-D(x)) + s softplus(D(x)); the fake targets (0)
and G's loss stay as they are. With s = 0 the loss is computed exactly as without it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor,
           label_smoothing: float = 0.0) -> torch.Tensor:
    if kind == "bce":
        # softplus(-x) = BCE(x, 1); softplus(x) = BCE(x, 0); exact and stable for large |x|.
        if label_smoothing:
            s = label_smoothing
            real = (1.0 - s) * F.softplus(-real_out) + s * F.softplus(real_out)
            return real.mean() + F.softplus(fake_out).mean()
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    if label_smoothing:
        raise ValueError(f"label smoothing has no meaning for the {kind} loss")
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
