"""Image datasets held in memory as uint8 tensors, sampled on the training device.

The whole dataset is decoded once into a ``uint8`` tensor [N, C, H, W] that lives on the
training device (MNIST is 47 MB, CIFAR-10 150 MB); a batch is then one random index draw and one
gather, so data loading never starves the training step. Batches are drawn with replacement
from the run's generator, which keeps the stream deterministic and resumable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class DatasetError(RuntimeError):
    """A dataset that cannot be found or read; the message says what and where (one line)."""


class DownloadCancelled(DatasetError):
    """The user cancelled a download or decode through ``prepare_dataset(..., cancel=event)``."""


class ImageTensorSampler:
    kind = "image"

    def __init__(self, name: str, images_uint8: torch.Tensor, device: torch.device,
                 notes: list[str] | None = None):
        if images_uint8.dtype != torch.uint8 or images_uint8.dim() != 4:
            raise ValueError("images must be a uint8 tensor [N, C, H, W]")
        if images_uint8.shape[0] == 0:
            raise DatasetError(f"dataset '{name}' holds no images")
        self.name = name
        self.device = device
        self.images = images_uint8.to(device).contiguous()
        self.shape = tuple(self.images.shape[1:])
        self.notes = list(notes or [])  # e.g. "skipped 3 unreadable files ..."

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, self.images.shape[0], (n,), generator=generator, device=self.device)
        return self.images.index_select(0, idx).float().div_(127.5).sub_(1.0)


def digits_uint8(size: int = 28) -> torch.Tensor:
    """scikit-learn's 1,797 real 8x8 handwritten digits (shipped inside its wheel), upscaled.

    As in MNIST, each digit fills a box of 20/28 of the image, centred, so the notebook's
    28x28 DCGAN sees the same kind of picture it would on MNIST.
    """
    from sklearn.datasets import load_digits  # local import: only image mode needs it

    raw = torch.as_tensor(load_digits().images, dtype=torch.float32).unsqueeze(1) / 16.0
    inner = round(size * 20 / 28)
    up = F.interpolate(raw, size=(inner, inner), mode="bicubic", align_corners=False).clamp_(0, 1)
    pad = size - inner
    out = F.pad(up, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    return (out * 255).round_().to(torch.uint8)


# ITU-R BT.601 luma, as PIL's convert("L") uses.
_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def fit_images(images: torch.Tensor, channels: int = 0, size: int = 0,
               chunk: int = 4096) -> torch.Tensor:
    """Bring a uint8 [N, C, H, W] tensor to ``channels`` (0 = keep, 1, 3) and ``size`` x ``size``
    (0 = keep): centre-crop to a square, resize with antialiasing, gray <-> RGB. Works in
    chunks so a large dataset never needs a float copy of itself."""
    n, c, h, w = images.shape
    want_c = channels or c
    want = size or min(h, w)
    if (c, h, w) == (want_c, want, want):
        return images
    out = torch.empty((n, want_c, want, want), dtype=torch.uint8)
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    for start in range(0, n, chunk):
        x = images[start:start + chunk, :, top:top + side, left:left + side].float()
        if side != want:
            x = F.interpolate(x, size=(want, want), mode="bilinear", align_corners=False,
                              antialias=want < side)
        if want_c == 1 and c == 3:
            x = (x * _LUMA).sum(1, keepdim=True)
        elif want_c == 3 and c == 1:
            x = x.expand(-1, 3, -1, -1)
        out[start:start + chunk] = x.round().clamp_(0, 255).to(torch.uint8)
    return out
