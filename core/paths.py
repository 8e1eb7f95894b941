"""The app's folders (Qt-free; the engine and the GUI both use these).

``$SNGAN_GUI_HOME``, when set, is the folder for the app's runs, dataset cache and settings
(README, "Headless training"); otherwise the platform's user data folder:

- Linux and other Unix: ``$XDG_DATA_HOME/sngan-gui`` (default ``~/.local/share/sngan-gui``)
- macOS: ``~/Library/Application Support/sngan-gui``
- Windows: ``%APPDATA%\\sngan-gui``

Inside it: ``runs/`` (one folder per GUI run) and ``datasets/`` (the download cache of the
image datasets, used when ``data.root`` is ""). The functions only compute paths; pass
``create=True`` to make the folder exist.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "sngan-gui"
ENV_HOME = "SNGAN_GUI_HOME"


def _platform_data_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _made(path: Path, create: bool) -> Path:
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def app_home(create: bool = False) -> Path:
    """``$SNGAN_GUI_HOME`` or the platform user data folder + ``sngan-gui`` (absolute)."""
    env = os.environ.get(ENV_HOME, "").strip()
    home = Path(env).expanduser() if env else _platform_data_dir() / APP_DIR_NAME
    return _made(home.absolute(), create)


def runs_dir(create: bool = False) -> Path:
    """Where the GUI writes its runs: ``app_home()/runs``."""
    return _made(app_home() / "runs", create)


def datasets_dir(create: bool = False) -> Path:
    """The image dataset cache used when ``data.root`` is "": ``app_home()/datasets``."""
    return _made(app_home() / "datasets", create)


def dataset_root(root: str, create: bool = False) -> Path:
    """The folder a ``data.root`` value names ("" = :func:`datasets_dir`; ``~`` expanded)."""
    text = (root or "").strip()
    path = Path(text).expanduser().absolute() if text else datasets_dir()
    return _made(path, create)
