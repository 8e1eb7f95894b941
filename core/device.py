"""Choosing the torch device: ``auto`` picks cuda, then mps, then cpu."""

from __future__ import annotations

import torch


class DeviceError(RuntimeError):
    pass


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("run.device is 'cuda' but no CUDA GPU is available here")
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None
                              and torch.backends.mps.is_available()):
        raise DeviceError("run.device is 'mps' but Apple's MPS backend is not available here")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"run.device must be one of auto, cpu, cuda, mps; got '{name}'")
    return torch.device(name)
