"""The Parzen-window estimate of a training run (``quality.parzen``): which images are the
kernels, the validation split and the test split, and the estimate's floor and ceiling.

- kernels: PARZEN_KERNELS samples of G on fixed noise of the run's own seed (eval mode);
- validation (σ is chosen on it): the scorer's train-split images left over after the floor's
  kernels, at most PARZEN_VALIDATION (digits: 297 of its 1,297);
- test (the estimate): the held-out split, at most PARZEN_TEST images (digits: all 500);
- floor: the same estimate with PARZEN_KERNELS *real* train images as the kernels (what a
  generator that reproduces the training data reaches); ceiling: with PARZEN_KERNELS samples
  of the untrained reference G of the quality ceiling (grey noise). Both once per run.
Fields: ``parzen_ll`` (nats per image), ``parzen_se`` (its standard error over the test
images), ``parzen_sigma`` (the chosen σ, pixels in [0, 1]).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from .measure import CEILING_SEED, generate
from .parzen import ParzenResult, parzen_estimate
from .scorer import Scorer, reference_generator
from .training import SCORER_SEED, forked_rng

PARZEN_FIELDS = ("parzen_ll", "parzen_se", "parzen_sigma")
PARZEN_KERNELS = 1000
PARZEN_VALIDATION = 1000
PARZEN_TEST = 1000
SPLIT_SEED = 31_337


def _fields(result: ParzenResult) -> dict[str, float | None]:
    clean = lambda v: v if math.isfinite(v) else None  # noqa: E731
    return {"parzen_ll": clean(result.ll), "parzen_se": clean(result.se),
            "parzen_sigma": result.sigma}


class ParzenSets:
    def __init__(self, scorer: Scorer, z_dim: int, seed: int, device: torch.device):
        splits = scorer.splits
        n_train = splits.train_x.shape[0]
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(SPLIT_SEED))
        n_val = max(1, min(PARZEN_VALIDATION, n_train - PARZEN_KERNELS))
        self.validation = splits.train_x[order[:n_val]]
        real_kernels = splits.train_x[order[n_val:n_val + PARZEN_KERNELS]]
        held = splits.held_x
        if held.shape[0] > PARZEN_TEST:
            pick = torch.randperm(held.shape[0], generator=torch.Generator().manual_seed(
                SPLIT_SEED + 1))[:PARZEN_TEST]
            held = held[pick.sort().values]
        self.test = held
        self.noise = torch.randn(PARZEN_KERNELS, z_dim,
                                 generator=torch.Generator().manual_seed(seed)).to(device)
        self.floor = self._named(self.estimate(real_kernels))
        self.ceiling: dict[str, float] = {}
        G = reference_generator(tuple(held.shape[1:]), device)
        if G is not None:
            noise = torch.randn(PARZEN_KERNELS, G.z_dim,
                                generator=torch.Generator().manual_seed(CEILING_SEED))
            with forked_rng(device, SCORER_SEED + 2):
                fake = generate(G, noise.to(device))
            self.ceiling = self._named(self.estimate(fake))

    @staticmethod
    def _named(result: ParzenResult) -> dict[str, float]:
        return {k: v for k, v in _fields(result).items() if v is not None}

    def estimate(self, kernels: torch.Tensor) -> ParzenResult:
        return parzen_estimate(kernels.cpu(), self.validation, self.test)

    def measure(self, generate_fn: Callable[[torch.Tensor], torch.Tensor]) -> dict:
        """The Parzen fields of the generator ``generate_fn`` (noise -> images in [-1, 1])."""
        return _fields(self.estimate(generate_fn(self.noise)))


__all__ = ["PARZEN_FIELDS", "PARZEN_KERNELS", "ParzenSets"]
