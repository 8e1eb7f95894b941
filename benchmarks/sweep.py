"""Sweep throughput: the same sweep with N local workers against one worker (its trials one
after another, that worker using every core for torch's threads, as `main.py train` would),
and against one worker with one thread (to tell the thread count's share from parallelism's).

Runs ``python main.py sweep`` on a generated sweep file (a preset, several seeds) into fresh
temporary folders, alternating the worker counts round by round so machine load hits them
alike, and prints trials per minute and the ratio to one worker (median over rounds).

    python benchmarks/sweep.py [--preset ring8] [--trials 6] [--steps 1000] [--workers 2 3]
                               [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(sweep_file: Path, out: Path, workers: int, threads: int | None) -> float:
    t0 = time.perf_counter()
    extra = ["--threads", str(threads)] if threads else []
    subprocess.run([sys.executable, str(ROOT / "main.py"), "sweep", str(sweep_file), "--out",
                    str(out), "--workers", str(workers), "--no-progress", *extra], cwd=ROOT,
                   check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="ring8", help="a preset name in resources/presets")
    p.add_argument("--trials", type=int, default=6, help="trials (seeds) in the sweep")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--workers", type=int, nargs="+", default=[2, 3])
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    # (workers, threads per worker; None = the sweep's default, cores // workers)
    counts = [(1, None), (1, 1), *[(w, None) for w in args.workers if w != 1]]
    times: dict[tuple, list[float]] = {c: [] for c in counts}
    with tempfile.TemporaryDirectory() as tmp:
        sweep_file = Path(tmp) / "sweep.toml"
        base = ROOT / "resources" / "presets" / f"{args.preset}.toml"
        sweep_file.write_text(f'base = "{base}"\nsteps = {args.steps}\n'
                              f'seeds = {list(range(args.trials))}\n'
                              '[set]\n"run.device" = "cpu"\n', encoding="utf-8")
        for r in range(args.rounds):
            for w, t in counts:
                times[(w, t)].append(run(sweep_file, Path(tmp) / f"out_{r}_{w}_{t}", w, t))
    base_s = statistics.median(times[(1, None)])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.preset}, {args.trials} trials x {args.steps} steps, {cores} cores")
    for w, t in counts:
        s = statistics.median(times[(w, t)])
        label = f"{w} worker{'s' if w > 1 else ''} x {t or max(1, cores // w)} thread(s)"
        print(f"  {label:24s} {s:7.1f} s  {60 * args.trials / s:6.1f} trials/min  "
              f"{base_s / s:5.2f}x  (rounds: {', '.join(f'{v:.1f}' for v in times[(w, t)])})")


if __name__ == "__main__":
    main()
