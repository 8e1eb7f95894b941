"""Instance noise (Sønderby et al. 2016, "Amortised MAP Inference for Image Super-resolution",
section 3.1; Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs", section 3.1):
Gaussian noise N(0, σ²) added to every input of D — the real batch and the generated batch, in
the D updates and in the G update — so the two distributions overlap and D cannot separate
them perfectly (the G update's D forward sees the same noisy fakes as its critic update).

σ may anneal linearly to 0 (Sønderby et al. anneal it):
``σ(t) = std · max(0, 1 - (t - t0) / anneal_steps)`` for the update that completes generator
step t + 1, where t0 is the generator step at which the noise was switched on, or its ``std``
or ``anneal_steps`` last changed (switching it on mid-run starts the anneal there, not at the
run's step 0). ``anneal_steps = 0`` keeps σ constant. t0 is part of the checkpoint.

While σ is 0 (off, or annealed away) nothing is drawn: such a run uses the random stream
exactly as a run without instance noise.
"""

from __future__ import annotations

import torch

from .config import InstanceNoiseConfig


def annealed_std(std: float, anneal_steps: int, start: int, step: int) -> float:
    """σ for the update that completes generator step ``step + 1`` (module docstring)."""
    if anneal_steps <= 0:
        return float(std)
    return float(std) * max(0.0, 1.0 - (step - start) / anneal_steps)


class InstanceNoise:
    """The noise's schedule state for one run; the trainer asks :meth:`std_at` each step."""

    def __init__(self, cfg: InstanceNoiseConfig, step: int = 0):
        self.cfg = InstanceNoiseConfig(cfg.enabled, cfg.std, cfg.anneal_steps)
        self.start = step

    def configure(self, cfg: InstanceNoiseConfig, step: int) -> None:
        """Take a changed config at generator step ``step``: switching on, or a new σ or anneal
        length, restarts the anneal there."""
        old = self.cfg
        if cfg.enabled and (not old.enabled or cfg.std != old.std
                            or cfg.anneal_steps != old.anneal_steps):
            self.start = step
        self.cfg = InstanceNoiseConfig(cfg.enabled, cfg.std, cfg.anneal_steps)

    def std_at(self, step: int) -> float:
        """σ of the updates that complete generator step ``step + 1``; 0.0 while off."""
        c = self.cfg
        return annealed_std(c.std, c.anneal_steps, self.start, step) if c.enabled else 0.0

    @staticmethod
    def draw(like: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
        """N(0, std²) noise shaped (and laid out in memory) like ``like``."""
        return torch.empty_like(like).normal_(0.0, std, generator=generator)

    def state_dict(self) -> dict:
        return {"start": self.start}

    def load_state_dict(self, state: dict) -> None:
        self.start = int(state["start"])
