"""Where the files shipped with the playground are: presets, the reproduction sweeps and their
base configs, the style sheet and the icons. The one module that knows it.

In the repository they live in the top-level ``resources/`` folder. The wheel ships the same
folder as ``core/_resources/`` (``setup.py`` maps it there), and this module finds it with
:mod:`importlib.resources`, so a plain ``pip install`` works from any directory. A source
checkout (``python main.py``, the tests, an editable install) has no ``core/_resources`` and
reads ``resources/`` beside ``core/``.

Callers get real file-system paths: sweep files name their base config relative to
themselves, and Qt loads icons by file name. pip always unpacks wheels, so the packaged files
are on disk; a zip import (which importlib.resources could also read) is not supported.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGED = "_resources"  # the folder's name inside the installed ``core`` package
ICON_NAME = "lipschitz-playground"  # the icon's files and the app's desktop id
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # PNGs beside the SVG


class MissingResource(FileNotFoundError):
    """A file the installation should hold is not there (a broken or partial install)."""


def resource_root() -> Path:
    """The folder holding ``presets/``, ``reproduce/``, ``style/`` and ``icons/``."""
    core = resources.files("core")
    packaged = core / PACKAGED
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(str(core)).parent / "resources"
    if source.is_dir():
        return source
    raise MissingResource(f"the playground's resources are missing: neither {packaged} nor "
                          f"{source} exists; reinstall lipschitz-playground")


def resource(*parts: str) -> Path:
    """The shipped file or folder ``parts`` (e.g. ``resource("style", "dark.qss")``);
    :class:`MissingResource` naming it when the installation lacks it."""
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise MissingResource(f"{path} is missing from the installation; reinstall "
                              f"lipschitz-playground")
    return path


def presets_dir() -> Path:
    return resource("presets")


def reproduce_dir() -> Path:
    """The reproduction report's sweep files and their base configs."""
    return resource("reproduce")


def style_sheet() -> Path:
    return resource("style", "dark.qss")


def icons_dir() -> Path:
    return resource("icons")


def icon_svg() -> Path:
    return resource("icons", f"{ICON_NAME}.svg")


def icon_png(size: int) -> Path:
    return resource("icons", f"{ICON_NAME}-{size}.png")
