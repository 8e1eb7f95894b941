"""Where the app keeps its runs: ``$SNGAN_GUI_HOME/runs/<timestamp-name>/``.

Delegates to ``core.paths`` when the engine provides it, so the GUI and the engine agree on
one folder layout; the fallback below follows the same contract (DESIGN.md, "command line").
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path


def app_home() -> Path:
    """The app's data folder: ``$SNGAN_GUI_HOME`` or the platform's user data folder."""
    try:  # the engine's definition wins once it exists
        from core import paths as core_paths  # type: ignore[attr-defined]

        for name in ("app_home", "home", "app_dir"):
            fn = getattr(core_paths, name, None)
            if callable(fn):
                return Path(fn())
    except ImportError:
        pass
    env = os.environ.get("SNGAN_GUI_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "sngan-gui"


def runs_dir() -> Path:
    try:
        from core import paths as core_paths  # type: ignore[attr-defined]

        fn = getattr(core_paths, "runs_dir", None)
        if callable(fn):
            return Path(fn())
    except ImportError:
        pass
    return app_home() / "runs"


def new_run_dir(name: str) -> Path:
    """A fresh, not yet existing run folder ``runs/<YYYYmmdd-HHMMSS>-<name>``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = runs_dir()
    path = root / f"{stamp}-{slug}"
    i = 2
    while path.exists():
        path = root / f"{stamp}-{slug}-{i}"
        i += 1
    return path
