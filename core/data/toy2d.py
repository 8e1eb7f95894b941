"""Two-dimensional toy distributions: Gaussian mixtures with known mode centres.

Layouts (the standard ones from the GAN mode-collapse literature):

- ``ring8``: 8 Gaussians with centres evenly spaced on a circle of radius 2
  (angles 0, 45, ..., 315 degrees), standard deviation 0.02 per coordinate
  (as in the unrolled-GAN and VEEGAN experiments).
- ``grid25``: 25 Gaussians on the 5x5 grid {-4, -2, 0, 2, 4}^2, standard deviation 0.05
  (VEEGAN / PacGAN).
- ``swissroll``: a mixture of 40 Gaussians whose centres are spaced evenly in the roll
  parameter t in [1.5 pi, 4.5 pi] along the spiral (t cos t, t sin t) / 5, standard deviation
  0.1; neighbours overlap, so samples form a continuous roll, yet "modes" and "high-quality
  samples" stay well defined for the probes.

- ``drawn``: the points a user painted (``data.drawn.points``, core/points.py), each the
  centre of a Gaussian with standard deviation ``data.drawn.std``. Its modes for the coverage
  probes are the drawing's connected pieces at the 3σ scale (``core.points.mode_labels``);
  for the three layouts above every centre is its own mode.

Sampling uses the caller's ``torch.Generator``, so a run's data stream is determined by the run
seed (and is part of the resumable state).
"""

from __future__ import annotations

import math

import numpy as np
import torch

SWISSROLL_COMPONENTS = 40


def ring8_centres() -> np.ndarray:
    angles = np.arange(8) * (2 * math.pi / 8)
    return np.stack([2.0 * np.cos(angles), 2.0 * np.sin(angles)], axis=1)


def grid25_centres() -> np.ndarray:
    ticks = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def swissroll_centres() -> np.ndarray:
    t = np.linspace(1.5 * math.pi, 4.5 * math.pi, SWISSROLL_COMPONENTS)
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 5.0


_LAYOUTS = {
    "ring8": (ring8_centres, 0.02),
    "grid25": (grid25_centres, 0.05),
    "swissroll": (swissroll_centres, 0.1),
}


def mode_centres(name: str) -> np.ndarray:
    """Centres of the mixture components, shape [K, 2] (float64)."""
    return _LAYOUTS[name][0]()


def mode_std(name: str) -> float:
    """Per-coordinate standard deviation of every component."""
    return _LAYOUTS[name][1]


class Toy2DSampler:
    """Draws batches from a 2D Gaussian mixture, directly on the training device.

    ``centres_np`` [K, 2] (float64), ``std`` and ``mode_of`` [K] (the mode of each centre,
    0..M-1) define the mixture and its modes for the coverage probes."""

    kind = "2d"
    shape = (2,)

    def __init__(self, name: str, device: torch.device, points=None, std: float | None = None):
        if name == "drawn":
            from ..points import check_points, mode_labels

            centres = np.asarray(check_points(points), dtype=np.float64).reshape(-1, 2)
            if not len(centres) or std is None:
                raise ValueError("the drawn dataset needs points and a std")
            self.mode_of = mode_labels(centres, std)
        elif name in _LAYOUTS:
            centres, std = mode_centres(name), mode_std(name)
            self.mode_of = np.arange(len(centres), dtype=np.int64)
        else:
            raise ValueError(f"unknown 2D dataset '{name}'")
        self.name = name
        self.device = device
        self.centres_np = centres
        self.centres = torch.as_tensor(centres, dtype=torch.float32, device=device)
        self.std = float(std)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        k = self.centres.shape[0]
        idx = torch.randint(0, k, (n,), generator=generator, device=self.device)
        noise = torch.randn(n, 2, generator=generator, device=self.device)
        return self.centres[idx] + self.std * noise

    def extent(self) -> tuple[float, float, float, float]:
        """A box (xmin, xmax, ymin, ymax) that holds the data with a margin, for plots."""
        c = self.centres.cpu().numpy()
        pad = 1.0 + 4 * self.std
        return (float(c[:, 0].min() - pad), float(c[:, 0].max() + pad),
                float(c[:, 1].min() - pad), float(c[:, 1].max() + pad))
