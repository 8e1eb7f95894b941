"""Test-only pause points: let a test stop a real training process at an exact moment.

Fault tests (tests/test_faults.py) send real signals to ``python main.py train`` while it is
writing a checkpoint or trimming its history. To make that moment deterministic, the writers
call :func:`pause_point` at a few named places; it does nothing unless the environment
variable ``SNGAN_GUI_TEST_PAUSE`` lists that place:

    SNGAN_GUI_TEST_PAUSE="checkpoint:trainer.pt@2,log@3"
    SNGAN_GUI_TEST_PAUSE_FILE=/tmp/x/paused

``NAME@K`` pauses at the K-th time the process reaches NAME (``NAME`` alone: every time). At a
pause the process writes NAME to the file ``SNGAN_GUI_TEST_PAUSE_FILE`` and waits until the
test deletes that file (at most two minutes), so the test can send its signal while the
process is known to be there. Places: ``log`` (a metrics line was written),
``checkpoint:G.pt`` / ``checkpoint:D.pt`` / ``checkpoint:trainer.pt`` (that file of a new
checkpoint is written, the set not yet swapped in), ``checkpoint:swap`` (the old set moved
aside, the new one not yet in place), ``trim:NAME`` (a resume is about to cut NAME),
``prepare`` (the app's run loop is about to prepare its dataset), ``change`` (a step that
applied a scheduled ``--change`` is done).

Device failures are injected the same way: ``SNGAN_GUI_TEST_DEVICE_FAULT="oom@N"`` makes the
trainer's step that would complete step N raise ``torch.OutOfMemoryError`` (``error@N``: a
CUDA-style ``RuntimeError``), once per process, so tests can provoke what a GPU does when a
batch does not fit (:func:`device_fault_point`). Unset, both hooks do nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_STAGES = "SNGAN_GUI_TEST_PAUSE"
ENV_FILE = "SNGAN_GUI_TEST_PAUSE_FILE"
ENV_DEVICE_FAULT = "SNGAN_GUI_TEST_DEVICE_FAULT"
MAX_WAIT_S = 120.0

_reached: dict[str, int] = {}
_device_faults_fired: set[str] = set()


def device_fault_point(step: int) -> None:
    """Raise the device error ``SNGAN_GUI_TEST_DEVICE_FAULT`` asks for at ``step`` (once)."""
    spec = os.environ.get(ENV_DEVICE_FAULT)
    if not spec or spec in _device_faults_fired:
        return
    kind, _, at = spec.strip().partition("@")
    if int(at) != step:
        return
    _device_faults_fired.add(spec)
    import torch

    if kind == "oom":
        raise torch.OutOfMemoryError(
            f"CUDA out of memory. Tried to allocate 2.00 GiB (injected by {ENV_DEVICE_FAULT})")
    raise RuntimeError(f"CUDA error: an illegal memory access was encountered (injected by "
                       f"{ENV_DEVICE_FAULT})")


def pause_point(name: str) -> None:
    spec = os.environ.get(ENV_STAGES)
    if not spec:
        return
    count = _reached[name] = _reached.get(name, 0) + 1
    for item in spec.split(","):
        stage, _, nth = item.strip().partition("@")
        if stage == name and (not nth or int(nth) == count):
            _wait(name)
            return


def _wait(name: str) -> None:
    marker = Path(os.environ[ENV_FILE])
    tmp = marker.with_name(marker.name + ".writing")
    tmp.write_text(name)
    os.replace(tmp, marker)  # the test never sees an empty marker
    deadline = time.monotonic() + MAX_WAIT_S
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
