"""``python main.py tensorboard RUN_DIR... --out LOGDIR``: run folders as TensorBoard runs.

Each RUN_DIR is a run folder, or a folder with run folders in it at any depth (a sweep: every
trial; a ``reproduce`` output: every trial of every experiment). Each run becomes
``LOGDIR/<name>``: a run folder under its own name, a trial under the sweep folder's name and
its path in it (``LOGDIR/sweep/spectral.enabled=true_seed0``), so ``tensorboard --logdir
LOGDIR`` shows them side by side and its HParams view compares them. What is written:
``core.tensorboard_log``. Converting again replaces a run's event files.

Bad input (a folder that holds no run, an unreadable run folder, an unwritable LOGDIR, the
tensorboard package missing) exits with status 2 and one line per problem, before anything is
written. Damaged lines and unreadable sample files are left out with a warning naming them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from .cli_parser import OneLineParser
from . import runlayout
from .contract import EXIT_BAD_INPUT
from .runreader import RunReader, RunReadError
from .tensorboard_log import TensorBoardLog, TensorBoardMissing, replay, require_tensorboard

RUN_FILES = (runlayout.CONFIG, runlayout.METRICS)  # what makes a folder a run folder


class ExportError(ValueError):
    """Bad input to the converter; the message is one line naming the folder."""


def is_run_folder(path: Path) -> bool:
    return all((path / name).is_file() for name in RUN_FILES)


def find_runs(path: Path) -> list[Path]:
    """``path`` itself when it is a run folder, else every run folder below it (sorted; a run
    folder's own subfolders are not searched)."""
    if not path.is_dir():
        raise ExportError(f"{path} is not a run folder: "
                          f"{'it does not exist' if not path.exists() else 'not a folder'}")
    if is_run_folder(path):
        return [path]
    runs = []
    for folder, subfolders, _ in os.walk(path):
        here = Path(folder)
        if is_run_folder(here):
            runs.append(here)
            subfolders.clear()
        else:
            subfolders.sort()
    if not runs:
        raise ExportError(f"{path} is not a run folder, and no run folder is in it (a run "
                          f"folder holds {' and '.join(RUN_FILES)})")
    return sorted(runs)


def plan(sources: Sequence[Path]) -> list[tuple[Path, str]]:
    """[(run folder, name in LOGDIR)] for the given folders; names made unique (-2, -3)."""
    planned, taken = [], set()
    for source in sources:
        base = source.resolve().name or "run"
        for run in find_runs(source):
            rel = run.relative_to(source)
            name = base if rel == Path(".") else f"{base}/{rel.as_posix()}"
            unique, n = name, 1
            while unique in taken:
                n += 1
                unique = f"{name}-{n}"
            taken.add(unique)
            planned.append((run, unique))
    return planned


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise ExportError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None


def convert(sources: Sequence[Path], out: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """Convert; returns ([(run folder, name)], warnings). Everything is checked first:
    :class:`ExportError` / ``TensorBoardMissing`` before anything is written."""
    require_tensorboard("the tensorboard command")
    planned = plan(sources)
    for run, _ in planned:
        try:
            RunReader(run)
        except RunReadError as exc:
            raise ExportError(str(exc)) from None
    check_writable(out)
    warnings: list[str] = []
    for run, name in planned:
        log = TensorBoardLog(out / name, name, replace=True)
        try:
            warnings += replay(log, run)
        finally:
            log.close()
    return planned, warnings


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py tensorboard",
                      description="Write TensorBoard event files of run folders (a sweep or "
                                  "reproduce folder: every run in it): scalars, sample grids, "
                                  "events and the config as hparams.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="a run folder, or a folder with run folders in it (a sweep)")
    p.add_argument("--out", required=True, metavar="LOGDIR",
                   help="where to write (then: tensorboard --logdir LOGDIR)")
    return p


def tensorboard_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_command(argv)
    if isinstance(args, int):  # --help (0) or a usage error (2)
        return args
    out = Path(args.out)
    try:
        planned, warnings = convert([Path(r) for r in args.runs], out)
    except (ExportError, TensorBoardMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # the disk filled up or a file vanished while writing
        print(f"error: cannot write {exc.filename or out}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in warnings:
        print(f"warning: left out {line}", file=sys.stderr)
    print(f"wrote {len(planned)} run{'s' if len(planned) != 1 else ''} to {out}; view them with: "
          f"tensorboard --logdir {out}", file=sys.stderr)
    return 0
