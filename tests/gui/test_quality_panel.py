"""The Quality panel: an image run's quality lines with their floor and ceiling, the views,
two runs overlaid with their switch markers, exports; a 2D run's modes / hq."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import cli_train
from tests.helpers import tiny_2d, tiny_image


pytestmark = pytest.mark.slow  # trains runs; the app measures opened runs in a child process


def _lines(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _window(qtbot, runs):
    import sngan_gui

    w = sngan_gui.create_window(None, runs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.area.refresh_all()
    return w


def test_quality_panel_draws_an_image_runs_quality_lines(qtbot, tmp_path):
    run = cli_train(tmp_path, "img", tiny_image(run__steps=6, run__log_every=2, run__probe_every=4))
    lines = [r for r in _lines(run) if r.get("fd") is not None]
    assert [r["step"] for r in lines] == [2, 4, 6]
    w = _window(qtbot, [run])
    panel = w.area.quality
    assert w.area.panels["quality"] is panel
    assert panel.view_box.currentData() == "fd" and panel.export_item.ctrl.logYCheck.isChecked()
    x, y = panel.curves["fd"].getOriginalDataset()
    assert list(x) == [2, 4, 6] and np.allclose(y, [r["fd"] for r in lines])
    # the step axes end near the run's last step (7, not 10 with the former 1/2/5 bounds)
    for name in ("quality", "loss"):
        right = w.area.panels[name].export_item.getViewBox().viewRange()[0][1]
        assert 6 < right <= 7 * 1.03, (name, right)
    floor, ceiling = lines[-1]["quality_floor"]["fd"], lines[-1]["quality_ceiling"]["fd"]
    labels = sorted(line.label.textItem.toPlainText() for line in panel._refs)
    assert labels == sorted([f"ceiling {ceiling:.0f}" if ceiling >= 100 else f"ceiling {ceiling:.3g}",
                             f"floor {floor:.3g}"])
    assert [10 ** line.value() for line in panel._refs] == [pytest.approx(floor),
                                                            pytest.approx(ceiling)]
    info = panel.info.text()
    assert info.startswith("fd ") and "floor" in info and "classes" in info and "P " in info
    assert "precision" in panel.info.toolTip() and "ceiling" in panel.info.toolTip()
    # another view: precision and recall on a linear axis, no floor lines for two series
    panel.select("pr")
    w.area.refresh_all()
    assert set(panel.curves) == {"precision", "recall"}
    assert not panel.export_item.ctrl.logYCheck.isChecked()
    panel.select("classes")
    w.area.refresh_all()
    assert len(panel._refs) == 2
    # exported like the others: PNG and CSV
    w.exports.plot("quality", tmp_path / "q.png")
    csv = (tmp_path / "q.csv")
    w.exports.plot("quality", csv)
    assert (tmp_path / "q.png").stat().st_size > 1000 and "classes" in csv.read_text()
    w.close()


def test_two_runs_overlay_with_markers_and_a_2d_run_keeps_modes(qtbot, tmp_path):
    a = cli_train(tmp_path, "a", tiny_image(run__steps=6, run__log_every=2, run__probe_every=2),
               "--change", "3:constraints.spectral.enabled=true")
    b = cli_train(tmp_path, "b", tiny_image(run__steps=6, run__log_every=2, run__probe_every=2,
                                         constraints__spectral__enabled=True))
    w = _window(qtbot, [a, b])
    panel = w.area.quality
    assert panel.overlaid
    keys = panel.overlay.run_keys()
    assert len(keys) == 2
    for key, run in zip(keys, (a, b)):
        x, y = panel.overlay.curves(key)["fd"].getOriginalDataset()
        assert np.allclose(y, [r["fd"] for r in _lines(run)])
    assert panel.overlay._runs[keys[0]].markers  # run a's switch at step 3
    w.close()
    ring = cli_train(tmp_path, "ring", tiny_2d(run__steps=20, run__probe_every=5))
    w = _window(qtbot, [ring])
    panel = w.area.quality
    assert panel.view_box.currentData() == "modes"
    x, y = panel.curves["modes"].getOriginalDataset()
    modes = [r["modes"] for r in _lines(ring) if r["modes"] is not None]
    assert np.allclose(y, modes) and all(math.isfinite(v) for v in y)
    assert panel.info.text().startswith("modes ")
    w.close()


def test_stacked_and_parzen_runs_get_their_own_views(qtbot, tmp_path):
    """A stacked run's modes of 1,000 and mode KL, and the Parzen estimate where
    quality.parzen is on, are views of their own (stacked runs log no ``classes``: before,
    their modes were in the info line only); a plain digits run does not offer them."""
    run = cli_train(tmp_path, "stacked", tiny_image(
        data__dataset="stacked_digits", run__steps=4, run__log_every=2, run__probe_every=2,
        quality__parzen=True, quality__final_mode_samples=100))
    lines = [r for r in _lines(run) if r.get("fd") is not None]
    w = _window(qtbot, [run])
    panel = w.area.quality
    offered = [panel.view_box.itemData(i) for i in range(panel.view_box.count())]
    assert {"stacked_modes", "mode_kl", "parzen"} <= set(offered)
    for view, field in (("stacked_modes", "modes"), ("mode_kl", "mode_kl"),
                        ("parzen", "parzen_ll")):
        panel.select(view)
        w.area.refresh_all()
        x, y = panel.curves[field].getOriginalDataset()
        assert list(x) == [r["step"] for r in lines]
        assert np.allclose(y, [r[field] for r in lines]), view
    # the Parzen view's floor (real kernels) and ceiling (an untrained G) as reference lines
    assert sorted(line.value() for line in panel._refs) == pytest.approx(sorted(
        [lines[-1]["quality_floor"]["parzen_ll"], lines[-1]["quality_ceiling"]["parzen_ll"]]))
    assert "Parzen" in panel.info.text() and "modes" in panel.info.text()
    w.close()
    plain = cli_train(tmp_path, "plain", tiny_image(run__steps=2, run__log_every=2))
    w = _window(qtbot, [plain])
    offered = [w.area.quality.view_box.itemData(i) for i in range(w.area.quality.view_box.count())]
    assert not {"stacked_modes", "mode_kl", "parzen"} & set(offered)
    w.close()


def test_overlaid_runs_keep_the_floor_and_ceiling_in_view(qtbot, tmp_path):
    runs = [cli_train(tmp_path, name, tiny_image(run__steps=4, run__log_every=2,
                                              run__probe_every=2, run__seed=seed))
            for name, seed in (("a", 0), ("b", 1))]
    w = _window(qtbot, runs)
    panel = w.area.quality
    assert panel.overlaid and len(panel._refs) == 2
    lo, hi = panel.export_item.getViewBox().viewRange()[1]
    for line in panel._refs:
        assert lo <= line.value() <= hi
    w.close()


def test_a_new_run_offers_the_quality_views_of_its_data(qtbot):
    """Before its first line a new 2D run's quality panel offered "fd" (an image view)."""
    from conftest import open_window
    from core.presets import list_presets

    w = open_window(qtbot, config=str(list_presets()["d_wins"]))
    panel = w.area.panels["quality"]
    w.refresh_all()
    assert panel.view()[0] == "modes"
    w.load_preset(str(list_presets()["dcgan_notebook"]))
    w.refresh_all()
    assert panel.view()[0] == "fd"
    w.close()
