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
    assert w.preset_panel.shown_name() == "dcgan_notebook"
    # Qt's painting stays on the GUI thread (sngan_gui.app.paint_on_one_thread)
    assert os.environ.get("QT_NO_GUI_THREADPOOL")


def test_create_window_with_a_presets_name(qtbot, make_window):
    """``sngan-gui --config dcgan_notebook``: after a pip install the presets have no short
    path, so a name opens the preset itself (its combo entry and guide), not a "(file)"."""
    w = make_window("dcgan_notebook")
    assert w.cfg.model.arch == "dcgan"
    combo = w.preset_panel.preset
    assert w.preset_panel.shown_name() == "dcgan_notebook"
    assert combo.count() == len(list(PRESETS.glob("*.toml")))  # no "(file)" entry


def test_main_refuses_a_bad_config_with_status_2(tmp_path, capsys):
    from sngan_gui.app import main

    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[optim]\nlr_d = -1\n")
    assert main(["--config", str(bad)]) == 2
    assert "optim.lr_d" in capsys.readouterr().err


@pytest.mark.slow
def test_preset_combo_loads_a_preset(qtbot, window):
    combo = window.preset_panel.preset
    i = window.preset_panel.index_of("dcgan_notebook")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert window.cfg.data.dataset == "digits" and window.form.editors["model.arch"].currentText() == "dcgan"


@pytest.mark.slow
def test_screenshot_after_short_run(qtbot, window):
    window.play()
    qtbot.waitUntil(lambda: window.step >= 60, timeout=30000)
    window.form.editors["constraints.spectral.enabled"].setChecked(True)
    qtbot.waitUntil(lambda: window.step >= 130 and window.model.snapshot.landscape is not None,
                    timeout=30000)
    window.pause()
    wait_paused(qtbot, window)
    window.refresh_all()
    qtbot.wait(50)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENSHOT))
    img = QImage(str(SCREENSHOT))
    assert img.width() >= 1200 and img.height() >= 800


def _labels(axis, lo, hi):
    """(tick value, label) pairs the axis draws for the log10 range [lo, hi]."""
    out = []
    for spacing, values in axis.tickValues(lo, hi, 200):
        values = [v for v in values if lo <= v <= hi]
        out += zip(values, axis.tickStrings(values, 1.0, spacing))
    return out


def test_log_axis_labels_a_narrow_range_with_readable_values(qtbot):
    import math

    from sngan_gui.panels import QtLogFriendlyAxis

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


def test_a_panel_is_redrawn_only_when_its_own_data_is_new(qtbot, window, monkeypatch):
    from core.contract import FastProbe, Landscape, ProbeSnapshot, SampleGrid, Spectra

    drawn = []
    for panel in window.snapshot_panels:
        monkeypatch.setattr(panel, "draw", lambda model, name=panel.name: drawn.append(name))
    grid = np.zeros((30, 30), dtype=np.float32)

    def snapshot(sample_step=None, spectra_step=None, fast_step=None, landscape_step=None):
        """A snapshot whose parts were measured at these steps (None: absent)."""
        return ProbeSnapshot(
            step=5,
            samples=None if sample_step is None else SampleGrid(sample_step, grid),
            spectra=None if spectra_step is None else Spectra(
                spectra_step, {"fc1": np.array([2.0, 1.0])}, {}),
            fast=None if fast_step is None else FastProbe(fast_step, {}, {}),
            landscape=None if landscape_step is None else Landscape(
                landscape_step, grid[0], grid[0], grid, (0, 1, 0, 1), grid, 1, 0.5, grid[0]))

    def show(s):
        drawn.clear()
        window.model.replace_snapshot(s)
        window.refresh_all()
        return sorted(drawn)

    image = dict(sample_step=5, spectra_step=5, fast_step=5)
    assert show(snapshot(**image)) == ["histogramPlot", "samplesView", "spectrumPlot"]
    assert show(snapshot(**{**image, "spectra_step": 9})) == ["histogramPlot", "spectrumPlot"]
    assert show(snapshot(**{**image, "spectra_step": 9, "sample_step": 9})) == ["samplesView"]
    assert show(snapshot(spectra_step=9, sample_step=9, fast_step=9)) == [
        "spectrumPlot"]  # the info line's conv norms; an image grid has no fast-probe data
    two_d = dict(landscape_step=5, fast_step=5)
    assert show(snapshot(**two_d)) == ["histogramPlot", "samplesView", "spectrumPlot"]
    assert show(snapshot(**{**two_d, "fast_step": 9})) == ["samplesView", "spectrumPlot"]  # arrows
    window.reset_run()  # a new run draws everything again
    assert show(snapshot(**image)) == ["histogramPlot", "samplesView", "spectrumPlot"]
    # an export's refresh_all between the timer's ticks draws each new panel once
    drawn.clear()
    window.model.replace_snapshot(snapshot(**{**image, "spectra_step": 11}))
    window.area.refresh_next()  # one tick of the redraw throttle
    window.refresh_all()
    assert sorted(drawn) == ["histogramPlot", "spectrumPlot"]
