"""Image quality: a scorer per dataset and the metrics measured in its features.

One module per job:
- :mod:`.network`: the scorer CNN (penultimate features + class logits);
- :mod:`.labelled`: each dataset's labelled train / held-out split;
- :mod:`.training`: training a scorer (fixed seed, own random streams);
- :mod:`.scorer`: :class:`Scorer`, :func:`prepare_scorer` (memory, then the cache under the
  app home, else trained now with progress);
- :mod:`.inception`: InceptionV3 pool features from weights on disk;
- :mod:`.prdc`: precision / recall / density / coverage;
- :mod:`.metrics`: fd, kid (torchmetrics), classes, class_kl, confidence, stacked modes;
- :mod:`.measure`: the held-out real set, a set's fields, the floor and the ceiling;
- :mod:`.probe`: :class:`QualityProbe`, the training run's measurement;
- :mod:`.cli`: ``python main.py score``.
Qt-free like the rest of ``core``.
"""

from __future__ import annotations

import threading

from .metrics import QUALITY_FIELDS, STACKED_FIELDS
from .probe import STACKED_FINAL_SAMPLES, QualityProbe
from .scorer import Scorer, prepare_scorer

__all__ = ["QUALITY_FIELDS", "STACKED_FIELDS", "STACKED_FINAL_SAMPLES", "QualityProbe",
           "Scorer", "prepare_scorer", "quality_probe_for"]


def quality_probe_for(trainer, progress=None, cancel: threading.Event | None = None
                      ) -> tuple[QualityProbe | None, str | None]:
    """(the run's quality probe, None) for an image run with ``quality.enabled``; (None, a
    one-line note saying why not) when its scorer cannot be had (e.g. the data's test split
    or the Inception weights are not on disk); (None, None) for 2D runs or when disabled."""
    from ..data import DatasetError

    if not trainer.is_image or not trainer.cfg.quality.enabled:
        return None, None
    try:
        scorer = prepare_scorer(trainer.cfg, trainer.device, progress, cancel)
        return QualityProbe(trainer, scorer), None
    except DatasetError as exc:
        return None, f"image quality is not measured in this run: {exc}"
