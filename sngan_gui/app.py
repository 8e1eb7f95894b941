"""Application entry points: ``python main.py [--config FILE] [RUN_DIR ...]`` and the
``sngan-gui`` script."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from core import config as config_mod
from core.config import Config, ConfigError
from core.contract import EXIT_BAD_INPUT
from core.paths import AppHomeError, check_app_home
from core.presets import DEFAULT_PRESET, list_presets, preset_path


def _default_config() -> tuple[Config, Path | None]:
    preset = list_presets().get(DEFAULT_PRESET)
    if preset is not None:
        return config_mod.load(preset), preset
    return Config(), None


def paint_on_one_thread() -> None:
    """Keep Qt's painting on the GUI thread.

    Qt's raster engine hands every fill that spans 96 or more scanlines (a grid line, the
    histogram's area) to a pool of helper threads and waits for them. While a run trains on
    every core that hand-off costs more than the fill, and each helper it wakes preempts a
    training thread (``benchmarks/gui_throughput.py`` prints the GUI process's CPU and the
    training rate beside the CLI's). Qt reads the variable at the first such fill, so this
    runs before any window paints; a value the user has set is kept.
    """
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def create_window(config_path: str | Path | None = None, runs: Sequence[str | Path] = (), *,
                  torch_threads: int | None = None):
    """The main window, built but not shown; a QApplication must exist.

    ``config_path`` opens the app with that TOML config (default: the config last used, else
    the ring8 preset). Raises ``core.config.ConfigError`` for a missing or invalid file.
    ``runs`` are run folders to open: finished runs are shown, runs still being written are
    followed, two or more are overlaid. A folder that is not a run is refused with one line
    (in ``window.compare.refused`` and the status bar); the others stay open.
    """
    from PySide6.QtWidgets import QApplication

    from . import theme
    from .qt_main_window import QtMainWindow

    paint_on_one_thread()

    app = QApplication.instance()
    if app is None:
        raise RuntimeError("create_window() needs a QApplication; create one first")
    if not app.property("snganThemed"):
        theme.apply(app)
        from core.resource_paths import ICON_NAME

        from .icon import app_icon

        app.setWindowIcon(app_icon())     # every window and the task bar entry
        app.setDesktopFileName(ICON_NAME)  # Wayland: match the .desktop entry (and its icon)
        app.setProperty("snganThemed", True)
    from .app_settings import AppSettings

    settings = AppSettings()
    if config_path is not None:
        preset = Path(config_path)
        if not preset.exists():  # a preset's name ("ring8"), as the command line takes it
            preset = preset_path(str(config_path)) or preset
        cfg = config_mod.load(preset)
    else:
        cfg, preset = _default_config()
        last = settings.last_config()
        if last is not None:
            cfg, preset = last, settings.last_config_path()
    window = QtMainWindow(cfg, preset_path=preset, torch_threads=torch_threads,
                          settings=settings)
    window.compare.open_runs(runs)
    from .focus import QtFocusReturn

    window.focus_return = QtFocusReturn(window)  # shortcuts work again after a dialog
    return window


def build_parser(epilog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sngan-gui", description="Lipschitz Playground desktop app. "
                                "(Headless training: sngan-gui train --help)", epilog=epilog,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="open the app with this TOML config or preset (a name "
                   "from: sngan-gui presets)")
    p.add_argument("runs", nargs="*", metavar="RUN_DIR",
                   help="run folders to open (finished runs are shown, runs still being "
                        "written are followed; two or more are overlaid)")
    return p


def main(argv: Sequence[str] | None = None, *, epilog: str | None = None) -> int:
    """The app (``sngan_gui.launcher.main`` routes headless commands elsewhere)."""
    args, qt_args = build_parser(epilog).parse_known_args(
        list(sys.argv[1:] if argv is None else argv))
    if args.config is not None:
        try:  # check before any window appears: one clear line, status 2
            config_mod.load(args.config)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:  # a SNGAN_GUI_HOME that is a file: one line, before any window appears
        check_app_home()
    except AppHomeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from PySide6.QtWidgets import QApplication

    from .xcb_check import xcb_advice

    advice = xcb_advice()  # Linux: the system libraries Qt's X11 plugin needs, in one line
    if advice:
        print(f"warning: {advice}", file=sys.stderr)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Lipschitz Playground")
    app.setOrganizationName("sngan-gui")
    window = create_window(args.config, args.runs)
    for line in window.compare.refused:
        print(f"error: {line}", file=sys.stderr)
    window.show()
    return int(app.exec())


def console_main() -> int:
    """Kept for scripts installed by earlier versions: the launcher, commands included."""
    from .launcher import main as launcher_main

    return launcher_main(sys.argv[1:])
