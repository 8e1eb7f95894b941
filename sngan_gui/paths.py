"""Where the app keeps its runs: ``$SNGAN_GUI_HOME/runs/<timestamp-name>/``.

The folder layout is the engine's (``core.paths``); this module only names new run folders.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from core.paths import runs_dir

__all__ = ["new_run_dir", "runs_dir"]

_given: set[Path] = set()  # names handed out: two runs started within a second get two folders


def new_run_dir(name: str) -> Path:
    """A fresh, not yet existing run folder ``runs/<YYYYmmdd-HHMMSS>-<name>``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = runs_dir()
    path = root / f"{stamp}-{slug}"
    i = 2
    while path.exists() or path in _given:
        path = root / f"{stamp}-{slug}-{i}"
        i += 1
    _given.add(path)
    return path
