"""Training throughput with and without ``run.tensorboard = true`` (the live TensorBoard log).

Two training sessions of the same preset, exactly as ``python main.py train`` runs them (run
folder, metrics lines, probes, checkpoints and samples at the preset's cadences), one writing
the live TensorBoard log and one not, advanced in alternating rounds so machine load hits both
alike. Prints steps/s per round, the medians, and the ratio on/off (median of the per-round
ratios; 1.0 = no cost). Also the CPU time spent in the live log's calls (building and queueing
the events; TensorBoard's writer thread then writes them) as a share of the CPU time of the
"on" session's training: a figure that load on the machine disturbs far less than steps/s.

    python benchmarks/live_tensorboard.py [--preset ring8] [--rounds 6] [--steps 500]
    python benchmarks/live_tensorboard.py --preset dcgan_notebook --steps 30
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core import config as C  # noqa: E402
from core.session import TrainingSession  # noqa: E402

LOG_CPU = [0.0]  # process CPU seconds inside the live log's calls


def timed(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        t0 = time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            LOG_CPU[0] += time.process_time() - t0
    return wrapper


def session(preset: str, folder: Path, tensorboard: bool, total: int) -> TrainingSession:
    cfg = C.load(preset)  # a preset's name
    cfg.update({"run.tensorboard": tensorboard, "run.device": "cpu"})
    return TrainingSession(folder, cfg, steps=total, progress=lambda *a: None)


def rate(s: TrainingSession, steps: int, cpu: list[float] | None = None) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        s.advance()
    if cpu is not None:
        cpu[0] += time.process_time() - c0
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--steps", type=int, default=500, help="generator steps per round")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's, as the CLI)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    total = (args.rounds + 1) * args.steps + 1
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {name: session(args.preset, Path(tmp) / name, name == "on", total)
                    for name in ("off", "on")}
        live = sessions["on"].tensorboard
        for name in ("metrics", "event", "sample"):
            setattr(live, name, timed(getattr(live, name)))
        for s in sessions.values():
            rate(s, args.steps)  # warm-up round: first probes, allocations
        LOG_CPU[0] = 0.0
        rates, on_cpu = {name: [] for name in sessions}, [0.0]
        for i in range(args.rounds):
            order = ("off", "on") if i % 2 == 0 else ("on", "off")
            for name in order:
                rates[name].append(rate(sessions[name], args.steps,
                                        on_cpu if name == "on" else None))
            print(f"round {i + 1}: off {rates['off'][-1]:7.1f}  on {rates['on'][-1]:7.1f} "
                  f"steps/s", flush=True)
        for s in sessions.values():
            s.finish()
        events = sorted((Path(tmp) / "on" / "tensorboard").glob("events.out.tfevents.*"))
        size = sum(p.stat().st_size for p in events)
    ratios = [on / off for on, off in zip(rates["on"], rates["off"])]
    print(f"\n{args.preset}, {args.rounds} rounds x {args.steps} steps "
          f"(event file {size / 1024:.0f} KiB):")
    print(f"  median steps/s: off {statistics.median(rates['off']):.1f}, "
          f"on {statistics.median(rates['on']):.1f}")
    print(f"  on/off: median of per-round ratios {statistics.median(ratios):.3f} "
          f"(rounds {min(ratios):.3f}-{max(ratios):.3f})")
    print(f"  live log calls: {LOG_CPU[0] * 1000:.1f} ms CPU = {100 * LOG_CPU[0] / on_cpu[0]:.3f} % "
          f"of the 'on' session's training CPU time ({on_cpu[0]:.1f} s)")


if __name__ == "__main__":
    main()
