"""The app's folders (Qt-free; the engine and the GUI both use these).

``$SNGAN_GUI_HOME``, when set, is the folder for the app's runs, dataset cache and settings
(docs/command-line.md, "Headless training"); otherwise the platform's user data folder:

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


class AppHomeError(ValueError):
    """``$SNGAN_GUI_HOME`` (or the default folder) cannot hold the app's folders; one line."""


def _made(path: Path, create: bool) -> Path:
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            check_app_home()  # the likelier cause, named as such
            raise AppHomeError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def check_app_home() -> Path:
    """The app's folder, checked to be a folder or creatable: AppHomeError (one line naming
    ``$SNGAN_GUI_HOME`` when it is set) otherwise. Front ends call it before they start."""
    home = app_home()
    env = os.environ.get(ENV_HOME, "").strip()
    named = f"{ENV_HOME}={env}" if env else f"the app's folder {home}"
    blocker = home
    while not blocker.exists() and blocker != blocker.parent:
        blocker = blocker.parent
    if blocker.exists() and not blocker.is_dir():
        what = "is" if blocker == home else f"lies under {blocker}, which is"
        raise AppHomeError(f"{named} {what} a file, not a folder; point {ENV_HOME} at a folder "
                           f"(or unset it)")
    return home


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
