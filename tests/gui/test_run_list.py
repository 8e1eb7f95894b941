"""The run collection (labels, colours, selection) and the run list dock bound to it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from core import figures
from core.config import Config
from sngan_gui.compare import QtRunCollection, QtRunListDock, palette
from sngan_gui.compare.run_list import KEY_ROLE


def _cfg(**values) -> Config:
    cfg = Config()
    cfg.update({k.replace("__", "."): v for k, v in values.items()})
    return cfg


def test_palette_is_distinct_and_readable_on_both_backgrounds():
    colors = [palette.run_style(i)[0] for i in range(len(palette.RUN_COLORS))]
    assert len({c.name() for c in colors}) == len(colors)
    # distinct hues or lightness: no two colours closer than a visible step
    for i, a in enumerate(colors):
        for b in colors[i + 1:]:
            d = sum((x - y) ** 2 for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])) ** 0.5
            assert d > 60, (a.name(), b.name())
    for c in colors:
        for bg in ("#ffffff", "#1b1d23"):
            fixed = figures.readable_on(c.name(), bg)
            assert figures.contrast(fixed, bg) >= figures.MIN_CONTRAST
    # already readable: unchanged; yellow on white: darkened, same hue family
    blue = QColor(palette.RUN_COLORS[0])
    assert QColor(figures.readable_on(blue.name(), "#ffffff")) == blue
    yellow = QColor(figures.readable_on(palette.RUN_COLORS[3], "#ffffff"))
    assert yellow.lightness() < QColor(palette.RUN_COLORS[3]).lightness()
    assert abs(yellow.hue() - QColor(palette.RUN_COLORS[3]).hue()) <= 3
    # after the colours run out, the dash pattern changes
    n = len(palette.RUN_COLORS)
    assert palette.run_style(n)[0] == palette.run_style(0)[0]
    assert palette.run_style(n)[1] != palette.run_style(0)[1]


def test_collection_labels_follow_the_configs_and_user_names(qtbot):
    runs = QtRunCollection()
    changed = []
    runs.changed.connect(changed.append)
    a = runs.add(_cfg(constraints__spectral__enabled=True), "/tmp/a")
    assert runs.entry(a).label == "run"
    b = runs.add(_cfg(), "/tmp/b")
    assert runs.labels() == {a: "spectral on", b: "spectral off"}
    assert a in changed  # adding b renamed a
    c = runs.add(_cfg(run__seed=1))
    assert runs.labels()[c] == "spectral off, seed 1"
    assert runs.rename(b, "  baseline   run ") == "baseline run"
    with pytest.raises(ValueError, match="already called 'baseline run'"):
        runs.rename(a, "baseline run")
    runs.remove(c)
    assert runs.labels() == {a: "spectral on", b: "baseline run"}
    assert runs.rename(b, "") == "spectral off"
    # an automatic label that equals a typed one is numbered
    runs.remove(b)
    runs.rename(a, "run 2")
    d = runs.add(runs.entry(a).cfg)
    assert runs.labels() == {a: "run 2", d: "run 2 (2)"}


def test_collection_colours_visibility_selection(qtbot):
    runs = QtRunCollection()
    keys = [runs.add(_cfg(run__seed=i)) for i in range(3)]
    assert [runs.entry(k).style_index for k in keys] == [0, 1, 2]
    assert runs.selected == keys[0]
    runs.remove(keys[1])
    k3 = runs.add(_cfg(run__seed=5))
    assert runs.entry(k3).style_index == 1  # the freed colour
    runs.recolour(keys[0], "#123456")
    assert runs.entry(keys[0]).pen_color == QColor("#123456")
    with pytest.raises(ValueError):
        runs.recolour(keys[0], "not a colour")
    runs.recolour(keys[0], None)
    assert runs.entry(keys[0]).pen_color == palette.run_style(0)[0]
    runs.set_visible(keys[2], False)
    assert [e.key for e in runs.visible()] == [keys[0], k3]
    runs.select(keys[2])
    runs.remove(keys[2])
    assert runs.selected == keys[0]
    assert runs.find(path=None, source=None) is None
    with pytest.raises(KeyError):
        runs.entry(99)


def _items(dock):
    return [dock.tree.topLevelItem(i) for i in range(dock.tree.topLevelItemCount())]


def test_dock_shows_hides_renames_recolours_removes(qtbot, tmp_path):
    runs = QtRunCollection()
    a = runs.add(_cfg(constraints__spectral__enabled=True), tmp_path / "a", status="finished")
    dock = QtRunListDock(runs)
    qtbot.addWidget(dock)
    b = runs.add(_cfg(), tmp_path / "b", status="following")
    assert [(it.text(0), it.text(1)) for it in _items(dock)] == [
        ("spectral on", "finished"), ("spectral off", "following")]
    assert dock.objectName() == "runListDock"
    # hide through the tick box
    item_b = dock.item(b)
    item_b.setCheckState(0, Qt.Unchecked)
    assert runs.entry(b).visible is False
    runs.set_visible(b, True)
    assert dock.item(b).checkState(0) == Qt.Checked
    # rename through the editable text; a taken name is refused with a message
    dock.item(b).setText(0, "baseline")
    assert runs.entry(b).label == "baseline"
    dock.item(a).setText(0, "baseline")
    assert runs.entry(a).label == "spectral on" and dock.item(a).text(0) == "spectral on"
    assert "already called" in dock.message.text()
    # selecting a row selects the run
    dock.tree.setCurrentItem(dock.item(b))
    assert runs.selected == b
    dock.choose_colour(color="#ff00ff")
    assert runs.entry(b).pen_color == QColor("#ff00ff")
    icon = dock.item(b).icon(0).pixmap(28, 14).toImage()
    assert QColor(icon.pixel(14, 7)).name() == "#ff00ff"
    # remove: the owner hears of it first, then the run goes
    asked = []
    dock.removeRequested.connect(asked.append)
    dock.remove_selected()
    assert asked == [b] and b not in runs
    assert [it.data(0, KEY_ROLE) for it in _items(dock)] == [a]
    assert runs.selected == a and dock.tree.currentItem() is dock.item(a)
    assert dock.item(a).text(0) == "run"  # alone again
    dock.remove_selected()
    assert len(runs) == 0 and _items(dock) == []
    assert not dock.remove_button.isEnabled()
