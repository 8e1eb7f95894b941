"""The filmstrip (View > Filmstrip): every shown run's samples at one step, labelled with the
run's label and its quality figures at that step, stepping through saved grids, the nearest
step said when runs saved at different steps, 2D samples and landscapes, one exported figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import cli_train, open_window
from core import config as C
from sngan_gui.report.dialog import FigureRequest, QtExportFigureDialog
from tests.helpers import tiny_image

pytestmark = pytest.mark.slow  # trains runs


def _quality_lines(run: Path) -> dict[int, dict]:
    """The metrics lines with a quality figure, by step (read here, not by the app)."""
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return {m["step"]: m for m in lines if m.get("fd") is not None or m.get("modes") is not None}


def _nearest(steps, target):
    return min(sorted(steps), key=lambda s: (abs(s - target), s))


def _fd(v):
    return f"fd {v:.0f}" if abs(v) >= 100 else f"fd {v:.3g}"


def _menu_action(w, menu_title, name):
    for menu_action in w.menuBar().actions():
        if menu_action.text().replace("&", "") == menu_title:
            found = [a for a in menu_action.menu().actions() if a.objectName() == name]
            if found:
                return found[0]
    raise AssertionError(f"no action {name} in the {menu_title} menu")


@pytest.fixture(scope="module")
def sn_runs(tmp_path_factory):
    """Two image runs, SN on and off, saving their grids at different steps (on: every 2, off:
    every 3), quality every 4 steps."""
    tmp = tmp_path_factory.mktemp("film")
    base = dict(run__steps=6, run__log_every=1, run__probe_every=4)
    on = cli_train(tmp, "on", tiny_image(constraints__spectral__enabled=True, run__sample_every=2,
                                      **base))
    off = cli_train(tmp, "off", tiny_image(constraints__spectral__enabled=False,
                                        run__sample_every=3, **base))
    return on, off


def test_two_image_runs_side_by_side_at_equal_steps(qtbot, sn_runs, tmp_path, monkeypatch):
    on, off = sn_runs
    w = open_window(qtbot, [on, off])
    # a new user finds it in the View menu (and the Export menu)
    _menu_action(w, "Export", "exportFilmstripAction")
    _menu_action(w, "View", "filmstripAction").trigger()
    f = w.filmstrip
    assert f.isVisible()
    entries = list(w.compare.runs)
    labels = [e.label for e in entries]
    assert len(set(labels)) == 2 and all("spectral" in x for x in labels), labels
    saved = {on: [2, 4, 6], off: [3, 6]}
    qtbot.waitUntil(lambda: len(f.cells) == 2 and f.steps == [2, 3, 4, 6], timeout=20000)
    # latest: the newest step both runs reached
    assert f.latest.isChecked() and f.asked == 6
    for step in (6, 4, 2, 3):
        f.show_step(step)
        assert not f.latest.isChecked()
        assert f.step_label.text() == f"step {step}"
        for cell, entry in zip(f.cells, entries):
            run = entry.path
            shown = _nearest(saved[run], step)
            quality = _quality_lines(run)
            q = quality[_nearest(quality, shown)]
            assert cell.title.text() == entry.label
            assert cell.step.text() == (f"step {shown}" if shown == step
                                        else f"step {shown} (nearest to {step})")
            figures = f"{_fd(q['fd'])} · classes {q['classes']}"
            if q["step"] != shown:
                figures += f" (at step {q['step']})"
            assert cell.figures.text() == figures
            assert cell.frame.quality["fd"] == q["fd"]  # the number itself, not a bucket's
            png = np.asarray(Image.open(run / "samples" / f"step_{shown:07d}.png").convert("L"))
            np.testing.assert_array_equal(cell.frame.pixels[..., 0], png)
            np.testing.assert_array_equal(cell.image.image, png)
    # the slider steps through every saved step
    f.slider.setValue(f.steps.index(4))
    assert f.asked == 4 and [c.frame.step for c in f.cells] == [4, 3]

    # exported as one report figure: PNG at 300 dpi with its caption, PDF and SVG beside it
    shown_dialog = []

    def accept(dlg):
        shown_dialog.append(dlg)
        dlg.path.setText(str(tmp_path / "strip"))
        for fmt, box in dlg.format_boxes.items():
            box.setChecked(True)
        return True

    monkeypatch.setattr(QtExportFigureDialog, "exec", accept)
    _menu_action(w, "Export", "exportFilmstripAction").trigger()
    dlg, = shown_dialog
    assert [b.text() for b in dlg.panel_boxes.values()] == labels
    for ext in ("png", "pdf", "svg"):
        assert (tmp_path / f"strip.{ext}").stat().st_size > 0, ext
    assert "exported" in w.statusBar().currentMessage()
    img = Image.open(tmp_path / "strip.png")
    assert img.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    caption = img.info["Description"]
    assert caption.startswith("Samples at step 4. A run without samples at that step shows "
                              "its nearest, its step under it.")
    assert all(label in caption for label in labels)
    svg = (tmp_path / "strip.svg").read_text()  # each panel says its step and figures
    assert "step 3 (nearest to 4)" in svg and f"classes {_quality_lines(off)[4]['classes']}" in svg
    assert "constraints.spectral.enabled (on / off)" in caption
    w.close()
    assert not f.isVisible()  # closes with the main window


def test_figure_of_chosen_runs_names_only_them(qtbot, sn_runs, tmp_path):
    on, off = sn_runs
    w = open_window(qtbot, [on, off])
    w.filmstrip.open()
    f = w.filmstrip
    qtbot.waitUntil(lambda: len(f.cells) == 2, timeout=20000)
    first = list(w.compare.runs)[0]
    paths = f.figure(FigureRequest(panels=(str(first.key),), caption=f.caption(),
                                   style="report", formats=("png",), path=tmp_path / "one",
                                   columns=2))
    caption = Image.open(paths[0]).info["Description"]
    assert caption.startswith("Samples at step 6.") and "Run: " in caption
    assert list(w.compare.runs)[1].label not in caption.split("They differ")[0]
    # a run unticked in the run list leaves the filmstrip
    w.compare.runs.set_visible(first.key, False)
    qtbot.waitUntil(lambda: len(f.cells) == 1, timeout=5000)
    w.close()


def test_a_2d_run_shows_samples_and_landscape_at_each_step_it_reported(qtbot, window):
    w = window
    w.form.cfg.update({"run.steps": 40, "run.probe_every": 10, "run.log_every": 10})
    w.act_filmstrip.trigger()
    f = w.filmstrip
    assert "tick runs" in f.note.text() or "no samples" in f.note.text()
    w.play()
    qtbot.waitUntil(lambda: w.model.state.value == "finished", timeout=60000)
    qtbot.waitUntil(lambda: bool(f.steps) and f.steps[-1] == 40, timeout=10000)
    quality = _quality_lines(w.run_dir)
    # the landscapes the run reported while the window held it: the slow probes' and those
    # measured between the log lines for the display (core.liveprobes), the last one at 40
    assert len(f.steps) >= 2 and f.steps[-1] == 40, f.steps
    assert f.latest.isChecked() and f.asked == 40  # "Latest" followed the run as it trained
    assert "keeps no past landscape" in f.note.text()
    cell, = f.cells
    assert cell.two_d and cell.title.text() == w.compare.label(w.current)
    for step in f.steps:
        f.show_step(step)
        land = cell.frame.landscape
        assert land.step == step and cell.step.text() == f"step {step}"
        # the figures of the metrics line at that step (read here), else the landscape's own
        q = quality.get(step, {"modes": land.modes, "hq": land.hq})
        assert (land.modes, land.hq) == (q["modes"], pytest.approx(q["hq"]))
        assert cell.figures.text() == f"modes {q['modes']}/8 · hq {100 * q['hq']:.0f} %"
        np.testing.assert_array_equal(cell.image.image, np.asarray(land.values, np.float32))
    # a step between two landscapes shows the nearest, and says so
    gaps = [(a, b) for a, b in zip(f.steps, f.steps[1:]) if b - a >= 3]
    if gaps:
        a, _b = gaps[0]
        f.show_step(a + 1)
        assert cell.step.text() == f"step {a} (nearest to {a + 1})"
    specs_dir = w.run_dir.parent / "fig"
    paths = f.figure(FigureRequest(panels=(str(w.compare.runs.keys()[0]),),
                                   caption=f.caption(), style="report", formats=("svg",),
                                   path=specs_dir / "ring", columns=1))
    text = paths[0].read_text()
    assert "critic D(x)" in text and "Samples and critic landscapes at step" in text


def test_a_training_runs_live_grid_is_shown_at_its_step(qtbot, make_window, tmp_path):
    """Between two saved grids the filmstrip shows the grid the training process sent."""
    path = tmp_path / "img.toml"
    C.save(tiny_image(run__steps=100, run__sample_every=50, run__log_every=1), path)
    w = make_window(path)
    w.act_filmstrip.trigger()
    f = w.filmstrip
    for step in (1, 2, 3):
        w.step_once()
        qtbot.waitUntil(lambda s=step: w.step == s, timeout=60000)
    qtbot.waitUntil(lambda: w.model.snapshot.samples is not None
                    and w.model.snapshot.samples.step == 3, timeout=20000)
    assert not (w.run_dir / "samples").exists() or not list((w.run_dir / "samples").iterdir())
    qtbot.waitUntil(lambda: bool(f.cells) and f.cells[0].frame.step == 3, timeout=5000)
    cell, = f.cells
    assert f.steps == [3] and cell.step.text() == "step 3"
    np.testing.assert_array_equal(cell.frame.pixels, w.model.snapshot.samples.pixels)
    quality = _quality_lines(w.run_dir)  # the first line is a slow-probe line
    q = quality[_nearest(quality, 3)]
    figures = f"{_fd(q['fd'])} · classes {q['classes']}"
    assert cell.figures.text() == (figures if q["step"] == 3 else
                                   f"{figures} (at step {q['step']})")
