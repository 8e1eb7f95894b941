"""What the app remembers between sessions (QSettings, INI format): the window's layout, the
last config, the recent runs and the export style.

The file is ``$SNGAN_GUI_HOME/settings.ini`` (``core.paths.app_home``), or any path given to
:class:`AppSettings`, so tests and scripts use a temporary one. A value that cannot be read
back (a config whose keys changed since, an unknown style) is ignored: the app starts with its
defaults rather than failing.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from core import config as config_mod
from core.config import Config, ConfigError
from core.paths import app_home

SETTINGS_FILE = "settings.ini"
MAX_RECENT_RUNS = 10
EXPORT_STYLES = ("report", "screen")


def settings_path() -> Path:
    return app_home() / SETTINGS_FILE


class AppSettings:
    """Typed access to the app's settings file (see the module docstring)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.qsettings = QSettings(str(self.path), QSettings.IniFormat)

    def sync(self) -> None:
        self.qsettings.sync()

    # ----------------------------------------------------------------- window
    def save_window(self, window: QMainWindow) -> None:
        """The window's size and place, and its docks' and toolbars' layout."""
        self.qsettings.setValue("window/geometry", window.saveGeometry())
        self.qsettings.setValue("window/state", window.saveState())
        self.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Put the window back as saved; False when nothing (usable) was saved."""
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        ok = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            ok = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            ok = window.restoreState(state) and ok
        return ok

    # ----------------------------------------------------------------- config
    def set_last_config(self, cfg: Config, path: str | Path | None = None) -> None:
        """The config the app last ran (as TOML, so an edited, unsaved config comes back
        too) and the file it came from, if any."""
        self.qsettings.setValue("config/last", config_mod.dumps(cfg))
        self.qsettings.setValue("config/path", str(path) if path else "")
        self.sync()

    def last_config(self) -> Config | None:
        text = self.qsettings.value("config/last", "")
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            return Config.from_dict(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ConfigError):
            return None

    def last_config_path(self) -> Path | None:
        text = self.qsettings.value("config/path", "")
        return Path(text) if isinstance(text, str) and text else None

    # ----------------------------------------------------------------- recent runs
    def recent_runs(self, existing_only: bool = True) -> list[Path]:
        """Run folders opened lately, the newest first (folders gone since are left out
        unless ``existing_only`` is False)."""
        # stored as JSON text: an INI list of one element reads back as a plain string
        raw = self.qsettings.value("runs/recent", "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else []
        except json.JSONDecodeError:
            items = []
        paths = [Path(p) for p in items if isinstance(p, str) and p]
        return [p for p in paths if p.is_dir()] if existing_only else paths

    def add_recent_run(self, path: str | Path) -> list[Path]:
        path = Path(path).absolute()
        runs = [p for p in self.recent_runs(existing_only=False) if p != path]
        runs = [path, *runs][:MAX_RECENT_RUNS]
        self.qsettings.setValue("runs/recent", json.dumps([str(p) for p in runs]))
        self.sync()
        return runs

    def clear_recent_runs(self) -> None:
        self.qsettings.setValue("runs/recent", "[]")
        self.sync()

    # ----------------------------------------------------------------- export
    @property
    def export_style(self) -> str:
        """"report" (light, for papers: the default) or "screen" (dark, as on screen): how
        the per-plot exports write PNG/SVG (their file dialog offers both; Export > Figure…
        asks each time)."""
        value = self.qsettings.value("export/style", "report")
        return value if value in EXPORT_STYLES else "report"

    @export_style.setter
    def export_style(self, value: str) -> None:
        if value not in EXPORT_STYLES:
            raise ValueError(f"export style must be one of {', '.join(EXPORT_STYLES)}, "
                             f"got '{value}'")
        self.qsettings.setValue("export/style", value)
        self.sync()
