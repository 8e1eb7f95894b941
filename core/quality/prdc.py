"""Precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al.
2020) of generated features against real features, written from the papers' definitions.

With NND_k(x, S) the distance from x to its k-th nearest neighbour in S (x itself excluded
when x is in S), B(x, r) the closed ball of radius r around x, real features R (n) and fake
features F (m):

- precision = 1/m  Σ_j 1[F_j ∈ ∪_i B(R_i, NND_k(R_i, R))]   (fakes inside the real manifold)
- recall    = 1/n  Σ_i 1[R_i ∈ ∪_j B(F_j, NND_k(F_j, F))]   (reals inside the fake manifold)
- density   = 1/(k m) Σ_j Σ_i 1[F_j ∈ B(R_i, NND_k(R_i, R))]   (can exceed 1)
- coverage  = 1/n  Σ_i 1[∃ j: F_j ∈ B(R_i, NND_k(R_i, R))]     (reals with a fake nearby)

The papers use k = 3 for precision/recall (Kynkäänniemi et al.'s default) and k = 5 for
density/coverage (Naeem et al.'s recommendation). Distances are exact Euclidean in float64
(``torch.cdist`` without the matrix-product shortcut); tests check every value against
brute-force loops. The package ``prdc`` (the latter paper's authors' code) implements the
same with open balls and one k for all four; it has not been updated since 2020.
"""

from __future__ import annotations

import torch

K_PRECISION_RECALL = 3
K_DENSITY_COVERAGE = 5


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def kth_neighbour_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """NND_k of every row of x within x (itself excluded)."""
    if x.shape[0] <= k:
        raise ValueError(f"k = {k} nearest neighbours need more than {k} points, got {x.shape[0]}")
    d = _distances(x, x)
    # the k+1 smallest include the point itself (distance 0)
    return d.kthvalue(k + 1, dim=1).values


@torch.no_grad()
def precision_recall_density_coverage(real: torch.Tensor, fake: torch.Tensor,
                                      k_pr: int = K_PRECISION_RECALL,
                                      k_dc: int = K_DENSITY_COVERAGE) -> dict[str, float]:
    real = real.double()
    fake = fake.double()
    d_rf = _distances(real, fake)  # [n, m]
    r_real_pr = kth_neighbour_radii(real, k_pr)
    r_fake_pr = kth_neighbour_radii(fake, k_pr)
    precision = (d_rf <= r_real_pr[:, None]).any(0).double().mean()
    recall = (d_rf <= r_fake_pr[None, :]).any(1).double().mean()
    r_real_dc = r_real_pr if k_dc == k_pr else kth_neighbour_radii(real, k_dc)
    inside = d_rf <= r_real_dc[:, None]
    density = inside.double().sum() / (k_dc * fake.shape[0])
    coverage = inside.any(1).double().mean()
    return {"precision": float(precision), "recall": float(recall), "density": float(density),
            "coverage": float(coverage)}
