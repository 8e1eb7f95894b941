"""How long closing the app's window takes while a run trains (issue 13: goal < 1 s).

Opens the window offscreen on a preset, plays until the run trains, then times
``window.close()``: how long until the window is hidden (what the user sees), and until
``close()`` returns (the training process has written its final log line and checkpoint and
exited, the relay thread has ended). Repeats ``--rounds`` times and prints each figure.

    QT_QPA_PLATFORM=offscreen python benchmarks/close_time.py [--preset ring8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ring8")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50, help="train this far before closing")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("SNGAN_GUI_HOME", tempfile.mkdtemp(prefix="close-time-"))
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    import sngan_gui

    app = QApplication([])
    figures = []
    for _ in range(args.rounds):
        w = sngan_gui.create_window(ROOT / "resources" / "presets" / f"{args.preset}.toml")
        w.show()
        w.play()
        deadline = time.monotonic() + 120
        while w.step < args.steps and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
        proc = w.controller.worker.process
        hidden = []
        stop_plots = w.area.stop  # closeEvent hides the window, then stops the plots

        def plots_stopped(stop=stop_plots, w=w):
            if not w.isVisible():
                hidden.append(time.perf_counter())
            stop()

        w.area.stop = plots_stopped
        t0 = time.perf_counter()
        w.close()
        took = time.perf_counter() - t0
        gone = hidden[0] - t0 if hidden else float("nan")
        alive = proc is not None and proc.is_alive()
        figures.append((gone, took))
        print(f"close at step {w.step}: window hidden after {gone:.3f} s, close() returned "
              f"after {took:.3f} s (training process "
              f"{'still alive!' if alive else f'ended, exit code {proc.exitcode}'})", flush=True)
        w.deleteLater()
        QCoreApplication.processEvents()
    for i, what in enumerate(("window hidden", "close() returned")):
        values = sorted(f[i] for f in figures)
        print(f"{what}: median {values[len(values) // 2]:.3f} s, max {values[-1]:.3f} s over "
              f"{len(values)} rounds")
    del app


if __name__ == "__main__":
    main()
