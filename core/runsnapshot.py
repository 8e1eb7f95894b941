"""The probe snapshot of a run folder's last checkpoint (Qt-free; torch work).

A run opened from disk has its metrics, events and sample PNGs in files, but the arrays the
snapshot panels draw (spectra, weight histograms, the 2D critic landscape with its gradient
arrows and coverage, the image sample grid) exist only while a session runs. This module
rebuilds the trainer from ``checkpoints/last/trainer.pt`` and measures them once, with the
same probes a running session uses, without writing anything into the folder.

The landscape, coverage (``modes``, ``hq``) and sample grid depend only on the weights and
fixed noise, so they equal what the run measured at that step; the probe batch behind
``lip_grad`` is drawn afresh and may differ from the run's last line.

Front ends call :func:`checkpoint_view` away from their UI thread (it imports torch and
runs D and G); the GUI runs it in a child process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .runlayout import TRAINER_CHECKPOINT, RunPaths
from .runreader import RunReadError, load_run_config

if TYPE_CHECKING:
    from .contract import ProbeSnapshot, RunInfo

def has_checkpoint(run_dir: str | Path) -> bool:
    return RunPaths(run_dir).trainer_checkpoint.is_file()


def run_info(trainer, prober, run_dir: str | Path) -> "RunInfo":
    """Who the trainer's run is (``core.contract.RunInfo``), as a live run reports it."""
    from .contract import RunInfo

    return RunInfo(
        run_dir=str(run_dir), device=str(trainer.device),
        layers=tuple(name for name, _ in trainer.constraints.layers),
        kind="image" if trainer.is_image else "2d",
        mode_centres=None if trainer.is_image else prober.centres.copy(),
        mode_std=None if trainer.is_image else float(prober.std))


def checkpoint_view(run_dir: str | Path, *, device: str = "cpu",
                    threads: int | None = None) -> tuple["RunInfo", "ProbeSnapshot"]:
    """The run's identity and the probe snapshot (``core.contract``) of its last checkpoint.

    RunReadError, one line naming the folder, when it is not a run or has no usable
    checkpoint. ``threads`` caps torch's intra-op threads (a helper process beside training).
    """
    import torch

    from .checkpoint import CheckpointError, load_trainer_state
    from .checkpoint_match import check_checkpoint_matches
    from .probes import Prober
    from .trainer import Trainer

    folder = Path(run_dir)
    cfg = load_run_config(folder)  # the folder is a run: one line if not
    path = RunPaths(folder).trainer_checkpoint
    if not path.is_file():
        raise RunReadError(f"{folder} has no checkpoint yet ({TRAINER_CHECKPOINT} is missing)")
    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    try:
        state = load_trainer_state(path)
    except (CheckpointError, OSError, RuntimeError) as exc:
        raise RunReadError(f"{folder}: cannot read its checkpoint: {exc}") from None
    try:  # another run's checkpoint is never shown as this run's
        check_checkpoint_matches(folder, state, cfg)
    except CheckpointError as exc:
        raise RunReadError(str(exc)) from None
    trainer = Trainer.from_state(state, device=device)
    prober = Prober(trainer)
    prober.probe(slow=True)
    if trainer.is_image:
        prober.samples()
    return run_info(trainer, prober, folder), prober.snapshot()
