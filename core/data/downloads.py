"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision, with progress, cancel and clear errors.

Files live where torchvision puts them under the dataset root (``data.root``, or the app's
``datasets/`` folder when it is "")::

    <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte         (or the .gz files)
    <root>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte  (or the .gz files)
    <root>/cifar-10-batches-py/data_batch_1 ... data_batch_5               (or <root>/cifar-10-python.tar.gz)

Downloading is torchvision's own code (mirror list, https -> http fallback, md5 check of each
download, unpacking). Only its innermost byte copy, ``torchvision.datasets.utils._urlretrieve``,
is swapped while a download runs (under a lock) for one that reports progress to a callback,
checks a cancel event between 32 KB chunks, writes to ``*.part`` and renames at the end (a
cancelled download leaves nothing half-written), and has a socket timeout so a dead network
fails instead of hanging.

Reading: MNIST/Fashion-MNIST go through ``torchvision.datasets.MNIST/FashionMNIST`` (their
presence check looks only at file names, so hand-placed files load the same way). For
CIFAR-10, torchvision's class refuses any batch file whose md5 differs from the official
release, so a re-packed copy (or the small files the tests write) would be "not found"; we
therefore read the batch pickles with the same steps torchvision takes after that check
(``pickle.load(encoding="latin1")["data"]`` -> [N, 3, 32, 32]) and check their structure
instead, through a restricted unpickler that only builds numpy arrays. Downloads are still
md5-checked by torchvision (archive and files).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import socket
import tarfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .images import DatasetError, DownloadCancelled

Progress = Callable[[int, int, str], None]

TORCHVISION_SETS = ("mnist", "fashion_mnist", "cifar10")
SOCKET_TIMEOUT_S = 30.0
CHUNK = 32 * 1024

_HOOK_LOCK = threading.Lock()


class _Cancelled(Exception):
    """Raised inside torchvision's download code; deliberately not a RuntimeError/OSError,
    which torchvision would catch to try the next mirror."""


def tv_class(name: str):
    from torchvision import datasets

    return {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST,
            "cifar10": datasets.CIFAR10}[name]


def required_files(name: str, root: Path) -> list[Path]:
    """The files that must be on disk for ``name`` to load without a download."""
    cls = tv_class(name)
    if name == "cifar10":
        return [root / cls.base_folder / f for f, _ in cls.train_list]
    raw = root / cls.__name__ / "raw"
    return [raw / os.path.splitext(f)[0] for f, _ in cls.resources]


def is_present(name: str, root: Path) -> bool:
    return all(p.is_file() for p in required_files(name, root))


def manual_hint(name: str, root: Path) -> str:
    """Where to put the files by hand (exact folder and file names), as one sentence."""
    cls = tv_class(name)
    if name == "cifar10":
        return (f"put {cls.filename} (from {cls.url}) in {root}, or its unpacked "
                f"{cls.base_folder}/ folder (data_batch_1 ... data_batch_5) in {root}")
    raw = root / cls.__name__ / "raw"
    files = ", ".join(f for f, _ in cls.resources)
    return (f"put {files} (from {cls.mirrors[0]}; .gz or unpacked) in {raw}")


