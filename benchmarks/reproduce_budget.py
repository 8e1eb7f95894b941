"""How long the reproduction report's sections take in full mode, estimated from short runs.

A full-mode report needs over an hour of a quiet 2-core machine; this measures its parts in a
few minutes and adds them up. For each experiment of ``core.reproduce.EXPERIMENTS`` (default:
the image sections' ``grey_noise``, ``robustness``, ``stacked_modes``), every trial's cost
depends on its config minus the optimizer's numbers and the seed (a learning rate or a β does
not change the work of a step), so each distinct *cost class* is measured once, in one process
with one torch thread (what each of ``reproduce``'s pool workers gets on 2 cores):

- ``step``: seconds per generator step (with its critic steps), the median of ``--steps``
  timed steps after ``--warmup`` untimed ones, no line logged;
- ``fast`` / ``slow`` / ``final``: seconds of the probes of a log line, of a slow-probe line
  (the image-quality measurement, with the Parzen estimate where the sweep switches it on)
  and of the last line (a stacked run's mode count on ``quality.final_mode_samples``);
- ``start``: building the session (data, networks, scorer from the cache, the Parzen sets).

A trial's estimate is ``start + steps * step + log lines * fast + slow lines * slow + final``
(the cadences of its sweep: lines every ``run.log_every`` steps, slow lines on the first, every
``run.probe_every`` and the last); an experiment's wall time is the sum over its trials divided
by the workers (``--workers``, default 2: the pool keeps both busy while trials remain; the
slack of the last trial is not counted). Sample grids and checkpoints are left out (each a
few milliseconds). The machine's load changes every figure: on a shared machine the result is
an estimate under load, to be checked against a real run's "took N min" on a quiet one.

    python benchmarks/reproduce_budget.py                      # the image sections, full mode
    python benchmarks/reproduce_budget.py --only grey_noise --steps 20
    python benchmarks/reproduce_budget.py --json budget.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IMAGE_EXPERIMENTS = ("grey_noise", "robustness", "stacked_modes")
# Config keys that change the numbers of a step but not its work.
COST_FREE = ("optim.lr_g", "optim.lr_d", "optim.beta1", "optim.beta2", "run.seed",
             "run.steps")


def cost_class(config: dict) -> str:
    """The trial's config without the keys that do not change its cost (a JSON key)."""
    cfg = copy.deepcopy(config)
    for dotted in COST_FREE:
        section, key = dotted.split(".")
        cfg.get(section, {}).pop(key, None)
    return json.dumps(cfg, sort_keys=True)


def measure(config: dict, *, steps: int, warmup: int, folder: Path) -> dict:
    """One cost class: {"start", "step", "fast", "slow", "final"} in seconds."""
    import torch

    from core.config import Config
    from core.session import TrainingSession

    torch.set_num_threads(1)
    cfg = Config.from_dict(config)
    total = warmup + steps + 1
    cfg.update({"run.steps": 10**6, "run.log_every": 10**6, "run.probe_every": 10**6,
                "run.sample_every": 10**6, "run.checkpoint_every": 10**6,
                "run.device": "cpu"})
    t0 = time.perf_counter()
    session = TrainingSession(folder, cfg, steps=total)
    start = time.perf_counter() - t0
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        session.trainer.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    prober = session.prober
    t0 = time.perf_counter()
    prober.probe(slow=False, final=False)
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    prober.probe(slow=True, final=False)
    slow = time.perf_counter() - t0
    t0 = time.perf_counter()
    prober.probe(slow=True, final=True)
    final = time.perf_counter() - t0
    session.close()
    return {"start": start, "step": statistics.median(times), "fast": fast, "slow": slow,
            "final": final}


def lines_of(run: dict) -> tuple[int, int]:
    """(log lines, slow lines) of a run with these cadences (as TrainingSession logs them)."""
    steps, log, probe = run["steps"], run["log_every"], run["probe_every"]
    logged = sorted(set(range(log, steps + 1, log)) | {steps})
    slow, last_slow = 0, None
    for step in logged:
        if last_slow is None or step >= steps or step // probe > last_slow // probe:
            slow, last_slow = slow + 1, step
    return len(logged), slow


def estimate(trial_config: dict, cost: dict) -> float:
    n_lines, n_slow = lines_of(trial_config["run"])
    return (cost["start"] + trial_config["run"]["steps"] * cost["step"]
            + n_lines * cost["fast"] + (n_slow - 1) * cost["slow"] + cost["final"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="+", default=list(IMAGE_EXPERIMENTS),
                   help="experiments (default: the image sections')")
    p.add_argument("--mode", choices=("full", "quick"), default="full")
    p.add_argument("--steps", type=int, default=30, help="timed steps per cost class")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)

    from core.reproduce import load_experiments

    loaded = load_experiments(args.mode, names=args.only)
    classes: dict[str, dict] = {}
    for _, sweep in loaded:
        for trial in sweep.trials:
            classes.setdefault(cost_class(trial.config), trial.config)
    print(f"{len(classes)} cost classes over {sum(len(s.trials) for _, s in loaded)} trials; "
          f"{args.steps} timed steps each, 1 torch thread", file=sys.stderr)
    costs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (key, config) in enumerate(classes.items()):
            costs[key] = measure(config, steps=args.steps, warmup=args.warmup,
                                 folder=Path(tmp) / f"c{i}")
            c = costs[key]
            print(f"  class {i + 1}/{len(classes)}: step {1000 * c['step']:.0f} ms, probes "
                  f"fast {1000 * c['fast']:.0f} ms, slow {c['slow']:.2f} s, last "
                  f"{c['final']:.2f} s, start {c['start']:.1f} s", file=sys.stderr)
    report = {}
    print(f"\n| experiment | trials | generator steps | estimate (min, {args.workers} workers) |")
    print("|---|---|---|---|")
    total = 0.0
    for exp, sweep in loaded:
        seconds = sum(estimate(t.config, costs[cost_class(t.config)]) for t in sweep.trials)
        wall = seconds / args.workers
        total += wall
        steps = sum(t.steps for t in sweep.trials)
        report[exp.name] = {"trials": len(sweep.trials), "steps": steps,
                            "cpu_s": seconds, "wall_min": wall / 60}
        print(f"| {exp.name} | {len(sweep.trials)} | {steps:,} | {wall / 60:.1f} |")
    print(f"| **all** | | | **{total / 60:.1f}** |")
    if args.json:
        Path(args.json).write_text(json.dumps({"experiments": report, "classes": list(
            costs.values())}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
