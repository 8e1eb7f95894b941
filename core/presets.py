"""The presets shipped in ``resources/presets/``: each a config TOML with a ``[guide]`` table
(``title`` and ``text``: what it sets up, what to watch, which control to flip mid-run and
what then happens) that the app shows beside the plots and the README lists.
``core.config`` accepts the ``[guide]`` table and ignores it for the config.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"
DEFAULT_PRESET = "ring8"


def list_presets() -> dict[str, Path]:
    """{preset name (the file's stem): path}, sorted by name."""
    return {p.stem: p for p in sorted(PRESETS_DIR.glob("*.toml"))}


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
