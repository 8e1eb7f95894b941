"""Application entry point (the window itself is being built; see issue 5)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("The desktop window is not built yet; running a headless demo run instead:\n"
          "  python main.py train --config resources/presets/ring8.toml --out runs/demo",
          file=sys.stderr)
    from core.cli import train_main

    return train_main(["--config", "resources/presets/ring8.toml", "--out", "runs/demo",
                       "--steps", "300"])


def console_main() -> int:
    return main(sys.argv[1:])
