"""The one entry point: ``sngan-gui`` (the installed script), ``python -m sngan_gui`` and
``python main.py`` all run :func:`main`.

``COMMAND ...`` runs that headless command (``train``, ``sweep``, ``reproduce``, ...); anything
else opens the app (``[--config FILE] [RUN_DIR ...]``). A command is one line of
:data:`COMMANDS`, the name of a module and of its function taking the remaining arguments and
returning the exit status; nothing here knows more about any of them, and the module is
imported only when its command runs (``train`` never loads Qt, the app's start never loads a
command's code).
"""

from __future__ import annotations

import importlib
import sys
from typing import Sequence

# command -> (module, function(argv) -> exit status, one line for --help)
COMMANDS = {
    "train": ("core.cli", "train_main", "train a GAN headless into a run folder"),
    "sweep": ("core.sweep", "sweep_main", "run a grid of trials (a sweep file)"),
    "reproduce": ("core.reproduce", "reproduce_main",
                  "run the reproduction sweeps and write RESULTS.md"),
    "tensorboard": ("core.tensorboard_export", "tensorboard_main",
                    "convert run or sweep folders to TensorBoard event files"),
    "presets": ("core.presets", "presets_main", "list the shipped presets"),
    "score": ("core.quality.cli", "score_main",
              "image quality of a run's generator or a folder of images"),
    "install-desktop": ("sngan_gui.desktop", "install_desktop_main",
                        "add the app to this user's desktop menu (Linux)"),
}


def version() -> str:
    from core import __version__

    return __version__


def commands_help() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {text}" for name, (_, _, text) in COMMANDS.items()]
    return ("commands (sngan-gui COMMAND --help for each):\n" + "\n".join(lines)
            + "\nwithout a command: open the app")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("--version", "-V"):
        print(f"lipschitz-playground {version()}")
        return 0
    if argv and argv[0] in COMMANDS:
        module, function, _ = COMMANDS[argv[0]]
        return int(getattr(importlib.import_module(module), function)(argv[1:]) or 0)
    from .app import main as app_main

    return app_main(argv, epilog=commands_help())
