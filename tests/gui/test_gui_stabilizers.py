"""The other stabilizers in the app: their editors and tooltips, a refused label smoothing,
Step D / Step G buttons and markers, and the draw mode that makes a drawn dataset."""

from __future__ import annotations

import json

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QPushButton, QWidget

from conftest import wait_paused


def test_stabilizer_editors_switch_live_and_name_their_sources(window):
    form = window.form
    panel = window.controls_dock.stabilizers_panel
    for key, source in (("instance_noise.enabled", "Sønderby"),
                        ("loss.label_smoothing", "Salimans"),
                        ("optim.name", "Loshchilov"), ("constraints.gp.kind", "Kodali")):
        editor = form.editors[key]
        assert source in editor.toolTip(), key
        assert "needs a new run" not in editor.toolTip()  # each one switches live
    assert panel.isAncestorOf(form.editors["instance_noise.std"])
    assert panel.isAncestorOf(form.editors["loss.label_smoothing"])
    kinds = form.editors["constraints.gp.kind"]
    assert "dragan" in [kinds.itemText(i) for i in range(kinds.count())]
    names = form.editors["optim.name"]
    assert [names.itemText(i) for i in range(names.count())] == ["adam", "adamw", "rmsprop"]


def test_label_smoothing_with_hinge_is_refused_where_typed(qtbot, window):
    from conftest import type_into

    type_into(qtbot, window.form.editors["loss.label_smoothing"], "0.1")
    assert window.cfg.loss.label_smoothing == 0.1
    loss = window.form.editors["loss.kind"]
    with qtbot.waitSignal(window.form.rejected) as refused:
        loss.setCurrentText("hinge")
    assert "no meaning for loss.kind 'hinge'" in refused.args[1]
    assert loss.currentText() == "bce" and window.cfg.loss.kind == "bce"


@pytest.mark.slow
def test_step_d_and_step_g_buttons_update_one_network_and_mark_the_plots(qtbot, window):
    window.form.cfg.set("run.log_every", 5)
    step = window.findChild(QPushButton, "stepButton")
    qtbot.mouseClick(step, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.step == 1, timeout=30000)
    wait_paused(qtbot, window)
    qtbot.mouseClick(window.findChild(QPushButton, "stepDButton"), Qt.LeftButton)
    qtbot.waitUntil(lambda: window.model.d_updates == 2, timeout=10000)
    assert window.step == 1
    window.act_step_g.trigger()  # Alt+G
    qtbot.waitUntil(lambda: window.model.g_updates == 2, timeout=10000)
    assert window.step == 2 and window.model.d_updates == 2
    assert window.act_step_d.shortcut().toString() == "Alt+D"
    window.refresh_all()
    assert [e["change"] for e in window.events] == [{"update": "D"}, {"update": "G"}]
    texts = [m.label.toPlainText() for m in window.loss.markers]
    assert texts == ["D step, G step"]  # one marker per step
    assert "updates D 2 · G 2" in window.run_panel.status.text()
    on_disk = [json.loads(x) for x in (window.run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["change"] for e in on_disk] == [{"update": "D"}, {"update": "G"}]


@pytest.mark.slow
def test_draw_mode_makes_a_drawn_dataset_that_trains(qtbot, window, tmp_path):
    tool = window.area.samples.draw_tool
    draw = window.findChild(QWidget, "drawButton")
    qtbot.mouseClick(draw, Qt.LeftButton)
    assert tool.drawing and window.findChild(QWidget, "drawUse").isVisible()
    # a drag across the canvas paints a stroke (points every 2 sigma = 0.1)
    view = window.area.samples.plot.getViewBox()
    widget = window.area.samples.widget
    a = widget.mapFromScene(view.mapViewToScene(pg.Point(-1.0, 0.0)))
    b = widget.mapFromScene(view.mapViewToScene(pg.Point(1.0, 0.0)))
    qtbot.mousePress(widget.viewport(), Qt.LeftButton, pos=a)
    for i in range(1, 11):
        qtbot.mouseMove(widget.viewport(), pos=a + (b - a) * i / 10)
    qtbot.mouseRelease(widget.viewport(), Qt.LeftButton, pos=b)
    assert len(tool.points) >= 15
    xs = [p[0] for p in tool.points]
    assert min(xs) < -0.8 and max(xs) > 0.8
    tool.add_points([[2.0, 2.0]])  # a lone dot: a second mode
    assert "2 modes" in window.findChild(QWidget, "drawCount").text()
    path = tool.save_csv(tmp_path / "drawing.csv")
    saved = list(tool.points)
    qtbot.mouseClick(window.findChild(QWidget, "drawClear"), Qt.LeftButton)
    assert tool.points == []
    assert tool.load_csv(path) and tool.points == saved
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nx\n")
    with qtbot.waitSignal(tool.message) as said:
        assert not tool.load_csv(bad)
    assert str(bad) in said.args[0] and tool.points == saved

    qtbot.mouseClick(window.findChild(QWidget, "drawUse"), Qt.LeftButton)
    assert not tool.drawing
    assert window.cfg.data.dataset == "drawn" and window.cfg.data.drawn.points == saved
    assert window.findChild(QComboBox, "data_dataset").currentText() == "drawn"
    window.form.cfg.set("run.probe_every", 10)
    qtbot.mouseClick(window.findChild(QPushButton, "stepButton"), Qt.LeftButton)
    qtbot.waitUntil(lambda: window.model.snapshot.landscape is not None, timeout=30000)
    assert window.model.modes_total == 2  # the stroke and the dot
    saved_cfg = (window.run_dir / "config.toml").read_text()
    assert 'dataset = "drawn"' in saved_cfg and "points" in saved_cfg
