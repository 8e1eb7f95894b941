"""Installed like a real package: the wheel ships every resource, and after a plain (not
editable) install into a fresh virtual environment the entry points work from a folder outside
the repository: ``--version``, the presets, a short training run, and the app's window,
offscreen, with its dark theme and icon. (What "fresh" means here, without copying torch:
tests/installed_wheel.py. ``reproduce --quick`` from the installed wheel: test_reproduce.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from installed_wheel import ROOT

from core import __version__

pytestmark = pytest.mark.slow  # builds and installs the wheel, runs its commands


def test_the_wheel_ships_every_resource(installed_wheel):
    names = set(installed_wheel.names())
    shipped = {f"core/_resources/{p.relative_to(ROOT / 'resources').as_posix()}"
               for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert shipped and shipped <= names
    assert {"core/_resources/style/dark.qss", "core/_resources/presets/ring8.toml",
            "core/_resources/reproduce/coverage_ring8.toml",
            "core/_resources/icons/lipschitz-playground.svg"} <= shipped
    # Only the two packages, no top-level main.py or tests in site-packages.
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"core", "sngan_gui"}
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert meta.startswith(f"lipschitz_playground-{__version__}.dist-info/")


def test_commands_work_from_outside_the_repository(installed_wheel, tmp_path):
    w = installed_wheel
    w.check_isolated()
    for command in ([w.bin / "sngan-gui", "--version"],
                    [w.python, "-m", "sngan_gui", "--version"]):
        proc = w.run(*command)
        assert proc.returncode == 0 and proc.stdout == f"lipschitz-playground {__version__}\n"

    presets = w.run(w.bin / "sngan-gui", "presets")
    assert presets.returncode == 0, presets.stderr
    shipped = sorted(p.stem for p in (ROOT / "resources" / "presets").glob("*.toml"))
    names = [line.split()[0] for line in presets.stdout.splitlines()[:len(shipped)]]
    assert names == shipped
    assert str(w.venv) in presets.stdout  # the installed copy's folder, not the repository's

    # A preset by its name, trained by the installed console script into a relative folder.
    train = w.run(w.bin / "sngan-gui", "train", "--config", "ring8", "--out", "demo",
                  "--steps", "12", "--set", "run.log_every=4", "--no-progress",
                  SNGAN_GUI_HOME=str(tmp_path / "home"))
    assert train.returncode == 0, train.stderr
    lines = (w.outside / "demo" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [4, 8, 12]
    assert (w.outside / "demo" / "checkpoints" / "last" / "D.pt").is_file()


# Runs in the installed environment: the console script's own function opens the app (show,
# event loop), and a timer reports what the window looks like and quits.
WINDOW_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import sngan_gui.launcher
from core.resource_paths import icon_svg, style_sheet
from sngan_gui import theme
from sngan_gui.qt_main_window import QtMainWindow
from sngan_gui.panels.presets import NAME_ROLE

app = QApplication([sys.argv[0]])
found = {}

def look():
    window = next(w for w in app.topLevelWidgets() if isinstance(w, QtMainWindow))
    window.resize(1280, 800)
    found.update(
        visible=window.isVisible(),
        style_sheet=app.styleSheet(), packaged_style=style_sheet().read_text(encoding="utf-8"),
        window_colour=app.palette().window().color().name(), theme_panel=theme.PANEL,
        icon_sizes=[s.width() for s in app.windowIcon().availableSizes()],
        window_icon=not window.windowIcon().isNull(), icon_file=str(icon_svg()),
        presets=[window.preset_panel.preset.itemData(i, NAME_ROLE)
                 for i in range(window.preset_panel.preset.count())],
        preset_shown=window.preset_panel.shown_name(),
        screenshot=window.grab().save(sys.argv[1]))
    window.close()
    app.quit()

QTimer.singleShot(0, look)
status = sngan_gui.launcher.main([])
found["status"] = status
print(json.dumps(found))
"""


def test_the_installed_app_opens_with_presets_theme_and_icon(installed_wheel, tmp_path):
    w = installed_wheel
    shot = Path(os.environ.get("SNGAN_GUI_SHOTS", tmp_path)) / "installed_window.png"
    proc = w.run(w.python, "-c", WINDOW_SCRIPT, shot, SNGAN_GUI_HOME=str(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.splitlines()[-1])
    assert found["status"] == 0 and found["visible"] and found["screenshot"]
    assert found["style_sheet"] == found["packaged_style"]
    assert found["style_sheet"] == (ROOT / "resources/style/dark.qss").read_text(encoding="utf-8")
    assert found["window_colour"] == found["theme_panel"].lower()
    assert found["window_icon"] and {16, 32, 48, 256} <= set(found["icon_sizes"])
    assert Path(found["icon_file"]).is_relative_to(w.venv)
    assert found["preset_shown"] == "ring8"
    assert sorted(found["presets"]) == sorted(
        p.stem for p in (ROOT / "resources" / "presets").glob("*.toml"))
