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
aside, the new one not yet in place), ``trim:NAME`` (a resume is about to cut NAME).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_STAGES = "SNGAN_GUI_TEST_PAUSE"
ENV_FILE = "SNGAN_GUI_TEST_PAUSE_FILE"
MAX_WAIT_S = 120.0

_reached: dict[str, int] = {}


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
