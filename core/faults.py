"""What stops a training step: divergence (non-finite losses or weights) and a failing device.

Both leave the run folder's last good checkpoint as it was; front ends continue from it
(``TrainingSession.continue_from_checkpoint``). ``core.trainer`` re-exports these names.
"""

from __future__ import annotations

import torch


class Diverged(RuntimeError):
    """Raised by :meth:`Trainer.log_record` when a loss became NaN or infinite, and by
    :meth:`Trainer.check_finite` (before a checkpoint) when a loss or a weight did."""


class DeviceStepError(RuntimeError):
    """The device failed inside a training step (out of memory, a CUDA/MPS error).

    The step may have been cut half-way, so the trainer's state is no longer one of the run's
    states: continue from the last good checkpoint (``TrainingSession.continue_from_checkpoint``
    with another device or a smaller batch). ``reason`` is "out of memory" or "device error";
    ``device`` the device's name; ``step`` the number of steps completed before it."""

    def __init__(self, reason: str, device: str, step: int, detail: str):
        self.reason, self.device, self.step, self.detail = reason, device, step, detail
        super().__init__(f"{reason} on {device} in step {step + 1}: {detail}")


_DEVICE_ERROR_WORDS = ("CUDA", "cuDNN", "CUBLAS", "cublas", "MPS", "HIP", "XPU")


def device_failure(exc: BaseException) -> str | None:
    """Whether ``exc`` is the device failing (rather than a bug): "out of memory",
    "device error" or None."""
    text = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or (
            isinstance(exc, RuntimeError) and ("out of memory" in text
                                               or "can't allocate memory" in text)):
        return "out of memory"
    accelerator_error = getattr(torch, "AcceleratorError", None)
    if accelerator_error is not None and isinstance(exc, accelerator_error):
        return "device error"
    if isinstance(exc, RuntimeError) and any(word in text for word in _DEVICE_ERROR_WORDS):
        return "device error"
    return None
