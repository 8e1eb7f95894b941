"""Training a scorer: a small CNN classifier on a dataset's own training split, deterministic
from a fixed seed (its own generator for shuffling and augmentation; the global random state
is forked, so a run that trains its scorer first is bit-identical to one that loads it)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..data import DownloadCancelled
from .labelled import LabelledSplits
from .network import ScorerNet

SCORER_SEED = 5_318_008
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Recipe:
    """How a dataset's scorer trains: epochs over the train split, batch, peak learning rate
    (one-cycle), the network's width, random affine augmentation (rotation in degrees, scale,
    shift in pixels) and horizontal flips."""

    epochs: int
    batch: int = 64
    lr: float = 3e-3
    width: int = 16
    rotate: float = 10.0
    scale: float = 0.1
    shift: float = 2.0
    flip: bool = False


# digits: 99.4 % held-out accuracy after 8 epochs (120 s on 2 loaded cores;
# docs/image-quality.md). The others could not be measured here (no network): their epochs
# are estimates.
RECIPES = {
    "digits": Recipe(epochs=8),
    "mnist": Recipe(epochs=2, batch=128),
    "fashion_mnist": Recipe(epochs=4, batch=128, rotate=0.0, scale=0.0, shift=2.0, flip=True),
    "cifar10": Recipe(epochs=10, batch=128, width=32, rotate=0.0, scale=0.0, shift=3.0,
                      flip=True),
}


def _augment(x: torch.Tensor, recipe: Recipe, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    dev = x.device
    u = torch.rand(n, 5, generator=gen).to(dev) * 2 - 1
    angle = u[:, 0] * math.radians(recipe.rotate)
    scale = 1 + u[:, 1] * recipe.scale
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    tx, ty = u[:, 2] * 2 * recipe.shift / w, u[:, 3] * 2 * recipe.shift / h
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    if recipe.flip:
        theta[:, 0, :2] *= torch.where(u[:, 4] > 0, 1.0, -1.0).unsqueeze(1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def to_float(images: torch.Tensor, device) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float in [-1, 1] (as the GAN's sampler gives them)."""
    return images.to(device).float().div_(127.5).sub_(1.0)


@torch.no_grad()
def accuracy(net: ScorerNet, x: torch.Tensor, y: torch.Tensor, device, batch: int = 500) -> float:
    net.eval()
    right = 0
    for i in range(0, x.shape[0], batch):
        logits = net(to_float(x[i:i + batch], device))
        right += int((logits.argmax(1).cpu() == y[i:i + batch]).sum())
    return right / max(1, x.shape[0])


@contextlib.contextmanager
def forked_rng(device: torch.device, seed: int):
    """Run with the global random state seeded to ``seed`` and restored afterwards."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def train_classifier(splits: LabelledSplits, recipe: Recipe, device: torch.device,
                     progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> tuple[ScorerNet, float, float]:
    """(trained network in eval mode, held-out accuracy, seconds)."""
    t0 = time.perf_counter()
    label = f"training the {splits.name} scorer (first use)"
    n = splits.train_x.shape[0]
    steps_per_epoch = max(1, math.ceil(n / recipe.batch))
    total = recipe.epochs * steps_per_epoch
    with forked_rng(device, SCORER_SEED):
        net = ScorerNet(splits.train_x.shape[1], splits.classes, recipe.width).to(device)
        gen = torch.Generator().manual_seed(SCORER_SEED)
        opt = torch.optim.Adam(net.parameters(), lr=recipe.lr / 25, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=total)
        net.train()
        step = 0
        for _ in range(recipe.epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, recipe.batch):
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"training the {splits.name} scorer cancelled")
                idx = perm[i:i + recipe.batch]
                if idx.numel() < 2:  # BatchNorm needs two samples
                    continue
                x = _augment(to_float(splits.train_x[idx], device), recipe, gen)
                loss = F.cross_entropy(net(x), splits.train_y[idx].to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                if progress is not None:
                    progress(step, total, label)
    acc = accuracy(net, splits.held_x, splits.held_y, device)
    net.eval()
    return net, acc, time.perf_counter() - t0
