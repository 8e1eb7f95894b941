"""What a new user tripped over in the first ten minutes, kept fixed (issue 21): legends that
covered the curves, a window wider than its screen, headers without their numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PRESETS, open_window
from core import config as C
from tests.helpers import tiny_2d


def _folder(tmp_path: Path, name: str, sets: dict, layers=("fc1", "fc2", "fc3", "out"),
            steps=(5, 10, 15)) -> Path:
    """A finished run folder written by hand (config and metrics), its D of ``layers``."""
    run = tmp_path / name
    run.mkdir()
    cfg = tiny_2d(run__steps=steps[-1])
    cfg.update(sets)
    C.save(cfg, run / "config.toml")
    lines = [{"step": s, "time": 0.1 * s, "loss_d": 1.0 + i, "loss_g": 2.0, "d_real": 0.5,
              "d_fake": -0.5, "sigma": {layer: 1.0 + 0.1 * j for j, layer in enumerate(layers)},
              "lip_bound": 3.0, "lip_grad": 1.0} for i, s in enumerate(steps)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in lines))
    return run


THREE_RUNS = (("a", {}),
              ("b", {"constraints.spectral.enabled": True, "loss.kind": "hinge",
                     "optim.lr_d": 1e-3}),
              ("c", {"constraints.gp.enabled": True, "loss.kind": "wasserstein",
                     "optim.lr_d": 5e-4, "run.seed": 1}))


def _legend_over_data(panel) -> list[str]:
    """The legend entries whose rectangle lies on the plot's data area (its view box)."""
    view = panel.export_item.getViewBox().sceneBoundingRect()
    return [label.text for sample, label in panel.legend.items
            if label.isVisible() and label.sceneBoundingRect().intersects(view)]


def test_legends_never_cover_the_data_with_three_runs(qtbot, gui_home, tmp_path):
    """Three runs that differ in several settings: the σ legend covered its whole plot and
    the Losses legend sat on the curves. Every legend now stays off the view box, the window
    stays on its screen, and what a small plot cannot list is in the legend's tooltip."""
    folders = [_folder(tmp_path, name, sets) for name, sets in THREE_RUNS]
    w = open_window(qtbot)
    w.resize(1280, 800)
    w.compare.open_runs(folders)
    w.refresh_all()
    qtbot.wait(100)
    for panel in (w.loss, w.sigma, w.lipschitz):  # (hand-made folders have no spectra)
        assert panel.legend.items, panel.title
        assert _legend_over_data(panel) == [], panel.title
        legend, plot = panel.legend.sceneBoundingRect(), panel.export_item.sceneBoundingRect()
        assert legend.height() <= max(0.4 * plot.height(), 30), panel.title  # one row at least
    sigma = w.sigma.legend
    names = [label.text for _, label in sigma.items]
    assert len(names) == 3 + 4  # each run once, each layer once
    if sigma.hidden_entries:
        assert all(name.replace(">", "&gt;") in sigma.toolTip() for name in names)
    assert w.frameGeometry().width() <= 1280 + 8
    w.close()


def test_a_single_runs_legends_leave_the_curves_visible(window, qtbot):
    """One run: the Losses legend sat on its curves, the spectrum's on its lines; headers
    showed "now: 0.99…" / "step 1…" (kept fixed: each shows its figure at 1280x800)."""
    import re

    window.resize(1280, 800)
    window.form.set_values({"run.steps": 20})
    window.play()
    qtbot.waitUntil(lambda: window.step >= 20 and not window.worker_running, timeout=60000)
    window.refresh_all()
    qtbot.wait(100)
    for panel in (window.loss, window.sigma, window.lipschitz, window.spectrum):
        assert panel.legend.items, panel.title
        assert _legend_over_data(panel) == [], panel.title
    shown = {name: p.info._drawn for name, p in window.panels.items()}  # as painted
    assert re.match(r"now: \d+\.\d+, \d", shown["sigma"]), shown
    assert re.match(r"bound \d", shown["lipschitz"]), shown
    assert re.match(r"step \d+", shown["spectrum"]) and re.match(r"step \d+", shown["histogram"])


def _controls_fit(w) -> bool:
    """Every run button and the preset box show whole in the controls dock."""
    viewport = w.controls_dock.widget().viewport()
    for button in (w.run_panel.play, w.run_panel.step, w.run_panel.reset,
                   w.preset_panel.preset):
        right = button.mapTo(viewport, button.rect().topRight()).x()
        if right > viewport.width():
            return False
    return True


