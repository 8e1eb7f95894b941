"""``folder``: any folder of images (searched recursively), decoded once into a uint8 tensor.

Each image is oriented by its EXIF tag, flattened onto black if it has transparency, scaled so
its shorter side is the model's resolution and centre-cropped to a square (PIL's
``ImageOps.fit``, bicubic). Grayscale and RGB images may be mixed: with ``data.channels = 0``
the set is grayscale when every decoded image is gray (R = G = B), else RGB (gray images are
then repeated over the three channels). Files that cannot be decoded are skipped and counted;
hidden files and folders (names starting with ".") are ignored.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .images import DatasetError, DownloadCancelled, fit_images

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
BATCH = 64


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted, hidden entries skipped)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def decode_image(path: Path, size: int) -> np.ndarray:
    """One image as uint8 [size, size, 3] (RGB; gray images have R = G = B)."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft("RGB", (size, size))  # let libjpeg decode at a reduced scale
        im = ImageOps.exif_transpose(im)
        if im.mode.startswith("I;16") or im.mode == "I":
            im = im.convert("I").point(lambda v: v / 256).convert("L")
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            im = im.convert("RGBA")
            im = Image.alpha_composite(Image.new("RGBA", im.size, (0, 0, 0, 255)), im)
        im = ImageOps.fit(im.convert("RGB"), (size, size), Image.Resampling.BICUBIC)
        return np.asarray(im, dtype=np.uint8)


def load_folder(folder: Path, size: int, channels: int = 0,
                progress: Callable[[int, int, str], None] | None = None,
                cancel: threading.Event | None = None,
                files: list[Path] | None = None) -> tuple[torch.Tensor, list[tuple[Path, str]]]:
    """Decode every image under ``folder`` -> (uint8 [N, C, size, size], skipped files with
    the reason). Raises :class:`DatasetError` when the folder is missing or holds no readable
    image."""
    if not folder.is_dir():
        raise DatasetError(f"image folder not found: {folder} (data.root must name a folder "
                           f"of images for data.dataset = 'folder')")
    files = find_images(folder) if files is None else files
    if not files:
        raise DatasetError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) found in "
                           f"{folder} or its subfolders")
    out = np.empty((len(files), size, size, 3), dtype=np.uint8)
    ok = np.zeros(len(files), dtype=bool)
    skipped: list[tuple[Path, str]] = []

    def work(i: int):
        try:
            out[i] = decode_image(files[i], size)
            ok[i] = True
        except Exception as exc:  # any undecodable file is skipped, never a crash
            return files[i], f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        return None

    message = f"decoding {len(files)} images in {folder.name or folder}"
    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:  # PIL releases the GIL while decoding/resizing
        for start in range(0, len(files), BATCH):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(f"reading the images in {folder} cancelled")
            for bad in pool.map(work, range(start, min(start + BATCH, len(files)))):
                if bad is not None:
                    skipped.append(bad)
            if progress:
                progress(min(start + BATCH, len(files)), len(files), message)
    if not ok.any():
        first = skipped[0]
        raise DatasetError(f"none of the {len(files)} image files in {folder} could be read "
                           f"(e.g. {first[0].name}: {first[1]})")
    images = torch.from_numpy(out[ok]).permute(0, 3, 1, 2)
    gray = bool((images[:, 0] == images[:, 1]).all() and (images[:, 1] == images[:, 2]).all())
    want = channels or (1 if gray else 3)
    if want == 1:
        images = images[:, :1] if gray else fit_images(images, 1)
    return images.contiguous(), skipped
