"""Engine speed: steps/s of the ring preset and the notebook DCGAN, and the trainer's step
against the notebook's own loop (same models, batch 128, 28x28, same in-memory data).

Runs are interleaved in rounds (notebook, trainer, notebook, trainer, ...) so that any load
on the machine hits both alike; the reported figure is the median time per step over rounds.

    python benchmarks/engine.py [--rounds 5] [--steps 30] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.notebook_reference import NotebookLoop  # noqa: E402
from core import config as C  # noqa: E402
from core.trainer import Trainer  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "resources" / "presets"


def time_steps(step, n, sync) -> float:
    step()  # not timed: first-call allocations
    sync()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30, help="DCGAN steps per round")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")

    ring = C.load(PRESETS / "ring8.toml")
    ring.set("run.device", args.device)
    t = Trainer(ring)
    ring_times = [time_steps(t.step, 300, sync) for _ in range(args.rounds)]
    print(f"ring8 preset (MLP, batch {ring.data.batch_size}): "
          f"{1 / statistics.median(ring_times):.0f} steps/s")

    cfg = C.load(PRESETS / "dcgan_notebook.toml")
    cfg.set("run.device", args.device)
    trainer = Trainer(cfg)
    images = trainer.sampler.images.cpu()
    notebook = NotebookLoop(images, z_dim=cfg.model.z_dim, batch_size=cfg.data.batch_size,
                            device=device)
    nb, tr = [], []
    for _ in range(args.rounds):
        nb.append(time_steps(notebook.step, args.steps, sync))
        tr.append(time_steps(trainer.step, args.steps, sync))
    nb_med, tr_med = statistics.median(nb), statistics.median(tr)
    print(f"notebook DCGAN (batch {cfg.data.batch_size}, SN + BatchNorm in D):")
    print(f"  notebook loop: {nb_med * 1000:6.1f} ms/step  ({1 / nb_med:5.1f} steps/s)")
    print(f"  trainer:       {tr_med * 1000:6.1f} ms/step  ({1 / tr_med:5.1f} steps/s)")
    print(f"  speedup: {nb_med / tr_med:.2f}x  (per round: "
          + ", ".join(f"{a / b:.2f}" for a, b in zip(nb, tr)) + ")")


if __name__ == "__main__":
    main()
