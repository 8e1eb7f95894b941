"""Sweeps: a grid of headless runs, ``python main.py sweep SWEEP.toml --out DIR``.

The sweep file's format and the trials' names: :mod:`core.sweep_spec`; ``DIR/summary.csv``:
:mod:`core.sweep_summary`; resuming: :mod:`core.sweep_state`; the worker pool:
:mod:`core.sweep_pool` (one trial: :mod:`core.trial`, on Ray: :mod:`core.sweep_ray`). This
module is the command line, and the names scripts import.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .cli_parser import OneLineParser
from .contract import EXIT_BAD_INPUT
from .sweep_pool import EXIT_OK, EXIT_TRIAL_FAILED, default_workers, run_sweep, run_sweeps
from .sweep_spec import Sweep, SweepError, Trial, load_sweep
from .sweep_summary import SUMMARY_FIELDS, SUMMARY_FILE, read_summary, trial_row, write_summary

__all__ = ["EXIT_OK", "EXIT_TRIAL_FAILED", "SUMMARY_FIELDS", "SUMMARY_FILE", "Sweep",
           "SweepError", "Trial", "build_parser", "default_workers", "load_sweep",
           "read_summary", "run_sweep", "run_sweeps", "sweep_main", "trial_row",
           "write_summary"]


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py sweep", description="Run a grid of headless training runs.")
    p.add_argument("sweep_file", metavar="SWEEP.toml", help="the sweep file (see README)")
    p.add_argument("--out", required=True, help="folder for the trials' run folders and "
                   "summary.csv (run again with the same --out to resume)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per "
                   "core, at most one per trial); each gets cores // workers torch threads")
    p.add_argument("--threads", type=int, help="torch threads per trial (default: locally "
                   "cores // workers, on Ray 1; each Ray task reserves that many CPUs)")
    p.add_argument("--ray", metavar="ADDRESS", help="run each trial as a Ray task: 'auto' "
                   "(the running cluster), an address (ray://host:10001 or host:6379), or "
                   "'local' (start a Ray instance on this machine); needs pip install "
                   "'.[cluster]'")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def sweep_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_command(argv)
    if isinstance(args, int):  # --help (0) or a usage error (2)
        return args
    try:
        if args.workers is not None and args.workers < 1:
            raise SweepError(f"--workers must be >= 1, got {args.workers}")
        if args.threads is not None and args.threads < 1:
            raise SweepError(f"--threads must be >= 1, got {args.threads}")
        if args.workers is not None and args.ray:
            raise SweepError("--workers is for local runs; Ray places the trials itself")
        sweep = load_sweep(args.sweep_file)
        if args.ray:
            from .sweep_ray import check_ray
            check_ray()
        return run_sweep(sweep, args.out, workers=args.workers, threads=args.threads,
                         ray_address=args.ray,
                         progress=not args.no_progress)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
