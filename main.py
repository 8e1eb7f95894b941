"""Entry point: ``python main.py`` opens the app; ``python main.py train|sweep|reproduce ...``
runs headless (README "Headless training", "Sweeps", "Reproduction report")."""

from __future__ import annotations

import importlib
import sys

# command -> (module, function taking the remaining arguments and returning the exit status)
COMMANDS = {
    "train": ("core.cli", "train_main"),
    "sweep": ("core.sweep", "sweep_main"),
    "reproduce": ("core.reproduce", "reproduce_main"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        module, function = COMMANDS[argv[0]]
        return getattr(importlib.import_module(module), function)(argv[1:])
    from sngan_gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
