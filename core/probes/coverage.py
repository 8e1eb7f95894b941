"""2D probes: mode coverage / sample quality, and the critic's landscape.

Coverage follows the standard protocol of the mode-collapse literature (VEEGAN, PacGAN): a
generated sample is *high quality* when it lies within ``k = 3`` standard deviations (Euclidean
distance <= 3 * std) of its nearest mixture centre; ``hq`` is the share of high-quality samples
and ``modes`` the number of components with at least one high-quality sample. The probe uses
2,500 samples from held-out noise (a fixed noise set drawn from a generator of its own, never
from the training stream). A mixture whose modes group several centres (a drawn dataset: its
connected pieces, core/points.py) passes ``mode_of``: a sample counts for the mode of its
nearest centre.
"""

from __future__ import annotations

import numpy as np
import torch

COVERAGE_SAMPLES = 2500
HQ_STDS = 3.0


def mode_coverage(samples, centres, std: float, k: float = HQ_STDS, mode_of=None) -> dict:
    """``{"modes": int, "hq": float, "mode_counts": ndarray[M]}`` for samples [N, 2]; M is the
    number of centres, or of modes when ``mode_of`` [K] maps each centre to its mode."""
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float64)
    c = torch.as_tensor(np.asarray(centres), dtype=torch.float64)
    labels = None if mode_of is None else torch.as_tensor(np.asarray(mode_of), dtype=torch.long)
    n_modes = c.shape[0] if labels is None else int(labels.max()) + 1
    if x.shape[0] == 0:
        return {"modes": 0, "hq": 0.0, "mode_counts": np.zeros(n_modes, dtype=np.int64)}
    dist = torch.cdist(x, c)
    nearest_d, nearest = dist.min(dim=1)
    good = nearest_d <= k * std
    hit = nearest[good] if labels is None else labels[nearest[good]]
    counts = torch.bincount(hit, minlength=n_modes).numpy().astype(np.int64)
    return {"modes": int((counts > 0).sum()), "hq": float(good.double().mean()),
            "mode_counts": counts}


def grid_points(extent: tuple[float, float, float, float], n: int) -> tuple[np.ndarray, ...]:
    """(xs [n], ys [n], points [n*n, 2]); point i*n + j is (xs[j], ys[i])."""
    xmin, xmax, ymin, ymax = extent
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    xx, yy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([xx.ravel(), yy.ravel()], axis=1)


@torch.no_grad()
def critic_grid(D, extent, n: int, device) -> dict:
    """D's raw output (logit / critic value) on an n x n grid: ``values[i, j]`` is at
    ``(x[j], y[i])``. Call with D in eval mode."""
    xs, ys, pts = grid_points(extent, n)
    out = D(torch.as_tensor(pts, dtype=torch.float32, device=device))
    return {"x": xs, "y": ys, "values": out.float().cpu().numpy().reshape(n, n),
            "extent": tuple(float(e) for e in extent)}
