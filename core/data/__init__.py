"""Data sources: 2D Gaussian mixtures and image datasets, behind one sampler interface.

A sampler has ``kind`` ("2d" or "image"), ``shape`` (one sample's shape) and
``sample(n, generator) -> Tensor`` on the training device, values in the model's range
(2D: raw coordinates; images: [-1, 1]).

Image datasets (``digits``, ``mnist``, ``fashion_mnist``, ``cifar10``, ``folder``,
``stacked_digits``, ``stacked_mnist``) are decoded once into a uint8 tensor [N, C, H, W] by
:func:`prepare_dataset`, which a front end calls away from its UI thread to show
download/decoding progress with a Cancel button (the app: the run loop in its training
process, ``core.runloop``, before the first step)::

    cancel = threading.Event()
    data = prepare_dataset(cfg, progress=lambda done, total, message: ..., cancel=cancel)

``progress(done, total, message)``: ``done``/``total`` are bytes while ``message`` starts with
"downloading", images while decoding; ``total`` is 0 when unknown (a busy indicator). Setting
``cancel`` makes it raise :class:`DownloadCancelled` within a fraction of a second (a network
connect can take up to its 30 s timeout). The most recently prepared dataset is kept in
memory, so the trainer's :func:`make_sampler` right after it (and the next run on the same
data) costs nothing.

Decoded ``folder`` and ``digits`` tensors are also cached on disk in
``<datasets_dir()>/decoded/`` (a few newest entries; keyed on the files' names, sizes and
modification times, the channels and the size), because decoding them (per image file; for
digits the scikit-learn import and upscaling) is what makes a start slow, far slower than
loading the cached tensor (``python benchmarks/data_loader.py``). MNIST (idx files) and
CIFAR-10 (pickled arrays) load fast and are read directly.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..config import DATASETS_2D, Config, DataConfig, image_size_for
from ..paths import dataset_root, datasets_dir
from .downloads import (TORCHVISION_SETS, is_present, load_torchvision, manual_hint,
                        required_files)
from .folder import IMAGE_EXTENSIONS, find_images, load_folder
from .images import DatasetError, DownloadCancelled, ImageTensorSampler, digits_uint8, fit_images
from .stacked import STACKED_BASE, STACKED_IMAGES, STACKED_SEED, stack_triples
from .toy2d import Toy2DSampler, mode_centres, mode_std

__all__ = ["DatasetError", "DownloadCancelled", "IMAGE_EXTENSIONS", "ImageData",
           "ImageTensorSampler", "Toy2DSampler", "TqdmProgress", "clear_cache", "dataset_root",
           "make_sampler", "manual_hint", "mode_centres", "mode_std", "prepare_dataset"]

Progress = Callable[[int, int, str], None]
log = logging.getLogger(__name__)


@dataclass
class ImageData:
    """A decoded image dataset: ``images`` uint8 [N, C, H, W] on the CPU."""

    name: str
    images: torch.Tensor
    source: Path | None = None  # the folder it was read from (None for digits)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, reason), folder only
    notes: list[str] = field(default_factory=list)  # one-line remarks to show the user

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])


_cache_lock = threading.Lock()
_cache: tuple[tuple, ImageData] | None = None


def clear_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def _geometry(cfg: Config | DataConfig) -> tuple[DataConfig, int]:
    # A bare DataConfig does not know the model: image_size_for's fallback for digits/folder
    # is then 28x28, dcgan's size.
    cfg = cfg if isinstance(cfg, Config) else Config(data=cfg)
    return cfg.data, image_size_for(cfg)


DISK_CACHED = ("digits", "folder", "stacked_digits")
DISK_CACHE_KEEP = 4


def _disk_cache_file(key: tuple) -> Path:
    digest = hashlib.sha1(repr(key).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return datasets_dir() / "decoded" / f"{key[0]}-{digest}.pt"


def _disk_cache_load(key: tuple) -> ImageData | None:
    path = _disk_cache_file(key)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        images = state["images"]
        if state.get("key") != repr(key) or images.dtype != torch.uint8 or images.dim() != 4:
            return None
        os.utime(path)  # recently used: pruned last
        return ImageData(key[0], images, Path(state["source"]) if state["source"] else None,
                         [(Path(p), why) for p, why in state["skipped"]], list(state["notes"]))
    except Exception:  # a cache: any unreadable entry is simply a miss
        return None


def _disk_cache_save(key: tuple, data: ImageData) -> None:
    path = _disk_cache_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save({"key": repr(key), "images": data.images,
                    "source": str(data.source) if data.source else "",
                    "skipped": [(str(p), why) for p, why in data.skipped],
                    "notes": list(data.notes)}, tmp)
        os.replace(tmp, path)
        entries = sorted(path.parent.glob("*.pt"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[DISK_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.info("could not cache the decoded %s in %s: %s", key[0], path.parent, exc)


def _sklearn_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return "?"


def _stat_key(paths: list[Path]) -> tuple:
    out = []
    for p in paths:
        st = p.stat()
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _key_files(name: str, root: Path, files: list[Path] | None) -> list[Path] | None:
    """The files whose size and mtime key a dataset's caches (None: not all on disk yet)."""
    if name == "folder":
        return files
    base = STACKED_BASE.get(name, name)
    if base in TORCHVISION_SETS:
        return required_files(base, root) if is_present(base, root) else None
    return []


