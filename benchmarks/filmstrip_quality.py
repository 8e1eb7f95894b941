"""The filmstrip's first read of a big run's quality lines (core.filmstrip.QualityLog).

The filmstrip reads each shown run's metrics.jsonl itself (the plots' history is decimated:
its numbers at a step may be a bucket's), on the GUI thread, once, then only what is appended.
This writes a metrics.jsonl of ``--lines`` lines (default 1,000,000; an image run's shape,
~330 bytes a line, a quality line every ``--every`` lines) and times:

- ``QualityLog.refresh()`` the first time (only the lines with a quality figure are parsed);
- parsing every line with ``json.loads`` (what reading the whole file as JSON costs);
- an incremental refresh after 100 more lines.

    python benchmarks/filmstrip_quality.py [--lines N] [--every K]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.filmstrip import QualityLog  # noqa: E402
from core.runlayout import RunPaths  # noqa: E402


def _line(step: int, quality: bool) -> str:
    rec = {"step": step, "time": 0.01 * step, "loss_d": 0.6931, "loss_g": 0.7012,
           "d_real": 0.51, "d_fake": 0.49,
           "sigma": {f"main.{i}": 1.0123 for i in (0, 2, 5, 8)},
           "lip_grad": 1.234, "lip_bound": 5.678,
           "fd": 12.5 if quality else None, "kid": 0.01 if quality else None,
           "classes": 9 if quality else None, "modes": None, "hq": None}
    return json.dumps(rec) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--every", type=int, default=50, help="a quality line every K lines")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = RunPaths(tmp).metrics
        with open(path, "w") as fh:
            for i in range(1, args.lines + 1):
                fh.write(_line(i, i % args.every == 0))
        size = path.stat().st_size
        log = QualityLog(tmp)
        t = time.perf_counter()
        log.refresh()
        first = time.perf_counter() - t
        t = time.perf_counter()
        with open(path, "rb") as fh:
            n = sum(1 for raw in fh if json.loads(raw).get("fd") is not None)
        every = time.perf_counter() - t
        with open(path, "a") as fh:
            for i in range(args.lines + 1, args.lines + 101):
                fh.write(_line(i, i % args.every == 0))
        t = time.perf_counter()
        log.refresh()
        more = time.perf_counter() - t
    assert len(log.steps) >= n
    print(f"{args.lines:,} lines, {size / 1e6:.0f} MB, {n:,} quality lines")
    print(f"QualityLog first refresh: {first:.2f} s  (json.loads of every line: {every:.2f} s)")
    print(f"QualityLog refresh after 100 more lines: {1000 * more:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
