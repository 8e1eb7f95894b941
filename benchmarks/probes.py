"""Cost of the probes: share of training time, and the cost of the time split itself.

1. For each preset (ring8, dcgan_notebook) with its default cadences (log_every from the
   preset, run.probe_every / run.sample_every defaults), runs a TrainingSession headless into a
   temporary folder and reports:
   - ``share``: probe seconds / training seconds (wall time without probes) over the whole run,
     the figure the session writes as ``probe_time_share`` (includes the cold first probe);
   - ``steady``: the same from the per-line ``time_split_ms`` after the first line;
   - fast / slow probe milliseconds per call.
   The budget is share <= 5 % (README, "Benchmarks").
2. The per-phase timer: nanoseconds per lap (the trainer does 8 laps per step with
   n_critic = 1), and ring8 steps with the timer on vs off, interleaved over rounds (median).
3. The image-quality probe (core/quality) on the notebook DCGAN (dcgan_notebook preset at its
   defaults: quality.samples = 500, one measurement every run.probe_every = 500 steps):
   milliseconds per measurement against the training time of probe_every steps, interleaved
   over rounds (medians); budget 2 %. The scorer's first training is timed separately (into
   a temporary app home, so the cache is not used).

    python benchmarks/probes.py [--ring-steps 1000] [--dcgan-steps 250] [--rounds 5]
    python benchmarks/probes.py --quality-only

Timings on a shared machine are noisy; run it on an idle one for figures to quote.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core import config as C  # noqa: E402
from core.probes.timing import PhaseTimer  # noqa: E402
from core.session import TrainingSession  # noqa: E402
from core.trainer import Trainer  # noqa: E402

PRESETS = Path(__file__).resolve().parents[1] / "resources" / "presets"


def probe_share(preset: str, steps: int, device: str) -> dict:
    cfg = C.load(PRESETS / f"{preset}.toml")
    cfg.run.device = device
    with tempfile.TemporaryDirectory() as tmp:
        session = TrainingSession(Path(tmp) / "run", cfg, steps=steps)
        prober = session.prober
        fast, slow = [], []
        original = prober.probe

        def timed_probe(*, slow_flag=None, **kw):
            t0 = time.perf_counter()
            out = original(**kw)
            (slow if kw.get("slow") else fast).append(time.perf_counter() - t0)
            return out

        prober.probe = timed_probe
        t0 = time.perf_counter()
        while not session.done:
            session.advance()
        session.finish()
        wall = time.perf_counter() - t0
        records = [json.loads(line) for line in
                   (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    later = records[1:] or records
    per_step = {k: statistics.fmean(r["time_split_ms"][k] for r in later)
                for k in records[-1]["time_split_ms"]}
    train_ms = sum(v for k, v in per_step.items() if k != "probe")
    return {
        "preset": preset, "steps": steps, "wall_s": round(wall, 2),
        "share": records[-1]["probe_time_share"],
        "steady": per_step["probe"] / train_ms if train_ms else None,
        "fast_ms": 1000 * statistics.median(fast) if fast else None,
        "slow_ms": 1000 * statistics.median(slow) if slow else None,
        "n_fast": len(fast), "n_slow": len(slow),
        "time_split_ms": {k: round(v, 3) for k, v in per_step.items()},
    }


def timer_cost(rounds: int, steps: int, device: str) -> dict:
    t = PhaseTimer("cpu")
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n // 8):
        t.start()
        for _ in range(7):
            t.lap("d_step")
    lap_ns = (time.perf_counter() - t0) / n * 1e9

    cfg = C.load(PRESETS / "ring8.toml")
    cfg.run.device = device
    trainers = {}
    for flag in (True, False):
        tr = Trainer(cfg)
        tr.timer.enabled = flag
        for _ in range(20):
            tr.step()
        trainers[flag] = tr
    per = {True: [], False: []}
    for _ in range(rounds):
        for flag, tr in trainers.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                tr.step()
            per[flag].append((time.perf_counter() - t0) / steps)
    on, off = statistics.median(per[True]), statistics.median(per[False])
    return {"lap_ns": round(lap_ns, 1), "step_ms_timer_on": round(1000 * on, 3),
            "step_ms_timer_off": round(1000 * off, 3), "ratio": round(on / off, 4),
            "laps_share_of_step": 8 * lap_ns * 1e-9 / off}


def quality_cost(rounds: int, device: str) -> dict:
    import os

    from core.quality import QualityProbe, prepare_scorer
    from core.quality import scorer as scorer_mod

    cfg = C.load(PRESETS / "dcgan_notebook.toml")
    cfg.run.device = device
    with tempfile.TemporaryDirectory() as home:
        old = os.environ.get("SNGAN_GUI_HOME")
        os.environ["SNGAN_GUI_HOME"] = home
        try:
            scorer_mod._loaded.clear()
            tr = Trainer(cfg)
            t0 = time.perf_counter()
            scorer = prepare_scorer(cfg, tr.device)
            first_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            probe = QualityProbe(tr, scorer)  # the held-out features, floor and ceiling
            refs_s = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("SNGAN_GUI_HOME", None)
            else:
                os.environ["SNGAN_GUI_HOME"] = old
    steps = 20
    for _ in range(5):
        tr.step()
    step_s, measure_s = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            tr.step()
        step_s.append((time.perf_counter() - t0) / steps)
        t0 = time.perf_counter()
        probe.measure()
        measure_s.append(time.perf_counter() - t0)
    step, measure = statistics.median(step_s), statistics.median(measure_s)
    every = cfg.run.probe_every
    return {"preset": "dcgan_notebook", "samples": cfg.quality.samples, "probe_every": every,
            "step_ms": round(1000 * step, 2), "measure_ms": round(1000 * measure, 1),
            "share": measure / (every * step), "scorer_train_s": round(first_s, 1),
            "scorer_accuracy": scorer.accuracy, "refs_s": round(refs_s, 2),
            "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ring-steps", type=int, default=1000)
    p.add_argument("--dcgan-steps", type=int, default=250)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-dcgan", action="store_true")
    p.add_argument("--quality-only", action="store_true",
                   help="only the image-quality probe's cost (part 3)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch intra-op threads (0: torch's default); 1 is steadier on a busy machine")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    q = quality_cost(args.rounds, args.device)
    print(json.dumps(q))
    print(f"quality probe (dcgan_notebook, N = {q['samples']}): {q['measure_ms']:.0f} ms per "
          f"measurement every {q['probe_every']} steps of {q['step_ms']:.1f} ms = "
          f"{100 * q['share']:.2f} % of training time [budget 2 %]; the digits scorer's first "
          f"training {q['scorer_train_s']:.1f} s (held-out accuracy "
          f"{100 * q['scorer_accuracy']:.1f} %), floor and ceiling {q['refs_s']:.1f} s "
          f"({q['threads']} threads)")
    if args.quality_only:
        return
    results = [probe_share("ring8", args.ring_steps, args.device)]
    if not args.skip_dcgan:
        results.append(probe_share("dcgan_notebook", args.dcgan_steps, args.device))
    for r in results:
        print(json.dumps(r))
        print(f"{r['preset']}: probes {100 * r['share']:.2f} % of training time over the run "
              f"({100 * r['steady']:.2f} % after the first line); fast probe "
              f"{r['fast_ms']:.2f} ms x {r['n_fast']}, slow {r['slow_ms']:.2f} ms x "
              f"{r['n_slow']}  [budget 5 %]")
    t = timer_cost(args.rounds, 100, args.device)
    print(json.dumps(t))
    print(f"timer: {t['lap_ns']:.0f} ns per lap ({100 * t['laps_share_of_step']:.3f} % of a ring8 "
          f"step); ring8 step with timer on/off = {t['ratio']:.3f}")


if __name__ == "__main__":
    main()