def test_relaunch_restores_the_preset_its_guide_and_usable_docks(qtbot, make_window):
    """Relaunched, the Preset box said cifar10_sngan over a digits/DCGAN config, the guide was
    gone and the controls dock came back too narrow for its buttons."""
    from PySide6.QtCore import Qt

    w = make_window("dcgan_notebook")
    w.resizeDocks([w.controls_dock], [100], Qt.Horizontal)  # as narrow as it goes
    w.close()
    again = make_window()
    assert again.cfg.model.arch == "dcgan"
    assert again.preset_panel.shown_name() == "dcgan_notebook"
    assert again.preset_panel.preset.currentText().startswith("The SN-GAN course notebook")
    assert again.preset_panel.guide.isVisibleTo(again) and again.preset_panel.guide.title.text()
    assert _controls_fit(again)

    again.form.set_values({"optim.lr_g": 1e-3})  # edited: no longer the preset
    assert again.preset_panel.shown_name() == "custom"
    again.close()
    third = make_window()
    assert third.cfg.optim.lr_g == 1e-3 and third.preset_panel.shown_name() == "custom"
    assert "edited from The SN-GAN course notebook" in third.preset_panel.preset.currentText()
    assert third.preset_panel.guide.isVisibleTo(third)  # the guide of the preset it came from
    third.form.set_values({"optim.lr_g": 2e-4})  # back to the preset's value
    assert third.preset_panel.shown_name() == "dcgan_notebook"


def test_the_preset_comes_first_by_title_and_in_the_file_menu(window, qtbot):
    """The preset picker sat at the bottom of the form, under the guide, by file name."""
    from PySide6.QtWidgets import QMenu

    from core.presets import preset_guide

    dock = window.controls_dock.widget().widget()
    first = [c for c in dock.children() if c.isWidgetType() and c.isVisibleTo(dock)]
    assert first[0] is window.preset_panel
    combo = window.preset_panel.preset
    d_wins = window.preset_panel.index_of("d_wins")
    title = preset_guide(PRESETS / "d_wins.toml")[0]
    assert combo.itemText(d_wins) == title
    menu = window.findChild(QMenu, "newFromPresetMenu")
    assert menu.menuAction() in window.menuBar().actions()[0].menu().actions()
    action = next(a for a in menu.actions() if a.text() == title)
    action.trigger()
    assert window.cfg.loss.kind == "bce" and window.cfg.optim.lr_g == 1e-5
    assert combo.currentIndex() == d_wins
    fold = window.preset_panel.fold
    assert window.preset_panel.guide_scroll.isVisibleTo(window)
    fold.click()  # folds the guide away
    assert not window.preset_panel.guide_scroll.isVisibleTo(window)
    fold.click()
    assert window.preset_panel.guide_scroll.isVisibleTo(window)


def test_pause_at_a_step_and_schedule_a_change_there(window, qtbot):
    """At 80 steps/s "tick SN around step 750" could not be caught: the field beside Play
    pauses exactly there, and a scheduled change writes the event ``--change`` writes."""
    w = window
    w.form.set_values({"run.steps": 60})
    row = w.run_panel.pause_row
    row.step.setValue(30)
    w.current.schedule_change(40, "constraints.spectral.enabled", True)
    w.play()
    qtbot.waitUntil(lambda: w.step > 0 and w.model.state.value == "paused", timeout=60000)
    qtbot.wait(300)  # nothing trains on
    assert w.step == 30 and not w.run_panel.play.isChecked()
    assert row.step.text() == "off"
    w.play()
    qtbot.waitUntil(lambda: w.model.state.value == "finished", timeout=60000)
    events = [json.loads(line) for line in (w.run_dir / "events.jsonl").read_text().splitlines()]
    assert [(e["step"], e["change"]) for e in events] == [
        (40, {"constraints.spectral.enabled": True})]
    schedule = json.loads((w.run_dir / "schedule.json").read_text())["changes"]
    assert schedule == [{"step": 40, "change": {"constraints.spectral.enabled": True}}]


def test_the_schedule_dialog_checks_the_value(window, qtbot):
    from sngan_gui.panels.pause_at import QtScheduleChangeDialog

    dlg = QtScheduleChangeDialog(window.cfg, 5, window)
    qtbot.addWidget(dlg)
    dlg.key.setCurrentIndex(dlg.key.findData("optim.lr_d"))
    dlg.value.setText("-1")
    dlg.accept()
    assert dlg.isVisible() is False and "optim.lr_d" in dlg.error.text()
    dlg.key.setCurrentIndex(dlg.key.findData("constraints.spectral.enabled"))
    assert dlg.value.text() == "true"  # a switch is offered flipped
    assert dlg.change() == (5, "constraints.spectral.enabled", True)


