"""Entry point: ``python main.py`` opens the app; ``python main.py train ...`` trains headless."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        from core.cli import train_main

        return train_main(argv[1:])
    from sngan_gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
