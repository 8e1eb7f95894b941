"""The argument parser of every command line (``main.py COMMAND``, ``sngan-gui COMMAND``), in a
module of its own so that light commands can use it without importing torch."""

from __future__ import annotations

import argparse
import sys

from .contract import EXIT_BAD_INPUT


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one clear line and status 2 (argparse's
    own prints the usage too); every ``main.py`` command uses it."""

    def error(self, message: str):
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)
