"""The experiment presets shipped in ``resources/presets/`` (TOML configs)."""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"
DEFAULT_PRESET = "ring8"


def list_presets() -> dict[str, Path]:
    """{preset name: its TOML file}, sorted by name."""
    return {p.stem: p for p in sorted(_DIR.glob("*.toml"))}