# ------------------------------------------------------------------------------ downloading
def _fetch(url: str, filename: str, progress: Progress | None,
           cancel: threading.Event | None) -> None:
    """Replacement for torchvision's ``_urlretrieve`` (same request, same result file)."""
    from torchvision.datasets.utils import USER_AGENT

    name = os.path.basename(filename)
    part = f"{filename}.part"
    message = f"downloading {name}"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=SOCKET_TIMEOUT_S) as response, \
                open(part, "wb") as fh:
            total = int(response.length or 0)
            done, shown = 0, 0.0
            if progress:
                progress(0, total, message)
            while True:
                if cancel is not None and cancel.is_set():
                    raise _Cancelled()
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                fh.write(chunk)
                done += len(chunk)
                now = time.monotonic()
                if progress and now - shown >= 0.1:  # at most ~10 callbacks a second
                    shown = now
                    progress(done, total, message)
        os.replace(part, filename)
        if progress:
            progress(done, total or done, f"unpacking {name}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(part)


@contextlib.contextmanager
def _download_hooks(progress: Progress | None, cancel: threading.Event | None):
    from torchvision.datasets import utils as tv_utils

    with _HOOK_LOCK:
        original = tv_utils._urlretrieve
        old_timeout = socket.getdefaulttimeout()

        def urlretrieve(url, filename, chunk_size=CHUNK):
            _fetch(url, os.fspath(filename), progress, cancel)

        tv_utils._urlretrieve = urlretrieve
        # torchvision resolves redirects with a HEAD request that has no timeout of its own.
        socket.setdefaulttimeout(SOCKET_TIMEOUT_S)
        try:
            yield
        finally:
            tv_utils._urlretrieve = original
            socket.setdefaulttimeout(old_timeout)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, urllib.error.URLError) and not text:
        text = repr(exc.reason)
    return text[:300] or type(exc).__name__


def _download(name: str, root: Path, progress: Progress | None,
              cancel: threading.Event | None):
    """Download with torchvision and return its dataset object (train split)."""
    cls = tv_class(name)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create the dataset folder {root} for {name}: "
                           f"{_one_line(exc)}") from None
    try:
        with _download_hooks(progress, cancel):
            return cls(str(root), train=True, download=True)
    except _Cancelled:
        raise DownloadCancelled(f"download of {name} cancelled; nothing was kept "
                                f"except complete files in {root}") from None
    except (urllib.error.URLError, OSError, RuntimeError, EOFError, tarfile.TarError,
            zlib.error, ValueError) as exc:
        raise DatasetError(f"could not download {name} ({_one_line(exc)}); with no network, "
                           f"{manual_hint(name, root)}") from None


# ------------------------------------------------------------------------------ reading
class _NumpyOnlyUnpickler(pickle.Unpickler):
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in the file")
        if module.startswith("numpy") and name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct  # numpy 2 name of numpy.core

            return _reconstruct
        return super().find_class(module, name)


def read_cifar10(folder: Path) -> torch.Tensor:
    """The training batches of ``cifar-10-batches-py`` as uint8 [N, 3, 32, 32]."""
    parts = []
    for filename, _md5 in tv_class("cifar10").train_list:
        path = folder / filename
        try:
            with open(path, "rb") as fh:
                entry = _NumpyOnlyUnpickler(io.BufferedReader(fh), encoding="latin1").load()
            data = entry["data"] if isinstance(entry, dict) else None
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                    or data.shape[1] != 3 * 32 * 32:
                raise ValueError("it holds no 'data' array of uint8 [N, 3072]")
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, KeyError,
                AttributeError, IndexError) as exc:
            raise DatasetError(f"cannot read CIFAR-10 file {path} ({_one_line(exc)}); delete "
                               f"{folder} to download it again") from None
        parts.append(data)
    return torch.from_numpy(np.concatenate(parts).reshape(-1, 3, 32, 32))


def load_torchvision(name: str, root: Path, progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> torch.Tensor:
    """The training split of ``name`` as uint8 [N, C, H, W], downloading it on first use."""
    dataset = None
    if not is_present(name, root):
        dataset = _download(name, root, progress, cancel)
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"loading {name} cancelled")
    if progress:
        progress(0, 0, f"reading {name}")
    if name == "cifar10":
        if dataset is not None:  # torchvision just downloaded, md5-checked and read it
            return torch.from_numpy(np.ascontiguousarray(dataset.data.transpose(0, 3, 1, 2)))
        return read_cifar10(root / tv_class(name).base_folder)
    if dataset is None:
        try:
            dataset = tv_class(name)(str(root), train=True, download=False)
        except (RuntimeError, OSError, AssertionError, ValueError, TypeError, KeyError,
                IndexError) as exc:
            raw = root / tv_class(name).__name__ / "raw"
            raise DatasetError(f"cannot read {name} from {raw} ({_one_line(exc)}); delete the "
                               f"files there to download them again") from None
    return dataset.data.unsqueeze(1).contiguous()
