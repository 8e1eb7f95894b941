"""Text that changes while a run trains repaints without laying the window out again, and the
weight histogram keeps its axes still while the weights barely move."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core import contract
from core.config import Config
from sngan_gui.live_text import QtLiveText
from sngan_gui.panels.snapshots import QtHistogramPanel
from sngan_gui.run_model import RunModel


class LayoutRequests(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.LayoutRequest:
            self.count += 1
        return False


def _shown(qtbot, *widgets) -> QWidget:
    top = QWidget()
    lay = QVBoxLayout(top)
    for w in widgets:
        lay.addWidget(w)
    qtbot.addWidget(top)
    top.resize(300, 200)
    top.show()
    qtbot.waitExposed(top)
    return top


def test_new_text_repaints_without_a_layout_request(qtbot, qapp):
    live, label = QtLiveText("step 0"), QLabel("step 0")
    label.setWordWrap(True)
    top = _shown(qtbot, live, label)
    qapp.processEvents()  # the layout of the first show
    requests = LayoutRequests()
    top.installEventFilter(requests)
    for i in range(1, 21):
        live.setText(f"step {i:,} · {17.0 + i / 10:.1f} steps/s")
        qapp.processEvents()
    assert requests.count == 0 and live.text() == "step 20 · 19.0 steps/s"
    for i in range(1, 21):  # what a QLabel does (the filter sees it)
        label.setText(f"step {i:,}")
        qapp.processEvents()
    assert requests.count > 0


def test_text_is_drawn_and_cut_text_is_whole_in_the_tooltip(qtbot):
    live = QtLiveText("")
    top = _shown(qtbot, live)
    top.resize(120, 60)
    qtbot.waitUntil(lambda: live.width() <= 120)
    blank = live.grab().toImage()
    live.setText("step 1")
    assert live.grab().toImage() != blank
    assert live.toolTip() == ""  # it fits
    long = "bound 238   ‖∇D‖ 1.19   gap ×200 and a good deal more"
    live.setText(long)
    assert live.toolTip() == long
    live.setToolTip("my own")
    live.setText(long + "!")
    assert live.toolTip() == "my own"


def test_wrapped_text_has_its_lines_and_a_fixed_height(qtbot):
    live = QtLiveText("ready", lines=3)
    top = _shown(qtbot, live)  # noqa: F841 (kept alive)
    height = live.height()
    assert height >= 3 * live.fontMetrics().lineSpacing()
    live.setText("step 391 / 3,000\n17.4 steps/s · device cpu · elapsed 0:00:22")
    assert live.height() == height


def _spectra_report(step: int, weights: np.ndarray, layer: str = "block1.conv"):
    counts, edges = np.histogram(weights, bins=60)
    spectra = contract.Spectra(step, {layer: np.array([1.0])},
                               {layer: contract.Histogram(counts, edges)})
    return contract.RunProgress(step, True, 10.0, 1.0, False,
                                snapshot=contract.ProbeSnapshot(spectra=spectra))


def test_histogram_axes_stay_while_the_weights_barely_move(qtbot):
    panel = QtHistogramPanel()
    qtbot.addWidget(panel)
    panel.set_layers(["block1.conv"])
    model = RunModel(Config())
    rng = np.random.default_rng(0)
    weights = rng.normal(0.0, 0.1, 5000)
    model.apply(_spectra_report(10, weights))
    panel.refresh(model)
    first = panel.export_item.viewRange()
    model.apply(_spectra_report(20, weights * 1.02 + 0.001))
    panel.refresh(model)
    assert panel.export_item.viewRange() == first  # not re-ranged: no axis repaint
    x_lo, x_hi = first[0]
    assert x_lo <= weights.min() and weights.max() <= x_hi and first[1][0] == 0.0
    model.apply(_spectra_report(30, weights * 3))  # the weights grew: the view follows
    panel.refresh(model)
    (x_lo, x_hi), (_, y_hi) = panel.export_item.viewRange()
    assert x_lo <= 3 * weights.min() and 3 * weights.max() <= x_hi
    assert y_hi >= np.histogram(weights * 3, bins=60)[0].max()
