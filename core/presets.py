"""The presets shipped in ``resources/presets/``: each a config TOML with a ``[guide]`` table
(``title`` and ``text``: what it sets up, what to watch, which control to flip mid-run and
what then happens) that the app shows beside the plots; the README lists them by title and
docs/presets.md holds every guide in full (tests/test_presets.py checks both).
``core.config`` accepts the ``[guide]`` table and ignores it for the config, and loads a preset
by its name (``--config ring8``) where no file of that name exists.

``python main.py presets`` (``sngan-gui presets``) lists them with their titles and folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Sequence

from .cli_parser import OneLineParser
from .resource_paths import presets_dir

DEFAULT_PRESET = "ring8"


def list_presets() -> dict[str, Path]:
    """{preset name (the file's stem): path}, sorted by name."""
    return {p.stem: p for p in sorted(presets_dir().glob("*.toml"))}


def preset_path(text: str) -> Path | None:
    """The preset named ``text`` ("ring8" or "ring8.toml"), or None when there is none (or
    ``text`` looks like a path: a name has no folder in it)."""
    if not text or Path(text).name != text:
        return None
    return list_presets().get(text.removesuffix(".toml"))


def preset_guide(path: str | Path) -> tuple[str, str] | None:
    """(title, text) of a preset's or config's ``[guide]`` table, or None when it has none or
    the file cannot be read (the config loader reports unreadable files by name)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    guide = raw.get("guide")
    if not isinstance(guide, dict):
        return None
    title, text = guide.get("title"), guide.get("text")
    if not isinstance(title, str) or not isinstance(text, str):
        return None
    return title.strip(), text.strip()


def presets_main(argv: Sequence[str]) -> int:
    """``presets``: each preset's name and title, then the folder they are in."""
    parser = OneLineParser(prog="main.py presets",
                           description="List the shipped presets; give a name to --config "
                                       "(train, the app) or as a sweep file's base.")
    args = parser.parse_command(argv)
    if isinstance(args, int):  # --help (0) or a usage error (2)
        return args
    presets = list_presets()
    width = max(map(len, presets), default=0)
    for name, path in presets.items():
        title = (preset_guide(path) or ("", ""))[0]
        print(f"{name:<{width}}  {title}".rstrip())
    print(f"\n{len(presets)} presets in {presets_dir()}\n"
          f"use a name with --config, e.g. train --config {DEFAULT_PRESET} --out runs/demo")
    return 0
