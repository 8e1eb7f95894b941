"""The probe snapshot of a run folder's last checkpoint (Qt-free; torch work).

A run opened from disk has its metrics, events and sample PNGs in files, but the arrays the
snapshot panels draw (spectra, weight histograms, the 2D critic landscape with its gradient
arrows and coverage, the image sample grid) exist only while a session runs. This module
rebuilds the trainer from ``checkpoints/last/trainer.pt`` and measures them once, with the
same probes a running session uses, without writing anything into the folder.

The landscape, coverage (``modes``, ``hq``) and sample grid depend only on the weights and
fixed noise, so they equal what the run measured at that step; the probe batch behind
``lip_grad`` is drawn afresh and may differ from the run's last line.

Front ends call :func:`checkpoint_snapshot` away from their UI thread (it imports torch and
runs D and G); the GUI runs it in a child process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .runreader import RunReadError, load_run_config

CHECKPOINT = Path("checkpoints") / "last" / "trainer.pt"


def has_checkpoint(run_dir: str | Path) -> bool:
    return (Path(run_dir) / CHECKPOINT).is_file()


def checkpoint_snapshot(run_dir: str | Path, *, device: str = "cpu",
                        threads: int | None = None) -> dict[str, Any]:
    """The snapshot (keys as ``TrainingSession.snapshot``) of the run's last checkpoint.

    RunReadError, one line naming the folder, when it is not a run or has no usable
    checkpoint. ``threads`` caps torch's intra-op threads (a helper process beside training).
    """
    import torch

    from .checkpoint import CheckpointError, load_trainer_state
    from .probes import Prober
    from .trainer import Trainer

    folder = Path(run_dir)
    load_run_config(folder)  # the folder is a run: one line if not
    path = folder / CHECKPOINT
    if not path.is_file():
        raise RunReadError(f"{folder} has no checkpoint yet ({CHECKPOINT} is missing)")
    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    try:
        state = load_trainer_state(path)
    except (CheckpointError, OSError, RuntimeError) as exc:
        raise RunReadError(f"{folder}: cannot read its checkpoint: {exc}") from None
    trainer = Trainer.from_state(state, device=device)
    prober = Prober(trainer)
    prober.probe(slow=True)
    if trainer.is_image:
        prober.samples()
    return prober.snapshot()
