"""Per-step cost of each constraint and stabilizer, as a ratio to training with none.

Trains the notebook DCGAN (batch 128, BatchNorm in D) and the 2D MLP of the ring preset with:
none, clip, rowsum, spectral (ours, one power iteration per D update), spectral_exact
(constraints.spectral.method = "exact": the top singular vectors from an eigen-decomposition
after every D update), torch_sn (torch.nn.utils.parametrizations.spectral_norm on every D
layer, no constraint of ours), gp (two-sided, lambda 10), dragan (the DRAGAN penalty, lambda 10,
c 0.5), noise (instance noise, sigma 0.1), smoothing (one-sided label smoothing 0.1) and adamw
(AdamW, weight decay 0.01, instead of Adam). Variants are
interleaved round by round so machine load hits them alike; the figure is the median over
rounds of the time per step.

    python benchmarks/constraints.py [--rounds 5] [--dcgan-steps 20] [--mlp-steps 200]
                                     [--only VARIANT ...] [--cpu-time]

``--cpu-time`` times each step by the process's CPU time on one torch thread: on a machine
that other work loads, wall-clock ratios are mostly that load (a 3 ms MLP step took 25-120 ms),
while one thread's CPU time still measures the work a step does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn.utils import parametrizations

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import config as C  # noqa: E402
from core.constraints import constrained_layers  # noqa: E402
from core.trainer import Trainer  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "resources" / "presets"
VARIANTS = {
    "none": {},
    "clip": {"constraints.clip.enabled": True},
    "rowsum": {"constraints.rowsum.enabled": True},
    "spectral": {"constraints.spectral.enabled": True},
    "spectral_exact": {"constraints.spectral.enabled": True,
                       "constraints.spectral.method": "exact"},
    "torch_sn": "torch_sn",
    "gp": {"constraints.gp.enabled": True},
    "dragan": {"constraints.gp.enabled": True, "constraints.gp.kind": "dragan"},
    "noise": {"instance_noise.enabled": True},
    "smoothing": {"loss.label_smoothing": 0.1},
    "adamw": {"optim.name": "adamw"},
}


def make_trainer(preset: str, variant, device: str) -> Trainer:
    cfg = C.load(PRESETS / preset)
    cfg.set("run.device", device)
    base = {"constraints.spectral.enabled": False}
    cfg.update(base if variant == "torch_sn" else {**base, **variant})
    trainer = Trainer(cfg)
    if variant == "torch_sn":
        for _, layer in constrained_layers(trainer.D):
            parametrizations.spectral_norm(layer)
    return trainer


def per_step(trainer: Trainer, steps: int, clock=time.perf_counter) -> float:
    trainer.step()
    t0 = clock()
    for _ in range(steps):
        trainer.step()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return (clock() - t0) / steps


def run(preset: str, label: str, steps: int, rounds: int, device: str,
        clock=time.perf_counter) -> None:
    trainers = {name: make_trainer(preset, v, device) for name, v in VARIANTS.items()}
    times = {name: [] for name in trainers}
    for _ in range(rounds):
        for name, trainer in trainers.items():
            times[name].append(per_step(trainer, steps, clock))
    base = statistics.median(times["none"])
    print(f"\n{label}: none = {base * 1000:.2f} ms/step")
    print(f"  {'variant':14s} {'ms/step':>8s} {'ratio':>6s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:14s} {med * 1000:8.2f} {med / base:6.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=list(VARIANTS),
                    help="measure these variants (none is always measured)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="CPU time per step on one thread (for a loaded machine)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dcgan-steps", type=int, default=20)
    ap.add_argument("--mlp-steps", type=int, default=200)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.only:
        for name in [v for v in VARIANTS if v != "none" and v not in args.only]:
            del VARIANTS[name]
    clock = time.perf_counter
    if args.cpu_time:
        torch.set_num_threads(1)
        clock = time.process_time
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
          f"{'CPU' if args.cpu_time else 'wall-clock'} time")
    run("ring8.toml", "2D MLP (ring8 preset, batch 256)", args.mlp_steps, args.rounds, args.device,
        clock)
    run("dcgan_notebook.toml", "notebook DCGAN (batch 128, BatchNorm in D)", args.dcgan_steps,
        args.rounds, args.device, clock)


if __name__ == "__main__":
    main()
