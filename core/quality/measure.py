"""Scoring a set of images against a scorer's held-out real split, with the floor and
ceiling that make the numbers readable.

- the real set: N held-out images (a fixed selection; all of them when the split holds
  fewer, e.g. digits' 500);
- the floor: the train split's images (N of them, a fixed selection) scored as if generated:
  what a perfect generator would reach at this N;
- the ceiling: N samples of an untrained G (:func:`.scorer.reference_generator`, fixed seed,
  eval mode): where every run starts, grey noise.
Both are computed once per scorer and N and stored in its cache file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..data import DatasetError
from .metrics import distance_fields, class_fields, mode_fields
from .scorer import Scorer, save_refs
from .training import SCORER_SEED, forked_rng

REAL_SEED = 99_991
MIN_REAL = 16  # held-out images at least (k-NN radii need k + 1 points, KID two subsets)
CEILING_SEED = 424_242
GEN_BATCH = 500


@dataclass
class RealSet:
    """The held-out real images a scorer compares with, their features and labels."""

    features: torch.Tensor
    labels: torch.Tensor | None
    n: int


def _select(count: int, n: int, seed: int) -> torch.Tensor:
    if n >= count:
        return torch.arange(count)
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def real_set(scorer: Scorer, n: int) -> RealSet:
    """The held-out real set of N images (``DatasetError`` when the split holds too few)."""
    held = scorer.splits.held_x
    if held.shape[0] < MIN_REAL:
        raise DatasetError(f"the held-out split of {scorer.dataset} holds {held.shape[0]} "
                           f"images; scoring needs at least {MIN_REAL}")
    idx = _select(held.shape[0], n, REAL_SEED)
    feats, _ = scorer.run(held[idx])
    labels = scorer.splits.held_y
    return RealSet(feats, labels, len(idx))


def fields_of(scorer: Scorer, real: RealSet, feats: torch.Tensor,
              probs: torch.Tensor | None) -> dict[str, float | int | None]:
    """Every quality field of generated features/probabilities against ``real``."""
    out: dict[str, float | int | None] = distance_fields(real.features, feats)
    out.update(classes=None, class_kl=None, confidence=None)
    if probs is None:
        return out
    if scorer.stacked:
        out.update(mode_fields(probs.argmax(-1)))
        out["confidence"] = float(probs.max(-1).values.double().mean())
    else:
        out.update(class_fields(probs, real.labels, scorer.classes))
    return out


@torch.no_grad()
def generate(G: torch.nn.Module, noise: torch.Tensor) -> torch.Tensor:
    """G's samples of ``noise`` in batches (call with G in eval mode)."""
    return torch.cat([G(noise[i:i + GEN_BATCH]).float() for i in range(0, noise.shape[0],
                                                                        GEN_BATCH)])


def references(scorer: Scorer, n: int, real: RealSet | None = None) -> dict[str, dict]:
    """``{"floor": fields, "ceiling": fields}`` at N = ``n`` (cached per scorer and N)."""
    if n in scorer.refs:
        return scorer.refs[n]
    from .scorer import reference_generator

    real = real or real_set(scorer, n)
    train = scorer.splits.train_x
    idx = _select(train.shape[0], n, REAL_SEED + 1)
    floor = fields_of(scorer, real, *scorer.run(train[idx]))
    shape = tuple(scorer.splits.held_x.shape[1:])
    G = reference_generator(shape, scorer.device)
    ceiling = None
    if G is not None:
        noise = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(CEILING_SEED))
        with forked_rng(scorer.device, SCORER_SEED + 2):
            fake = generate(G, noise.to(scorer.device))
        ceiling = fields_of(scorer, real, *scorer.run(fake))
    scorer.refs[n] = {"floor": _finite(floor), "ceiling": _finite(ceiling) if ceiling else {}}
    save_refs(scorer)
    return scorer.refs[n]


def _finite(fields: dict) -> dict:
    return {k: v for k, v in fields.items()
            if v is not None and (not isinstance(v, float) or math.isfinite(v))}