def test_the_status_line_says_how_long_is_left():
    from core.config import Config
    from sngan_gui.run_model import RunModel, RunState, status_parts

    cfg = Config()
    cfg.set("run.steps", 1500)
    model = RunModel(cfg)
    model.state, model.step, model.rate = RunState.RUNNING, 300, 80.0
    assert "about 0:00:15 left" in status_parts(model, cfg)  # 1200 steps at 80 steps/s
    model.state = RunState.PAUSED
    assert not [p for p in status_parts(model, cfg) if "left" in p]


def _gray(img, size=(200, 130)):
    import numpy as np

    return np.asarray(img.convert("L").resize(size), dtype=float) / 255.0


def _svg_as_png(svg: Path, width: int, height: int):
    """The SVG as a renderer outside Qt draws it (cairosvg, on cairo)."""
    import io

    import cairosvg
    from PIL import Image

    data = cairosvg.svg2png(url=str(svg), output_width=width, output_height=height,
                            background_color="white")
    return Image.open(io.BytesIO(data))


def _short_run(window, qtbot, steps=20):
    window.form.set_values({"run.steps": steps})
    window.play()
    qtbot.waitUntil(lambda: window.model.state.value == "finished", timeout=60000)
    window.refresh_all()


def test_plot_svg_renders_outside_qt_as_the_png_and_both_are_report_ready(window, qtbot,
                                                                         tmp_path):
    """The per-plot SVG relied on non-scaling strokes under a x95 scale: rsvg and ImageMagick
    drew ~150 px wide lines over the figure. The default plain export was dark, without a y
    label. Rendered by cairo, the SVG now matches the PNG; the default is the report style."""
    import numpy as np
    from PIL import Image

    _short_run(window, qtbot)
    for name in ("loss", "sigma", "lipschitz", "samples"):
        png = Image.open(window.export_plot(name, tmp_path / f"{name}.png"))
        svg = window.export_plot(name, tmp_path / f"{name}.svg")
        drawn = _svg_as_png(svg, *png.size)
        diff = np.abs(_gray(png.convert("RGB")) - _gray(drawn.convert("RGB")))
        assert diff.mean() < 0.03 and (diff > 0.5).mean() < 0.02, (name, diff.mean())
        corner = png.convert("L").getpixel((2, 2))
        assert corner > 240, name  # light: for papers
        text = svg.read_text()
        assert "vector-effect" not in text  # what rsvg and ImageMagick drew ~150 px wide
        assert "<text" in text  # real text
    loss_svg = (tmp_path / "loss.svg").read_text()
    assert "generator step" in loss_svg and "loss" in loss_svg  # both axes say what they are


def test_the_plot_dialog_offers_both_styles_and_says_which(window, qtbot, tmp_path,
                                                          monkeypatch):
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    _short_run(window, qtbot)
    asked = {}

    def save_name(parent, title, path, filters, selected):
        asked.update(filters=filters.split(";;"), selected=selected)
        return str(tmp_path / "loss.png"), asked["filters"][1]  # the dark one

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    window.exports.plot_dialog("loss", "png")
    assert asked["filters"] == ["PNG, report style: light, for papers (*.png)",
                                "PNG, as on screen: dark (*.png)"]
    assert asked["selected"] == asked["filters"][0]  # report first, by default
    assert Image.open(tmp_path / "loss.png").convert("L").getpixel((2, 2)) < 80
    assert "as on screen" in window.statusBar().currentMessage()
    assert window.settings.export_style == "screen"  # remembered, the menu's tick too
    assert not window.exports.report_style_action.isChecked()


def test_the_window_gets_the_keyboard_back_when_a_dialog_closes(window, qtbot):
    """Without a window manager Ctrl+D, Ctrl+Shift+F and Ctrl+Q did nothing after a dialog
    closed, until the window was clicked: no window was active."""
    from PySide6.QtWidgets import QApplication, QDialog

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    dlg = QDialog(window)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=3000)
    dlg.reject()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    act = window.findChild(type(window.act_duplicate), "duplicateAction")
    assert act.isEnabled() and act.shortcut().toString() == "Ctrl+D"


@pytest.mark.slow  # a process of its own: Qt reads the screen's size once, at start-up
def test_the_window_frame_stays_on_a_1280x800_screen(tmp_path):
    """The window's client area was sized to the screen's free area, its frame (title bar,
    borders) went past it."""
    import os
    import subprocess
    import sys

    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": 1280,
                                               "height": 800, "logicalDpi": 96}]}))
    code = ("import time; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "import sngan_gui; w = sngan_gui.create_window('d_wins'); w.show()\n"
            "for _ in range(30): app.processEvents(); time.sleep(0.01)\n"
            "f = w.frameGeometry(); print(f.x(), f.y(), f.width(), f.height()); w.close()")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}",
               SNGAN_GUI_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    x, y, width, height = map(int, out.stdout.split()[-4:])
    assert x >= 0 and y >= 0 and x + width <= 1280 and y + height <= 800, out.stdout
