"""The argument parser of every command line (``main.py COMMAND``, ``sngan-gui COMMAND``), in a
module of its own so that light commands can use it without importing torch."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .contract import EXIT_BAD_INPUT


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one clear line and status 2 (argparse's
    own prints the usage too); every ``main.py`` command uses it."""

    def error(self, message: str):
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)

    def parse_command(self, argv: Sequence[str]) -> argparse.Namespace | int:
        """The arguments, or the exit status a command returns at once: 0 after --help, 2
        after a usage error (its one line is printed)."""
        try:
            return self.parse_args(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)
