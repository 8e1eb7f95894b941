"""Each image dataset's labelled train / held-out split, as the scorer sees it.

The scorer trains on the train split and every metric compares G's samples with the held-out
split (the GAN itself trains on the whole training set and never sees a label):

- ``digits``: scikit-learn's 1,797 digits, a fixed stratified split: 50 images of each digit
  held out (500), the other 1,297 for training;
- ``mnist`` / ``fashion_mnist``: the official 60,000 training and 10,000 test images;
- ``cifar10``: the official 50,000 training images and the 10,000 of ``test_batch``;
- ``folder``: no labels; a fixed fifth of the images is held out, the rest is "train" (for
  the floor);
- ``stacked_*``: three digits of the base set's split per image, with the mode label
  100 * red + 10 * green + blue (the scorer is the base set's, applied per channel).

Images come as the GAN sees them: uint8 [N, C, H, W] at the run's channels and size
(``core.data.fit_images``), labels int64 [N].
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import Config, image_size_for
from ..data import DatasetError, fit_images, prepare_dataset
from ..data.downloads import _NumpyOnlyUnpickler, is_present, manual_hint, tv_class
from ..data.images import digits_uint8
from ..data.stacked import STACKED_BASE, stack_triples
from ..paths import dataset_root

DIGITS_HELD_PER_CLASS = 50
SPLIT_SEED = 1797
FOLDER_HELD_SHARE = 0.2
STACKED_HELD = 10_000  # stacked held-out / train images (drawn from the base split's digits)


@dataclass
class LabelledSplits:
    """A dataset's scorer splits (``classes`` 0 for ``folder``: no labels)."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor | None
    held_x: torch.Tensor
    held_y: torch.Tensor | None
    classes: int

    def fingerprint(self) -> str:
        """sha256 of the images and labels (what a cached scorer was trained and scored on)."""
        h = hashlib.sha256()
        for t in (self.train_x, self.train_y, self.held_x, self.held_y):
            if t is not None:
                h.update(str(tuple(t.shape)).encode())
                h.update(t.contiguous().numpy().tobytes())
        return h.hexdigest()


def _digits(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    return digits_uint8(size), torch.as_tensor(load_digits().target, dtype=torch.int64)


def _stratified(labels: torch.Tensor, per_class: int, seed: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    held = []
    for c in range(int(labels.max()) + 1):
        idx = torch.nonzero(labels == c).flatten()
        held.append(idx[torch.randperm(idx.numel(), generator=gen)[:per_class]])
    held_idx = torch.cat(held).sort().values
    mask = torch.ones(labels.numel(), dtype=torch.bool)
    mask[held_idx] = False
    return torch.nonzero(mask).flatten(), held_idx


def _torchvision_split(name: str, root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if not is_present(name, root):
        raise DatasetError(f"{name} is not on disk for its scorer: {manual_hint(name, root)}")
    if name == "cifar10":
        cls = tv_class(name)
        files = [f for f, _ in (cls.train_list if train else cls.test_list)]
        xs, ys = [], []
        for filename in files:
            path = root / cls.base_folder / filename
            try:
                with open(path, "rb") as fh:
                    entry = _NumpyOnlyUnpickler(io.BufferedReader(fh), encoding="latin1").load()
                xs.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                ys.append(np.asarray(entry["labels"], dtype=np.int64))
            except FileNotFoundError:
                raise DatasetError(f"{path} is missing: the cifar10 scorer needs the test split "
                                   f"too ({manual_hint(name, root)})") from None
            except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError,
                    TypeError) as exc:
                raise DatasetError(f"cannot read {path} ({type(exc).__name__}: {exc})") from None
        return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))
    try:
        ds = tv_class(name)(str(root), train=train, download=False)
    except (RuntimeError, OSError, ValueError, AssertionError, IndexError) as exc:
        raw = root / tv_class(name).__name__ / "raw"
        raise DatasetError(f"cannot read {name} from {raw} ({exc})") from None
    return ds.data.unsqueeze(1).contiguous(), ds.targets.to(torch.int64)


def base_splits(cfg: Config, name: str | None = None) -> LabelledSplits:
    """The labelled splits of ``name`` (default: the config's dataset; a stacked set's base
    is asked for by its base name) at the config's channels and size."""
    data = cfg.data
    name = name or data.dataset
    size = image_size_for(cfg)
    channels = data.channels
    if name == "digits":
        x, y = _digits(size)
        train_idx, held_idx = _stratified(y, DIGITS_HELD_PER_CLASS, SPLIT_SEED)
        x = fit_images(x, channels, size)
        return LabelledSplits(name, x[train_idx], y[train_idx], x[held_idx], y[held_idx], 10)
    if name in ("mnist", "fashion_mnist", "cifar10"):
        root = dataset_root(data.root)
        tx, ty = _torchvision_split(name, root, True)
        hx, hy = _torchvision_split(name, root, False)
        return LabelledSplits(name, fit_images(tx, channels, size), ty,
                              fit_images(hx, channels, size), hy, 10)
    if name == "folder":
        images = prepare_dataset(cfg).images
        gen = torch.Generator().manual_seed(SPLIT_SEED)
        perm = torch.randperm(images.shape[0], generator=gen)
        held = max(1, int(round(FOLDER_HELD_SHARE * images.shape[0])))
        if images.shape[0] < 2:
            raise DatasetError(f"the image folder {data.root} holds {images.shape[0]} image: "
                               f"scoring needs at least 2")
        return LabelledSplits(name, images[perm[held:]], None, images[perm[:held]], None, 0)
    raise DatasetError(f"dataset '{name}' has no scorer")


def stacked_splits(cfg: Config) -> LabelledSplits:
    """A stacked dataset's held-out / train stacks from its base set's held-out / train
    digits (mode labels 0..999)."""
    base_cfg = cfg.copy()
    base_cfg.data.channels = 1
    base = base_splits(base_cfg, STACKED_BASE[cfg.data.dataset])
    tx, ty = stack_triples(base.train_x, STACKED_HELD, SPLIT_SEED + 1, base.train_y)
    hx, hy = stack_triples(base.held_x, STACKED_HELD, SPLIT_SEED + 2, base.held_y)
    return LabelledSplits(cfg.data.dataset, tx, ty, hx, hy, 1000)
