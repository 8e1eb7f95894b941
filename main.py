"""Entry point of a source checkout: ``python main.py`` opens the app; ``python main.py
train|sweep|reproduce|tensorboard|presets|score ...`` runs headless (the README in
brief; docs/command-line.md in full, ``score`` in docs/image-quality.md). An installed
copy has the same as the ``sngan-gui`` script and ``python -m sngan_gui``; the commands are
listed in ``sngan_gui/launcher.py``."""

from __future__ import annotations

import sys

from sngan_gui.launcher import COMMANDS, main  # noqa: F401  (COMMANDS: the command table)

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
