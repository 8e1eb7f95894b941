"""Entry points, command line, screenshot, and Qt-free helpers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from conftest import PRESETS, ROOT, wait_paused

SCREENSHOT = Path(os.environ.get("SNGAN_GUI_SCREENSHOT", ROOT / "build" / "screenshots" / "main_window.png"))


def test_create_window_with_config(qtbot, make_window):
    w = make_window(PRESETS / "dcgan_notebook.toml")
    assert w.cfg.model.arch == "dcgan" and w.cfg.constraints.spectral.enabled
    assert w.findChild(type(w.form.editors["constraints.spectral.enabled"]), "spectralCheck").isChecked()
    assert w.experiment_panel.preset.currentText() == "dcgan_notebook"
    assert not w.isVisible() or True


def test_main_refuses_a_bad_config_with_status_2(tmp_path, capsys):
    from sngan_gui.app import main

    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[optim]\nlr_d = -1\n")
    assert main(["--config", str(bad)]) == 2
    assert "optim.lr_d" in capsys.readouterr().err


def test_preset_combo_loads_a_preset(qtbot, window):
    combo = window.experiment_panel.preset
    i = combo.findText("dcgan_notebook")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert window.cfg.data.dataset == "digits" and window.form.editors["model.arch"].currentText() == "dcgan"


def test_screenshot_after_short_run(qtbot, window):
    window.play()
    qtbot.waitUntil(lambda: window.step >= 60, timeout=30000)
    window.form.editors["constraints.spectral.enabled"].setChecked(True)
    qtbot.waitUntil(lambda: window.step >= 130 and window.snapshot.get("critic") is not None,
                    timeout=30000)
    window.pause()
    wait_paused(qtbot, window)
    window.refresh_all()
    qtbot.wait(50)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENSHOT))
    img = QImage(str(SCREENSHOT))
    assert img.width() >= 1200 and img.height() >= 800


def test_history_stays_bounded_and_keeps_shape():
    from sngan_gui.history import History, smooth

    h = History(capacity=64)
    for i in range(10_000):
        h.append(i, {"a": float(i)})
    assert len(h) <= 64 and h.steps[0] == 0 and h.steps[-1] > 9000
    assert np.all(np.diff(h.steps) > 0)
    assert np.array_equal(h.column("a"), h.steps)
    y = smooth(np.array([0.0, 2.0, np.nan, 4.0]), 2)
    assert np.allclose(y, [0.0, 1.0, 2.0, 4.0])


def test_marker_text():
    from sngan_gui.qt_main_window import marker_text

    assert marker_text({"constraints.spectral.enabled": True}) == "SN on"
    assert marker_text({"constraints.clip.c": 0.05}) == "clip c=0.05"
    assert marker_text({"optim.lr_d": 0.001}) == "lr_d=0.001"
