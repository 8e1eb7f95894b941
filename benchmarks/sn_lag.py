"""σ under spectral norm on a preset: what its guide text may quote.

Trains a preset (with any ``--set`` / ``--change``, as ``train`` takes them) with the slow
probes on every log line, so every line's σ is an exact SVD of the normalized weight, and
prints per layer the largest and smallest σ logged after ``--after`` and the share of those
lines above 1.02, with the largest ``lip_bound``; one row per seed and, over several seeds,
the range. The guide texts, the README and docs/constraints.md ("spectral") quote these runs.

    python benchmarks/sn_lag.py d_wins --set constraints.spectral.enabled=true
    python benchmarks/sn_lag.py d_wins --set constraints.spectral.enabled=true \\
        --set constraints.spectral.power_iters=3 --seeds 0 1 2
    python benchmarks/sn_lag.py d_wins --change 750:constraints.spectral.enabled=true --after 750
    python benchmarks/sn_lag.py dcgan_notebook --steps 1500

The σ lag is chaotic in the last bits of the arithmetic: another torch thread count or CPU
gives other numbers on the same seed (``--threads``; default 1, as the guide claims test).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import config as C  # noqa: E402
from core.overrides import parse_change, parse_settings  # noqa: E402
from core.presets import list_presets  # noqa: E402

LAG_LEVEL = 1.02  # the reproduction report's "SN lag" counts lines above this


def measure(preset: str, *, seed: int, steps: int | None, sets: dict, changes: list,
            after: int, folder: Path) -> dict:
    """One run: {"layers": {layer: (max, min, share above LAG_LEVEL, step of the max)},
    "bound": max lip_bound, "lines": n, "steps": run.steps}, over the lines after
    ``after``."""
    from core.session import TrainingSession

    cfg = C.load(list_presets()[preset])
    cfg.update({**sets, "run.seed": seed, "run.device": "cpu",
                "run.probe_every": cfg.run.log_every, "run.sample_every": 10**9,
                "run.checkpoint_every": 10**9})
    if steps is not None:
        cfg.set("run.steps", steps)
    session = TrainingSession(folder, cfg, changes=changes)
    while not session.done:
        session.advance()
    session.finish()
    lines = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
    lines = [m for m in lines if m["step"] > after and isinstance(m.get("sigma"), dict)]
    layers = {}
    for layer in lines[0]["sigma"]:
        values = [m["sigma"][layer] for m in lines]
        top = max(range(len(values)), key=values.__getitem__)
        layers[layer] = (values[top], min(values),
                         sum(v > LAG_LEVEL for v in values) / len(values), lines[top]["step"])
    return {"layers": layers, "bound": max(m["lip_bound"] for m in lines),
            "lines": len(lines), "steps": cfg.run.steps}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", choices=sorted(list_presets()))
    ap.add_argument("--steps", type=int, help="run.steps (default: the preset's)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--change", action="append", default=[], metavar="STEP:KEY=VALUE")
    ap.add_argument("--after", type=int, default=-1, help="count the lines after this step")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    sets = parse_settings(args.set)
    changes = [parse_change(text).entry for text in args.change]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="sn-lag-") as tmp:
        for seed in args.seeds:
            t0 = time.perf_counter()
            runs[seed] = measure(args.preset, seed=seed, steps=args.steps, sets=sets,
                                 changes=changes, after=args.after,
                                 folder=Path(tmp) / f"seed{seed}")
            run = runs[seed]
            print(f"{args.preset} seed {seed}: {run['steps']} steps, {run['lines']} lines after "
                  f"step {max(args.after, 0)} ({time.perf_counter() - t0:.0f} s, "
                  f"{args.threads} thread(s))")
            for layer, (top, low, share, at) in run["layers"].items():
                print(f"  {layer:14s} sigma {low:.4f} - {top:.4f} (max at step {at}), above "
                      f"{LAG_LEVEL} on {100 * share:.0f} % of the lines")
            print(f"  {'lip_bound':14s} max {run['bound']:.4f}")
    if len(runs) > 1:
        print(f"over seeds {', '.join(map(str, runs))}:")
        for layer in next(iter(runs.values()))["layers"]:
            tops = [r["layers"][layer][0] for r in runs.values()]
            shares = [r["layers"][layer][2] for r in runs.values()]
            print(f"  {layer:14s} max sigma {min(tops):.4f} - {max(tops):.4f}, above "
                  f"{LAG_LEVEL} on {100 * min(shares):.0f}-{100 * max(shares):.0f} % of lines")
        bounds = [r["bound"] for r in runs.values()]
        print(f"  {'lip_bound':14s} max {min(bounds):.4f} - {max(bounds):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
