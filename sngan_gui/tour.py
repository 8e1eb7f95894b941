"""A scripted screenshot tour of the app, as a new user's first ten minutes:
``python -m sngan_gui.tour --out DIR``.

For each screen size (1600x1000 and 1280x800, Qt's offscreen platform with a screen of that
size) it opens the app on the D-wins preset, trains it, ticks spectral norm mid-run, trains on,
pausing there with "Pause at step", opens a three-run comparison (two duplicates with
changes), selects another run, and exports a report figure,
saving a PNG of the window at each step (``DIR/<W>x<H>/NN-what.png``) and the exported figure
beside them. It prints each file and the window's width against the screen's, so a window
grown past its screen shows in the output as well as in the pictures.

Each screen size runs in its own process (Qt reads the screen's size once, at start-up). The
app's settings live in a fresh folder under DIR, so the tour starts as a new user would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SCREENS = ((1600, 1000), (1280, 800))
SWITCH_AT = 300      # the guide says ~750; a shorter tour shows the same marker
TRAIN_TO = 500
SWITCH = {"constraints.spectral.enabled": True}
DUPLICATES = ({"optim.lr_g": 1e-4, "loss.kind": "hinge"},
              {"constraints.spectral.enabled": True, "data.batch_size": 128,
               "optim.lr_d": 2e-4})


def _wait(app, until, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if until():
            return True
        time.sleep(0.02)
    return False


def _shoot(app, window, out: Path, name: str) -> Path:
    window.refresh_all()
    for _ in range(5):
        app.processEvents()
    path = out / f"{name}.png"
    window.grab().save(str(path))
    screen = window.screen().availableGeometry()
    print(f"{path}  window {window.frameGeometry().width()}x{window.frameGeometry().height()}"
          f" on a {screen.width()}x{screen.height()} screen", flush=True)
    return path


def tour_one_screen(out: Path, timeout: float = 120.0) -> list[Path]:
    """The tour on the screen this process's Qt platform has (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    os.environ["SNGAN_GUI_HOME"] = str(out / "home")
    from PySide6.QtWidgets import QApplication

    import sngan_gui
    from sngan_gui.report.dialog import FigureRequest

    app = QApplication.instance() or QApplication([sys.argv[0]])
    window = sngan_gui.create_window("d_wins")
    window.form.set_values({"run.steps": TRAIN_TO})
    window.show()
    shots = [_shoot(app, window, out, "01-start-d-wins")]

    window.run_panel.pause_row.step.setValue(SWITCH_AT)  # "Pause at step", beside Play
    window.play()
    _wait(app, lambda: window.step >= SWITCH_AT and not window.worker_running, timeout)
    shots.append(_shoot(app, window, out, "02-paused-at-the-step"))
    window.form.set_values(SWITCH)  # as ticking the box: applied at once, while paused
    window.play()
    _wait(app, lambda: window.step >= SWITCH_AT + 60, timeout)
    shots.append(_shoot(app, window, out, "03-spectral-ticked"))
    _wait(app, lambda: window.step >= TRAIN_TO and window.controller is not None
          and not window.worker_running, timeout)
    shots.append(_shoot(app, window, out, "04-d-wins-done"))

    for changes in DUPLICATES:
        window.compare.duplicate(changes)
    _wait(app, lambda: all(r.model.step >= TRAIN_TO for r in window.compare.all_runs()
                           if r.path is not None), 3 * timeout)
    shots.append(_shoot(app, window, out, "05-three-runs"))
    window.compare.select(window.compare.runs.keys()[1])
    shots.append(_shoot(app, window, out, "06-second-run-selected"))

    panels = ("samples", "loss", "lipschitz", "sigma")
    request = FigureRequest(panels=panels, caption=window.exports.caption(), style="report",
                            formats=("png", "svg"), path=out / "figure", columns=2)
    figures = window.exports.figure(request)
    print("\n".join(str(p) for p in figures), flush=True)
    shots.extend(p for p in figures if p.suffix == ".png")
    window.close()
    return shots


def screen_file(folder: Path, width: int, height: int) -> Path:
    """A Qt offscreen platform configuration with one screen of this size."""
    path = folder / f"screen{width}x{height}.json"
    path.write_text(json.dumps({"screens": [{"name": "tour", "x": 0, "y": 0, "width": width,
                                             "height": height, "logicalDpi": 96}]}))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sngan_gui.tour", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for the screenshots")
    p.add_argument("--this-screen", action="store_true",
                   help="run the tour once, on the screen Qt already has (QT_QPA_PLATFORM)")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.this_screen:
        tour_one_screen(out)
        return 0
    status = 0
    for width, height in SCREENS:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen:configfile="
                   f"{screen_file(out, width, height)}")
        status |= subprocess.call([sys.executable, "-m", "sngan_gui.tour", "--this-screen",
                                   "--out", str(out / f"{width}x{height}")], env=env)
    return status


if __name__ == "__main__":
    sys.exit(main())
