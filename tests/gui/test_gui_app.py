"""Entry points, command line, screenshot, and Qt-free helpers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from conftest import PRESETS, ROOT, wait_paused

SCREENSHOT = Path(os.environ.get("SNGAN_GUI_SCREENSHOT", ROOT / "build" / "screenshots" / "main_window.png"))


def test_create_window_with_config(qtbot, make_window):
    w = make_window(PRESETS / "dcgan_notebook.toml")
    assert w.cfg.model.arch == "dcgan" and w.cfg.constraints.spectral.enabled
    assert w.findChild(type(w.form.editors["constraints.spectral.enabled"]), "spectralCheck").isChecked()
    assert w.experiment_panel.preset.currentText() == "dcgan_notebook"


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


def _labels(axis, lo, hi):
    """(tick value, label) pairs the axis draws for the log10 range [lo, hi]."""
    out = []
    for spacing, values in axis.tickValues(lo, hi, 200):
        values = [v for v in values if lo <= v <= hi]
        out += zip(values, axis.tickStrings(values, 1.0, spacing))
    return out


def test_log_axis_labels_a_narrow_range_with_readable_values(qtbot):
    import math

    from sngan_gui.qt_plots import QtLogFriendlyAxis

    axis = QtLogFriendlyAxis("left")
    axis.setLogMode(False, True)
    # sigma under SN: 0.99 .. 1.12 holds only the "1" of pyqtgraph's log ticks
    narrow = _labels(axis, math.log10(0.99), math.log10(1.12))
    texts = [t for _, t in narrow if t]
    assert len(texts) >= 3 and len(set(texts)) == len(texts), narrow
    for value, text in narrow:  # every label is the value at its position
        assert float(text) == pytest.approx(10 ** value, abs=1e-9 + 0.5 * 10 ** -len(text.split(".")[-1]))
    # a wide range keeps the decade labels
    wide = [t for _, t in _labels(axis, -2, 3) if t]
    assert "1" in wide and any("10" in t for t in wide)


def test_snapshot_refreshes_spectra_between_slow_probes(tmp_path):
    """The spectrum and histogram panels follow training between the engine's slow probes:
    take_snapshot asks the prober for fresh spectra (on its time budget) and labels them."""
    from core import config
    from core.session import TrainingSession
    from sngan_gui import probes

    cfg = config.load(PRESETS / "ring8.toml")
    cfg.update({"run.log_every": 5, "run.probe_every": 1000, "run.steps": 50})
    session = TrainingSession(tmp_path / "run", cfg)
    state: dict = {}
    for _ in range(5):
        session.advance()
    first = probes.take_snapshot(session, state, force=True)
    assert first["spectra_step"] == 5
    for _ in range(12):
        session.advance()
    state["spectra_t"] = -1e9  # the budget's minimum interval has passed
    snap = probes.take_snapshot(session, state)
    assert snap["spectra_step"] == 17 and snap["slow_step"] == 5
    assert set(snap["spectra"]) == set(snap["hist"]) == set(first["spectra"])
    session.close()


def test_a_panel_is_redrawn_only_when_its_own_data_is_new(qtbot, window, monkeypatch):
    drawn = []
    for panel in window.snapshot_panels:
        monkeypatch.setattr(panel, "update_snapshot",
                            lambda snap, name=panel.name: drawn.append(name))
    grid = np.zeros((30, 30), dtype=np.float32)
    snap = {"kind": "image", "step": 5, "sample_step": 5, "spectra_step": 5, "fast_step": 5,
            "grid": grid, "spectra": {"fc1": np.array([2.0, 1.0])}, "hist": {}}

    def show(s):
        drawn.clear()
        window.snapshot, window._snapshot_dirty = s, True
        window.refresh_all()
        return sorted(drawn)

    assert show(snap) == ["histogramPlot", "samplesView", "spectrumPlot"]
    assert show({**snap, "spectra_step": 9}) == ["histogramPlot", "spectrumPlot"]
    assert show({**snap, "spectra_step": 9, "sample_step": 9}) == ["samplesView"]
    assert show({**snap, "spectra_step": 9, "sample_step": 9, "fast_step": 9}) == [
        "spectrumPlot"]  # the info line's conv norms; an image grid has no fast-probe data
    two_d = {"kind": "2d", "step": 5, "landscape_step": 5, "fast_step": 5, "fake": grid}
    assert show(two_d) == ["histogramPlot", "samplesView", "spectrumPlot"]
    assert show({**two_d, "fast_step": 9}) == ["samplesView", "spectrumPlot"]  # arrows
    window.reset_run()  # a new run draws everything again
    assert show(snap) == ["histogramPlot", "samplesView", "spectrumPlot"]
    # an export's refresh_all between the timer's "which panels" tick and their draws
    drawn.clear()
    window.snapshot, window._snapshot_dirty = {**snap, "spectra_step": 11}, True
    while window._snapshot_dirty:
        window.refresh_plots()
    window.refresh_all()
    assert sorted(drawn) == ["histogramPlot", "spectrumPlot"]
