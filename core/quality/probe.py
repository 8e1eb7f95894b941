"""The quality probe of a training run: G's samples on fixed held-out noise, scored on the
slow-probe lines and the run's last line (docs/image-quality.md).

Like every probe it never changes training: G runs in eval mode (``Trainer.generate``), the
noise comes from a generator of its own (``run.seed`` + QUALITY_SEED_OFFSET), and the scorer
and torchmetrics draw only inside forked random states.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..config import QualityConfig
from .measure import fields_of, real_set, references
from .metrics import QUALITY_FIELDS, STACKED_FIELDS
from .parzen_sets import PARZEN_FIELDS, ParzenSets
from .scorer import Scorer

QUALITY_SEED_OFFSET = 7_368_787
# The default of quality.final_mode_samples: a stacked run's last line counts modes on as many
# samples as VEEGAN and PacGAN count them.
STACKED_FINAL_SAMPLES = QualityConfig().final_mode_samples


class QualityProbe:
    def __init__(self, trainer, scorer: Scorer):
        self.trainer = trainer
        self.scorer = scorer
        self._n = None
        self._parzen: ParzenSets | None = None  # made when quality.parzen is first on
        self._prepare(trainer.cfg.quality.samples)

    def _prepare(self, n: int) -> None:
        tr = self.trainer
        gen = torch.Generator().manual_seed(tr.cfg.run.seed + QUALITY_SEED_OFFSET)
        self.noise = torch.randn(n, tr.cfg.model.z_dim, generator=gen).to(tr.device)
        self.real = real_set(self.scorer, n)
        self.refs = references(self.scorer, n, self.real)
        self._n = n

    def fields(self) -> tuple[str, ...]:
        return (QUALITY_FIELDS + (STACKED_FIELDS if self.scorer.stacked else ())
                + (PARZEN_FIELDS if self.trainer.cfg.quality.parzen else ()))

    def _parzen_sets(self) -> ParzenSets:
        if self._parzen is None:
            tr = self.trainer
            self._parzen = ParzenSets(self.scorer, tr.cfg.model.z_dim,
                                      tr.cfg.run.seed + QUALITY_SEED_OFFSET + 2, tr.device)
        return self._parzen

    def empty(self) -> dict[str, Any]:
        """The fields of a line without a quality measurement (null)."""
        return dict.fromkeys(self.fields())

    @torch.no_grad()
    def measure(self, *, final: bool = False) -> dict[str, Any]:
        """The quality fields of G now (``final``: a stacked run's modes on
        ``quality.final_mode_samples``)."""
        tr = self.trainer
        if tr.cfg.quality.samples != self._n:  # a live change of quality.samples
            self._prepare(tr.cfg.quality.samples)
        fake = _generate(tr, self.noise)
        feats, probs = self.scorer.run(fake)
        out = fields_of(self.scorer, self.real, feats, probs)
        n = self._n
        if self.scorer.stacked and final:
            n = tr.cfg.quality.final_mode_samples
            out.update(self._final_modes(n))
        out = {k: _clean(out.get(k)) for k in self.fields()}
        out["quality_n"] = self._n
        if self.scorer.stacked:
            out["modes_n"] = n
        out["quality_floor"] = dict(self.refs["floor"])
        out["quality_ceiling"] = dict(self.refs["ceiling"])
        if tr.cfg.quality.parzen:
            parzen = self._parzen_sets()
            out.update(parzen.measure(lambda z: _generate(tr, z)))
            out["quality_floor"].update(parzen.floor)
            out["quality_ceiling"].update(parzen.ceiling)
        out["quality_scorer"] = self.scorer.label()
        return out

    def _final_modes(self, total: int) -> dict[str, Any]:
        from .metrics import mode_fields

        tr = self.trainer
        gen = torch.Generator().manual_seed(tr.cfg.run.seed + QUALITY_SEED_OFFSET + 1)
        labels = []
        for start in range(0, total, 2000):
            count = min(2000, total - start)
            z = torch.randn(count, tr.cfg.model.z_dim, generator=gen).to(tr.device)
            _, probs = self.scorer.run(_generate(tr, z))
            labels.append(probs.argmax(-1))
        return mode_fields(torch.cat(labels))


def _generate(trainer, noise: torch.Tensor) -> torch.Tensor:
    return torch.cat([trainer.generate(noise[i:i + 500]) for i in range(0, noise.shape[0], 500)])


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
