"""GUI training throughput vs the headless CLI, and the worst GUI event-loop stall.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_throughput.py [--rounds 2]

For each preset (ring8, dcgan_notebook) it alternates a headless loop over
``TrainingSession.advance()`` (exactly what ``python main.py train`` does) and the offscreen
GUI training the same config with every plot refreshing, and reports steps/s of both (best
round each) and the GUI's worst event-loop stall, measured as the largest extra delay of a
short QTimer while training (goal: <= 50 ms).

The ratio that counts (goal: >= 0.90) is the GUI against the CLI at its defaults (torch's
default thread count): what a user would otherwise run. The GUI trains in its child process
(core.runloop.RunLoop) with ``default_torch_threads(cfg)`` (conv models: every core; 2D MLPs:
all but one); the ratio against the headless loop at that same thread count is printed beside
it. Each round also prints the CPU seconds of the GUI process (painting, the relay) per
wall-clock second of training.

Each measured window is about 10-14 s (ring8: 2,500 steps; DCGAN: 200 steps; both presets
train 3,000): log-line steps cost about twice a plain one, and on a 2-core machine the
headless DCGAN's rate alone moves from one few-second window to the next by more than the
gap being measured, so short windows measure noise. The machine's speed also drifts from one
minute to the next, so besides the best rounds it prints every round, the ratio of the
medians, and the median of each round's ratio against the CLI run just before it (README,
"Benchmarks", has the figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK_MS = int(os.environ.get("GUI_BENCH_TICK_MS", "20"))
PRESETS = {"ring8": (ROOT / "resources/presets/ring8.toml", 40, 2540),
           "dcgan_notebook": (ROOT / "resources/presets/dcgan_notebook.toml", 5, 205)}


def headless(path: Path, warmup: int, steps: int, threads: int | None) -> float:
    import torch

    from core import config
    from core.session import TrainingSession

    default = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        cfg = config.load(path)
        with tempfile.TemporaryDirectory() as tmp:
            session = TrainingSession(Path(tmp) / "run", cfg)
            for _ in range(warmup):
                session.advance()
            t0 = time.perf_counter()
            for _ in range(steps - warmup):
                session.advance()
            dt = time.perf_counter() - t0
            session.finish()
        return (steps - warmup) / dt
    finally:
        torch.set_num_threads(default)


def gui(app, path: Path, warmup: int, steps: int, threads: int | None) -> tuple[float, float, int]:
    from PySide6.QtCore import QEventLoop, QTimer

    import sngan_gui

    w = sngan_gui.create_window(path, torch_threads=threads)
    w.resize(1440, 900)
    w.show()
    marks: dict[str, float] = {}
    stall = {"last": None, "worst": 0.0, "on": False, "paints": 0}
    tick = QTimer()
    tick.setInterval(TICK_MS)

    def on_tick():
        now = time.perf_counter()
        if stall["on"] and stall["last"] is not None:
            stall["worst"] = max(stall["worst"], now - stall["last"] - TICK_MS / 1000)
        stall["last"] = now

    tick.timeout.connect(on_tick)
    loop = QEventLoop()

    def on_step(step: int):
        if step >= warmup and "start" not in marks:
            marks["start"], marks["s0"] = time.perf_counter(), step
            cpu["start"] = time.process_time()
            stall["on"] = True
        if step >= steps and "end" not in marks:
            marks["end"], marks["s1"] = time.perf_counter(), step
            cpu["end"] = time.process_time()
            stall["on"] = False
            loop.quit()

    w.stepChanged.connect(on_step)
    tick.start()
    cpu = {}
    w.play()
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    tick.stop()
    w.close()
    app.processEvents()
    wall = marks["end"] - marks["start"]
    rate = (marks["s1"] - marks["s0"]) / wall
    return rate, stall["worst"] * 1000, (cpu["end"] - cpu["start"]) / wall


def _rounds(rates: list[float]) -> str:
    return ", ".join(f"{r:.1f}" for r in rates)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--presets", nargs="*", default=list(PRESETS))
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for both (default: sngan_gui's default_torch_threads())")
    args = ap.parse_args()
    os.environ["SNGAN_GUI_HOME"] = tempfile.mkdtemp(prefix="sngan_bench_")

    from PySide6.QtWidgets import QApplication

    import torch

    from core.runloop import default_torch_threads

    app = QApplication.instance() or QApplication([])
    from core import config as config_mod

    torch_default = torch.get_num_threads()
    print(f"cores {os.cpu_count()}, torch default threads {torch_default}")
    ok = True
    for name in args.presets:
        path, warmup, steps = PRESETS[name]
        threads = args.threads or default_torch_threads(config_mod.load(path))
        h, g, stalls, h_default, gui_cpu = [], [], [], [], []
        for _ in range(args.rounds):
            h_default.append(headless(path, warmup, steps, None))
            rate, stall, cpu_share = gui(app, path, warmup, steps, threads)
            g.append(rate)
            stalls.append(stall)
            gui_cpu.append(cpu_share)
            h.append(headless(path, warmup, steps, threads))
        ratio_default = max(g) / max(h_default)
        ratio = max(g) / max(h)
        ok &= ratio_default >= 0.90
        print(f"{name:15s} GUI {max(g):7.1f} steps/s | CLI defaults ({torch_default} torch "
              f"threads) {max(h_default):7.1f} steps/s | ratio vs CLI {ratio_default:.3f} | "
              f"headless at the GUI's {threads} threads {max(h):7.1f} steps/s, ratio "
              f"{ratio:.3f} | GUI process CPU {min(gui_cpu):.2f} s/s | worst stall "
              f"{max(stalls):5.1f} ms (rounds: {', '.join(f'{s:.0f}' for s in stalls)})")
        paired = statistics.median(gi / hi for gi, hi in zip(g, h_default))
        print(f"{'':15s} rounds, steps/s: GUI {_rounds(g)} | CLI defaults {_rounds(h_default)}"
              f" | headless at {threads} threads {_rounds(h)} | ratio of the medians, GUI vs "
              f"CLI defaults {statistics.median(g) / statistics.median(h_default):.3f} | "
              f"median of each round's ratio (GUI vs the CLI run just before it) {paired:.3f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
