"""``python main.py reproduce [--quick] --out DIR``: the reproduction sweeps and their report.

Runs the sweeps of ``resources/reproduce/`` (each an ordinary sweep file, each into its own
``DIR/<experiment>/`` sweep folder with its run folders and ``summary.csv``) on one pool of
worker processes, then writes ``DIR/RESULTS.md`` and its PNG figures from those run folders
(:mod:`core.reproduce.report`). Running it again with the same ``--out`` resumes: finished
trials are kept (the sweep's resume), and the report is rewritten.

``--report REPORT_DIR`` puts RESULTS.md and the figures elsewhere (the committed report in
``docs/reproduction/`` is ``reproduce --out runs/reproduction --report docs/reproduction``).

``--quick`` runs the same experiments with small step counts and 2 seeds (1 for the DCGAN
runs), for CI (``tests/test_reproduce.py``): the same tables with every row, numbers that mean
little. ``--tiny`` goes further (a handful of steps, one seed), for a check by hand.

``--only SECTION ...`` (the section modules' names: ``grey_noise``, ``robustness``, ...) runs
only the experiments those sections read (their ``READS``) and rewrites only those sections in
an existing RESULTS.md, keeping the others as they are (:mod:`core.reproduce.merge`).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..cli_parser import OneLineParser
from ..contract import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from ..resource_paths import reproduce_dir
from ..sweep_pool import run_sweeps
from ..sweep_spec import SweepError, load_sweep
from .merge import ReportMergeError, check_mergeable



@dataclass(frozen=True)
class Experiment:
    name: str                      # DIR/<name>/ and resources/reproduce/<name>.toml
    quick_steps: int
    quick_seeds: tuple[int, ...]
    quick_changes: tuple[str, ...] | None = None
    tiny_steps: int = 6            # --tiny: one seed, a handful of steps (the test suite's)
    tiny_changes: tuple[str, ...] | None = None
    # --quick (and --tiny): config keys laid over the sweep's [set] (e.g. no 26,000-sample
    # mode count on stacked digits), as (dotted key, value) pairs.
    quick_set: tuple[tuple[str, object], ...] = ()
    # Runs after the others, one trial at a time on one worker: its trials' step times are
    # compared with each other, so none may share the machine with a different neighbour.
    alone: bool = False


# Longest trials first, so the pool's last minutes are not one DCGAN run alone; the report's
# sections follow their own order.
EXPERIMENTS = (
    # the image sections (9-12): n_dis = 5 trials with a penalty are the longest of all. The
    # quick runs of robustness and grey_noise end at the same step: section 12 reads setting
    # C's "none" and "spectral" runs from grey_noise at robustness' last step. Their --quick
    # step counts are the smallest that write every row (28 trials, ~0.6 s a step at n_dis 5):
    # they add about half a minute to CI's reproduce --quick (docs/command-line.md,
    # "Reproduction report").
    Experiment("robustness", 2, (0,), tiny_steps=2),
    Experiment("grey_noise", 2, (0,), tiny_steps=2),
    Experiment("stacked_modes", 3, (0,), tiny_steps=3,
               quick_set=(("quality.final_mode_samples", 500),)),
    Experiment("dcgan", 30, (0,)),
    Experiment("dcgan_switch", 30, (0,), ("15:constraints.spectral.enabled=true",),
               tiny_changes=("3:constraints.spectral.enabled=true",)),
    Experiment("timing", 10, (0,), tiny_steps=4, alone=True),
    Experiment("weights", 40, (0, 1)),
    Experiment("coverage_ring8", 200, (0, 1), tiny_steps=20),
    Experiment("coverage_grid25", 200, (0, 1), tiny_steps=20),
    Experiment("sn_lag_dcgan", 20, (0,)),                    # sections/sn_lag.py
    Experiment("sn_lag_ring8", 100, (0,), tiny_steps=20),
)
MODES = ("full", "quick", "tiny")


def load_experiments(mode: str = "full", sweep_dir: Path | None = None,
                     names: Sequence[str] | None = None):
    """[(experiment, Sweep)] (only those in ``names`` when given); ``quick`` and ``tiny``
    replace steps, seeds (and scheduled changes) of the sweep files (default: the shipped
    ones) and lay their ``quick_set`` over them."""
    sweep_dir = reproduce_dir() if sweep_dir is None else sweep_dir
    loaded = []
    for exp in EXPERIMENTS:
        if names is not None and exp.name not in names:
            continue
        options: dict = {}
        if mode == "quick":
            options = {"steps": exp.quick_steps, "seeds": list(exp.quick_seeds)}
            if exp.quick_changes is not None:
                options["changes"] = list(exp.quick_changes)
        elif mode == "tiny":
            options = {"steps": exp.tiny_steps, "seeds": [0]}
            if exp.tiny_changes is not None:
                options["changes"] = list(exp.tiny_changes)
        if mode != "full" and exp.quick_set:
            options["sets"] = dict(exp.quick_set)
        loaded.append((exp, load_sweep(sweep_dir / f"{exp.name}.toml", **options)))
    return loaded


def chosen_sections(names: Sequence[str] | None):
    """The section modules named (all of them for None), in report order; ``SweepError``
    naming the first unknown name."""
    from .sections import SECTIONS, section_name

    if names is None:
        return list(SECTIONS)
    known = {section_name(s): s for s in SECTIONS}
    for name in names:
        if name not in known:
            raise SweepError(f"--only: no section '{name}' (sections: {', '.join(known)})")
    return [s for s in SECTIONS if section_name(s) in names]


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py reproduce",
                description="Run the reproduction sweeps and write DIR/RESULTS.md with figures.")
    p.add_argument("--out", required=True, help="output folder (run again to resume)")
    p.add_argument("--report", metavar="REPORT_DIR", help="write RESULTS.md and the figures "
                   "there instead of --out (e.g. docs/reproduction, without the run folders)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="small step counts and 2 seeds: the same tables, for CI (minutes)")
    size.add_argument("--tiny", action="store_true",
                      help="a handful of steps and one seed per trial: checks that every "
                      "sweep runs and every table is written (the test suite uses it)")
    p.add_argument("--workers", type=int, help="local worker processes (default: the cores)")
    p.add_argument("--report-only", action="store_true",
                   help="only rewrite RESULTS.md and the figures from the run folders in --out")
    p.add_argument("--only", nargs="+", metavar="SECTION",
                   help="only these sections (e.g. grey_noise parzen): run the experiments "
                   "they read and rewrite them in the existing RESULTS.md, keeping the others")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run_experiments(experiments, out: Path, *, workers: int | None = None,
                    progress: bool = True) -> int:
    """The shared experiments on one pool, then each ``alone`` one on one worker with one
    torch thread (the pool's share on two cores); the first non-zero exit status, else 0.
    A failed trial does not keep the others from running; an interruption does."""
    shared = [(sweep, out / exp.name) for exp, sweep in experiments if not exp.alone]
    alone = [(sweep, out / exp.name) for exp, sweep in experiments if exp.alone]
    status = run_sweeps(shared, workers=workers, progress=progress) if shared else 0
    if status != EXIT_INTERRUPTED and alone:
        alone_status = run_sweeps(alone, workers=1, threads=1, progress=progress)
        status = status or alone_status
    return status


def reproduce_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_command(argv)
    if isinstance(args, int):  # --help (0) or a usage error (2)
        return args
    out = Path(args.out)
    try:
        if args.workers is not None and args.workers < 1:
            raise SweepError(f"--workers must be >= 1, got {args.workers}")
        mode = "quick" if args.quick else "tiny" if args.tiny else "full"
        sections = chosen_sections(args.only)
        names = None if args.only is None else {e for s in sections for e in s.READS}
        experiments = load_experiments(mode, names=names)
        if args.only is not None:  # before anything runs
            check_mergeable(Path(args.report or out) / "RESULTS.md", mode)
        t0 = time.perf_counter()
        if not args.report_only:
            status = run_experiments(experiments, out, workers=args.workers,
                                     progress=not args.no_progress)
            if status != 0:
                return status
        elif not out.is_dir():
            raise SweepError(f"--report-only: {out} does not exist")
    except (SweepError, ReportMergeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .report import write_report

    try:
        path = write_report(out, experiments, report_dir=args.report, mode=mode,
                            sweep_seconds=None if args.report_only else time.perf_counter() - t0,
                            sections=None if args.only is None else sections)
    except ReportMergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"report: {path}", file=sys.stderr)
    return 0
