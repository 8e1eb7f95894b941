"""Opening a run whose metrics.jsonl has a million lines: time, memory, responsiveness.

Writes a run folder (the ring8 preset's config.toml, no checkpoint) whose metrics.jsonl has
``--lines`` lines (default 1,000,000) of one of two shapes: ``contract`` (the contract fields
of DESIGN.md: step, time, losses, D outputs, sigma of 4 layers, lip_grad, lip_bound, modes,
hq: ~332 bytes a line, 332 MB for a million, the file of the issue) or ``full`` (every field a
ring8 run logs: ~1 KB a line). Then opens it in the app's window (offscreen) and measures:

- open time: from open_run() until every line is in the plots' history;
- the event loop's longest stall meanwhile (a 10 ms timer's largest gap): the window's
  responsiveness while the file is read;
- peak memory (resident set) of the app's process, and the history's own size.

    QT_QPA_PLATFORM=offscreen python benchmarks/open_big_run.py [--lines N] [--shape full]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.runlayout import RunPaths  # noqa: E402  (the repository root is on the path now)

LAYERS = ("fc1", "fc2", "fc3", "out")


def _num(x: float) -> str:
    return repr(float(x))


def write_run(folder: Path, lines: int, shape: str) -> Path:
    from core import config as C

    paths = RunPaths(folder)
    folder.mkdir(parents=True)
    cfg = C.load(Path(__file__).resolve().parents[1] / "resources" / "presets" / "ring8.toml")
    cfg.set("run.steps", lines * 10)
    C.save(cfg, paths.config)
    paths.events.write_text("")
    rng = np.random.default_rng(0)
    with open(paths.metrics, "w", encoding="utf-8") as fh:
        for lo in range(0, lines, 10_000):
            n = min(10_000, lines - lo)
            # a training run's look: slow trends plus step-to-step noise (a tenth of the
            # range), not uniform noise over the whole range (which no run logs, and whose
            # min/max envelope would be a solid block of full-height strokes to paint)
            t = (lo + np.arange(n))[:, None] / max(lines, 1)
            r = 0.5 + 0.4 * np.sin(2 * np.pi * (t * (1 + np.arange(12)) + np.arange(12) / 12))
            r = r + 0.05 * rng.standard_normal((n, 12))
            out = []
            for i in range(n):
                step = (lo + i + 1) * 10
                v = r[i]
                sigma = {k: _num(1 + v[j]) for j, k in enumerate(LAYERS)}
                if shape == "contract":
                    line = (f'{{"step": {step}, "time": {step * 0.0031:.4f}, '
                            f'"loss_d": {_num(v[4])}, "loss_g": {_num(1 + v[5])}, '
                            f'"d_real": {_num(v[6])}, "d_fake": {_num(-v[7])}, "sigma": '
                            '{' + ", ".join(f'"{k}": {s}' for k, s in sigma.items()) + '}, '
                            f'"lip_grad": {_num(v[8])}, "lip_bound": {_num(3 + v[9])}, '
                            f'"modes": {int(8 * v[10])}, "hq": {v[11]:.4f}}}')
                else:
                    tables = {name: {k: float(s) for k, s in sigma.items()}
                              for name in ("sigma", "sigma_raw", "linf")}
                    line = json.dumps({
                        "step": step, "time": round(step * 0.0031, 4), "loss_d": v[4],
                        "loss_g": 1 + v[5], "d_real": v[6], "d_fake": -v[7], **tables,
                        "conv_norm": {}, "lip_grad": v[8], "lip_bound": 3 + v[9],
                        "lip_bound_note": None, "lip_grad_real": v[8], "lip_grad_fake": v[8],
                        "lip_grad_interp": v[8], "lip_grad_mean_interp": v[8],
                        "clip_share": None, "modes": None if i % 50 else int(8 * v[10]),
                        "hq": None if i % 50 else v[11],
                        "time_split_ms": {"data": v[0], "g_step": v[1], "d_step": v[2],
                                          "constraint": v[3], "probe": v[4]},
                        "probe_time_share": v[5] / 20})
                out.append(line)
            fh.write("\n".join(out) + "\n")
    return folder


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--shape", choices=["contract", "full"], default="contract")
    ap.add_argument("--dir", help="where to write the run (default: a temporary folder)")
    args = ap.parse_args()

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = Path(args.dir or tempfile.mkdtemp(prefix="big-run-"))
    run = root / f"run-{args.shape}-{args.lines}"
    metrics = RunPaths(run).metrics
    if not metrics.is_file():
        t0 = time.perf_counter()
        write_run(run, args.lines, args.shape)
        print(f"wrote {metrics}: {args.lines:,} lines, "
              f"{metrics.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - t0:.1f} s")
    os.environ.setdefault("SNGAN_GUI_HOME", str(root / "home"))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import sngan_gui

    app = QApplication.instance() or QApplication([])
    window = sngan_gui.create_window()
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    rss_before = _rss_mb()

    stall = {"last": None, "max": 0.0, "peak_rss": rss_before}

    def tick() -> None:
        now = time.perf_counter()
        if stall["last"] is not None:
            stall["max"] = max(stall["max"], now - stall["last"])
        stall["last"] = now
        stall["peak_rss"] = max(stall["peak_rss"], _rss_mb())

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    t0 = time.perf_counter()
    key = window.compare.open_run(run)
    entry = window.compare.runs.entry(key)
    opened = time.perf_counter() - t0
    stall["last"] = time.perf_counter()
    history = lambda: entry.source.model.history  # noqa: E731
    while history().lines < args.lines:
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - t0 > 600:
            raise SystemExit(f"not open after 600 s ({history().lines:,} lines)")
    total = time.perf_counter() - t0
    stall_reading = stall["max"]
    window.refresh_all()  # the plots draw the history once
    drawn = time.perf_counter() - t0
    app.processEvents()  # painted
    tick()
    painted = time.perf_counter() - t0
    h = history()
    held = h._first.nbytes * 3 + sum(a.nbytes for a in (*h._v1.values(), *h._v2.values()))
    print(f"open_run() returned after {opened * 1000:.0f} ms; every line in the history after "
          f"{total:.1f} s, plots drawn after {drawn:.1f} s, painted after {painted:.1f} s")
    print(f"longest event-loop stall while reading: {stall_reading * 1000:.0f} ms; then drawing "
          f"and painting the plots once: {stall['max'] * 1000:.0f} ms")
    print(f"app process memory: {rss_before:.0f} MB before opening, peak "
          f"{max(stall['peak_rss'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024):.0f}"
          f" MB (ru_maxrss, whole process)")
    print(f"history: {h.n:,} points per series ({h.nb:,} buckets of {h.stride} lines), "
          f"{len(h._v1)} series, {held / 1e6:.2f} MB")
    window.close()


if __name__ == "__main__":
    main()
