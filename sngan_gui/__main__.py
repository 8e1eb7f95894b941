"""``python -m sngan_gui [COMMAND] ...``: the same as ``sngan-gui`` (see launcher.py)."""

from sngan_gui.launcher import main

if __name__ == "__main__":  # spawned training processes import this module again
    raise SystemExit(main())