def _cache_key(name: str, root: Path, data: DataConfig, size: int,
               key_files: list[Path] | None) -> tuple | None:
    """The caches' key: dataset, where it came from, the requested geometry and the files'
    (path, size, mtime); None when no cache entry can match (files missing or unreadable)."""
    if key_files is None:
        return None
    try:
        return (name, str(root) if "digits" not in name else _sklearn_version(), data.channels,
                size, _stat_key(key_files))
    except OSError:
        return None


def prepare_dataset(cfg: Config | DataConfig, progress: Progress | None = None,
                    cancel: threading.Event | None = None) -> ImageData | None:
    """Make an image dataset ready: download it on first use, decode it, fit it to the
    configured channels and size. Returns None for 2D datasets. Raises :class:`DatasetError`
    (one line: what failed and where to put files by hand) or :class:`DownloadCancelled`."""
    global _cache
    data, size = _geometry(cfg)
    name = data.dataset
    if name in DATASETS_2D:
        return None
    root = dataset_root(data.root)
    files: list[Path] | None = None
    if name == "folder":
        if not data.root.strip():
            raise DatasetError("data.dataset = 'folder' needs data.root = the folder of images")
        files = find_images(root) if root.is_dir() else []
    key = _cache_key(name, root, data, size, _key_files(name, root, files))
    with _cache_lock:
        if key is not None and _cache is not None and _cache[0] == key:
            return _cache[1]
    if key is not None and name in DISK_CACHED:
        cached = _disk_cache_load(key)
        if cached is not None:
            for note in cached.notes:
                log.warning("%s", note)
            with _cache_lock:
                _cache = (key, cached)
            return cached

    skipped: list[tuple[Path, str]] = []
    notes: list[str] = []
    if name == "digits":
        images, source = digits_uint8(size), None
    elif name == "folder":
        images, skipped = load_folder(root, size, data.channels, progress, cancel, files=files)
        source = root
        if skipped:
            examples = "; ".join(f"{p.name}: {why}" for p, why in skipped[:3])
            notes.append(f"skipped {len(skipped)} unreadable file(s) of {len(files)} in {root} "
                         f"(e.g. {examples})")
    elif name in TORCHVISION_SETS:
        images, source = load_torchvision(name, root, progress, cancel), root
    elif name == "stacked_digits":
        images, source = stack_triples(digits_uint8(size), STACKED_IMAGES, STACKED_SEED)[0], None
    elif name == "stacked_mnist":
        base = fit_images(load_torchvision("mnist", root, progress, cancel), 1, size)
        images, source = stack_triples(base, STACKED_IMAGES, STACKED_SEED)[0], root
    else:
        raise DatasetError(f"dataset '{name}' is not an image dataset this build knows")
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"preparing {name} cancelled")
    images = fit_images(images, data.channels, size)
    result = ImageData(name, images, source, skipped, notes)
    for note in notes:
        log.warning("%s", note)
    if key is None:  # first download: key the cache on the files now on disk
        key = _cache_key(name, root, data, size, _key_files(name, root, files))
    if key is not None:
        with _cache_lock:
            _cache = (key, result)
        if name in DISK_CACHED:
            _disk_cache_save(key, result)
    return result


class TqdmProgress:
    """A ``progress`` callback that draws tqdm bars on stderr (one per message), for the CLI."""

    def __init__(self, file=None):
        self.file = file or sys.stderr
        self.bar = None
        self.message = None

    def __call__(self, done: int, total: int, message: str) -> None:
        from tqdm import tqdm

        is_bytes = message.startswith("downloading")
        if not total and not is_bytes:
            return  # a short phase without a count ("reading mnist"): no bar
        if message != self.message:
            self.close()
            self.message = message
            self.bar = tqdm(total=total or None, desc=message, file=self.file, leave=False,
                            unit="B" if is_bytes else (" batch" if message.startswith("training")
                                                       else " img"), unit_scale=is_bytes,
                            unit_divisor=1024 if is_bytes else 1000, dynamic_ncols=True)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make_sampler(cfg: Config | DataConfig, device: torch.device,
                 progress: Progress | None = None, cancel: threading.Event | None = None):
    """The sampler for a config (pass the whole Config: the image size of ``digits`` and
    ``folder`` follows the model). Without ``progress``, downloads show tqdm bars on stderr."""
    data = cfg.data if isinstance(cfg, Config) else cfg
    if data.dataset in DATASETS_2D:
        return Toy2DSampler(data.dataset, device, data.drawn.points, data.drawn.std)
    own = progress is None
    progress = TqdmProgress() if own else progress
    try:
        prepared = prepare_dataset(cfg, progress, cancel)
    finally:
        if own:
            progress.close()
    return ImageTensorSampler(prepared.name, prepared.images, device, prepared.notes)
