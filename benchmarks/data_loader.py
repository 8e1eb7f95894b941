"""Does data loading starve training? Trainer steps/s with the real dataset sampler against the
same trainer fed pre-loaded tensors (batches already on the device, in the model's range).

The real sampler keeps the whole dataset as uint8 on the training device and draws each batch
with one random index draw, one gather and one uint8 -> float conversion. The pre-loaded
variant cycles through ready-made float batches, i.e. costs nothing. Goal: real >= 0.95x.

Runs are interleaved (preloaded, real, preloaded, real, ...) on one trainer so that load from
other processes hits both alike; every step is timed and the medians (and fastest steps)
are compared. The sampler's own cost per batch is timed separately too, with the ratio it
implies (a steadier figure than the measured ratio on a busy machine).

Cases: the notebook DCGAN on the offline digits (dcgan_notebook.toml) and the SN-GAN standard
CNN on CIFAR-10-sized data (cifar10_sngan.toml; 50,000 32x32 RGB images). If CIFAR-10 is not
in the dataset cache, files in its real on-disk format are written to a temp folder first, so
the real loader path runs either way.

    python benchmarks/data_loader.py [--rounds 5] [--steps 20] [--device cpu] [--cases digits,cifar10]
        [--cifar-width 64]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import config as C  # noqa: E402
from core.data.downloads import is_present  # noqa: E402
from core.paths import dataset_root  # noqa: E402
from core.trainer import Trainer  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "resources" / "presets"


class PreloadedSampler:
    """Same interface as ImageTensorSampler; hands out pre-made batches on the device."""

    kind = "image"

    def __init__(self, real, batch_size: int, count: int = 8):
        g = torch.Generator(device=real.device).manual_seed(123)
        self.shape = real.shape
        self.batches = [real.sample(batch_size, g) for _ in range(count)]
        self.i = 0

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.i = (self.i + 1) % len(self.batches)
        return self.batches[self.i]


def write_cifar_format(root: Path, n: int = 50000) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    per = n // 5
    for i in range(1, 6):
        entry = {"batch_label": f"synthetic {i}", "labels": [0] * per,
                 "data": rng.integers(0, 256, (per, 3072), dtype=np.uint8)}
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump(entry, fh, protocol=2)


def sync_for(device: torch.device):
    return (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)


def time_steps(trainer: Trainer, n: int, sync) -> list[float]:
    """Seconds of each of ``n`` steps (after one untimed step)."""
    trainer.step()
    sync()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        trainer.step()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def time_sampler(sampler, batch: int, device, sync, n: int = 20, repeats: int = 5) -> float:
    """Seconds per batch: the best of ``repeats`` means over ``n`` batches."""
    g = torch.Generator(device=device).manual_seed(0)
    sampler.sample(batch, g)
    sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            sampler.sample(batch, g)
        sync()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def run_case(name: str, cfg: C.Config, rounds: int, steps: int) -> float:
    t0 = time.perf_counter()
    trainer = Trainer(cfg)
    load_s = time.perf_counter() - t0
    device, sync = trainer.device, sync_for(trainer.device)
    real = trainer.sampler
    pre = PreloadedSampler(real, cfg.data.batch_size)
    times = {"preloaded": [], "real": []}
    for _ in range(rounds):  # alternate in blocks so that outside load hits both alike
        for label, sampler in (("preloaded", pre), ("real", real)):
            trainer.sampler = sampler
            times[label].extend(time_steps(trainer, steps, sync))
    trainer.sampler = real
    t_pre, t_real = statistics.median(times["preloaded"]), statistics.median(times["real"])
    best_pre, best_real = min(times["preloaded"]), min(times["real"])
    t_batch = time_sampler(real, cfg.data.batch_size, device, sync)
    ratio = t_pre / t_real
    print(f"{name}: {len(real)} images {tuple(real.shape)}, arch {cfg.model.arch} "
          f"(g/d width {cfg.model.g_width}/{cfg.model.d_width}), batch {cfg.data.batch_size}, "
          f"trainer built in {load_s:.2f} s; {len(times['real'])} steps timed per variant")
    print(f"  preloaded tensors: {1 / t_pre:8.2f} steps/s median, {1 / best_pre:8.2f} best")
    print(f"  real sampler     : {1 / t_real:8.2f} steps/s median, {1 / best_real:8.2f} best")
    print(f"  ratio real/preloaded = {ratio:.3f} (medians), {best_pre / best_real:.3f} (best "
          f"steps); goal >= 0.95")
    print(f"  sampler alone: {t_batch * 1e3:.3f} ms/batch (best of 5) = "
          f"{100 * t_batch / best_pre:.2f}% of the fastest step -> implied ratio "
          f"{best_pre / (best_pre + t_batch):.4f}")
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="steps per round (cifar10: half)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cases", default="digits,cifar10")
    ap.add_argument("--cifar-width", type=int, default=64,
                    help="g_width/d_width of the SN-GAN CNN (64 = the paper's)")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    cases = args.cases.split(",")
    if "digits" in cases:
        cfg = C.load(PRESETS / "dcgan_notebook.toml")
        cfg.set("run.device", args.device)
        run_case("digits / dcgan_notebook.toml", cfg, args.rounds, args.steps)
    if "cifar10" in cases:
        cfg = C.load(PRESETS / "cifar10_sngan.toml")
        with tempfile.TemporaryDirectory() as tmp:
            if not is_present("cifar10", dataset_root(cfg.data.root)):
                print("(CIFAR-10 not in the dataset cache: using 50,000 images in its format "
                      f"written to {tmp})")
                write_cifar_format(Path(tmp))
                cfg.set("data.root", tmp)
            cfg.update({"run.device": args.device, "model.g_width": args.cifar_width,
                        "model.d_width": args.cifar_width})
            run_case("cifar10 / cifar10_sngan.toml", cfg, args.rounds, max(1, args.steps // 2))


if __name__ == "__main__":
    main()
