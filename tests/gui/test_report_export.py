"""Report-style exports: light figures from copies of the on-screen plots (PNG, PDF, SVG),
colour bars, real arrows, and a plot's curves as a CSV with one column per run."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from sngan_gui.report import (REPORT, SCREEN, ArrowFieldItem, FigurePanel, copy_plot,
                              export_figure, export_plot_csv, export_plot_report)

DARK_BG = "#1b1d23"


def _runs_plot(qtbot):
    """A dark on-screen plot with two runs' curves, a marker and a legend (as the app's)."""
    w = pg.PlotWidget(background=DARK_BG)
    qtbot.addWidget(w)
    w.resize(500, 320)
    p = w.getPlotItem()
    p.addLegend()
    p.setLabel("bottom", "step")
    steps = np.arange(0, 300, 10)
    p.plot(steps, np.sin(steps / 50.0), name="D loss · spectral on", pen=pg.mkPen("#4477aa", width=2))
    p.plot(steps[::2], np.cos(steps[::2] / 50.0), name="D loss · spectral off",
           pen=pg.mkPen("#ee6677", width=2, style=Qt.DashLine))
    line = pg.InfiniteLine(pos=100, angle=90, label="spectral on", pen=pg.mkPen("#f0e442"))
    p.addItem(line, ignoreBounds=True)
    w.show()
    qtbot.waitExposed(w)
    return w, p


def _landscape_plot(qtbot):
    w = pg.GraphicsLayoutWidget()
    qtbot.addWidget(w)
    p = w.addPlot()
    p.setAspectLocked(True)
    img = pg.ImageItem(np.outer(np.linspace(-1, 1, 32), np.ones(32)))
    img.setLookupTable(pg.ColorMap([0, 0.5, 1], [(48, 104, 160), (30, 32, 38), (168, 70, 52)])
                       .getLookupTable(nPts=256))
    img.setLevels((-1.0, 1.0))
    img.setRect(-2, -2, 4, 4)
    p.addItem(img)
    pts = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, -1.0], [1.2, -0.8]])
    p.addItem(pg.PlotCurveItem(pts[:, 0], pts[:, 1], connect="pairs", name="grad D",
                               pen=pg.mkPen("#ffffff")))
    return w, p


def _light(img: QImage, x: int, y: int) -> bool:
    return QColor(img.pixel(x, y)).lightness() > 240


@pytest.mark.slow
def test_report_png_is_light_and_leaves_the_screen_plot_alone(qtbot, tmp_path):
    w, p = _runs_plot(qtbot)
    before = w.grab().toImage()
    items_before = list(p.items)
    path = export_plot_report(p, tmp_path / "loss.png", title="Losses")
    img = QImage(str(path))
    assert not img.isNull()
    assert (img.width(), img.height()) == REPORT.panel_px  # 3.4 x 2.3 in at 300 dpi
    assert round(img.dotsPerMeterX() * 0.0254) == 300
    corners = [(2, 2), (img.width() - 3, 2), (2, img.height() - 3), (img.width() - 3, img.height() - 3)]
    assert all(_light(img, x, y) for x, y in corners)
    rgb32 = img.convertToFormat(QImage.Format_RGB32)  # kept: the array views its bytes
    arr = np.frombuffer(rgb32.constBits(), np.uint8).copy()
    lightness = arr.reshape(img.height(), img.width(), 4)[..., :3].mean(axis=2)
    assert np.median(lightness) > 240                       # a white figure...
    assert (lightness < 60).mean() > 0.002                  # ...with dark text and axes
    # both runs' colours are in it (lines drawn thick enough to survive antialiasing)
    rgb = arr.reshape(img.height(), img.width(), 4)[..., 2::-1].astype(int)
    for color in ("#4477aa", "#ee6677"):
        c = QColor(color)
        near = np.abs(rgb - [c.red(), c.green(), c.blue()]).sum(axis=2) < 40
        assert near.sum() > 500, color
    # the window did not change
    assert list(p.items) == items_before
    assert w.grab().toImage() == before
    assert w.backgroundBrush().color() == QColor(DARK_BG)


def test_screen_style_keeps_the_dark_background(qtbot, tmp_path):
    w, p = _runs_plot(qtbot)
    img = QImage(str(export_figure([p], tmp_path / "dark.png", style=SCREEN).paths[0]))
    assert QColor(img.pixel(2, 2)) == QColor(SCREEN.background)


def test_copy_holds_the_same_numbers_and_names(qtbot):
    w, p = _runs_plot(qtbot)
    dst = copy_plot(p, REPORT)
    src_curves = [c for c in p.items if isinstance(c, pg.PlotDataItem)]
    dst_curves = [c for c in dst.items if isinstance(c, pg.PlotDataItem)]
    assert [c.name() for c in dst_curves] == [c.name() for c in src_curves]
    assert [lab.text for _, lab in dst.legend.items] == [lab.text for _, lab in p.legend.items]
    for a, b in zip(src_curves, dst_curves):
        for u, v in zip(a.getOriginalDataset(), b.getOriginalDataset()):
            np.testing.assert_array_equal(u, v)
    # thicker lines for paper, same dash pattern
    assert dst_curves[0].opts["pen"].widthF() == pytest.approx(REPORT.px(REPORT.line_pt))
    assert dst_curves[1].opts["pen"].style() == Qt.DashLine
    markers = [m for m in dst.items if isinstance(m, pg.InfiniteLine)]
    assert [(m.value(), m.label.textItem.toPlainText()) for m in markers] == [(100, "spectral on")]
    # a yellow marker made readable on white
    assert QColor(markers[0].pen.color()).lightness() < QColor("#f0e442").lightness()


def test_heat_map_gets_a_colour_bar_and_the_field_real_arrows(qtbot, tmp_path):
    w, p = _landscape_plot(qtbot)
    dst = copy_plot(p, REPORT, colorbar_label="D(x)")
    cells = [dst.layout.itemAt(i) for i in range(dst.layout.count())]
    bars = [it for it in cells if isinstance(it, pg.ColorBarItem)]
    assert len(bars) == 1
    assert bars[0].levels() == (-1.0, 1.0)
    assert bars[0].axis.labelText == "D(x)"
    arrows = [it for it in dst.items if isinstance(it, ArrowFieldItem)]
    assert len(arrows) == 1
    tails, vectors = arrows[0].getData()
    np.testing.assert_allclose(tails, [[0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(vectors, [[0.5, 0.5], [0.2, 0.2]])
    assert arrows[0].name() == "grad D"
    export_figure([FigurePanel(p, "Critic", colorbar_label="D(x)")], tmp_path / "l.png")


def test_arrow_has_a_filled_head_at_its_tip(qtbot):
    w = pg.PlotWidget(background="w")
    qtbot.addWidget(w)
    w.resize(400, 400)
    p = w.getPlotItem()
    p.hideAxis("left")
    p.hideAxis("bottom")
    p.setRange(xRange=(0, 10), yRange=(-5, 5), padding=0)
    arrow = ArrowFieldItem([[1.0, 0.0]], [[8.0, 0.0]], pen=pg.mkPen("k", width=2), head_px=30)
    p.addItem(arrow)
    w.show()
    qtbot.waitExposed(w)
    img = w.grab().toImage()
    vb = p.getViewBox()
    tip = vb.mapViewToScene(pg.Point(9.0, 0.0)).toPoint()
    mid = vb.mapViewToScene(pg.Point(5.0, 0.0)).toPoint()

    def column_ink(x):
        return sum(QColor(img.pixel(x, y)).lightness() < 128 for y in range(img.height()))

    # near the tip the head is wide (about 2 x 0.45 x 30 px at its base); along the shaft
    # only the 2 px line
    assert column_ink(tip.x() - 25) > 15
    assert column_ink(mid.x()) <= 4
    assert column_ink(tip.x() + 4) == 0
    # autorange sees the arrows' extent
    assert arrow.dataBounds(0) == (1.0, 9.0)
    with pytest.raises(ValueError):
        arrow.setData([[0, 0]], [[1, 1], [2, 2]])


@pytest.mark.slow
def test_multi_panel_figure_png_pdf_svg_name_the_runs(qtbot, tmp_path):
    w1, loss = _runs_plot(qtbot)  # keep the widgets: their plots live as long as they do
    w2, land = _landscape_plot(qtbot)
    caption = ("Runs: spectral on (run-a); spectral off (run-b). They differ in "
               "constraints.spectral.enabled (on / off).")
    result = export_figure([FigurePanel(loss, "Losses"), FigurePanel(land, "Critic", "D(x)"),
                            FigurePanel(loss, "Losses again")], tmp_path / "fig",
                           caption=caption, formats=("png", "pdf", "svg"))
    png, pdf, svg = result.paths
    assert [p.suffix for p in result.paths] == [".png", ".pdf", ".svg"]
    img = QImage(str(png))
    pw, ph = REPORT.panel_px
    assert img.width() == 2 * pw and img.height() > 2 * ph  # 2 x 2 grid + caption
    assert img.text("Description") == caption
    assert _light(img, 2, img.height() - 3)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1
    media = [line for line in data.split(b"\n") if b"/MediaBox" in line][0]
    w_pt = float(media.split(b"[")[1].split()[2])
    assert w_pt == pytest.approx(2 * REPORT.panel_width_in * 72, abs=1)
    tree = ET.parse(svg)
    texts = " ".join("".join(t.itertext()) for t in tree.iter() if t.tag.endswith("text"))
    assert "spectral on (run-a)" in texts and "D loss · spectral off" in texts
    assert "Losses" in texts and "D(x)" in texts
    with pytest.raises(ValueError, match="unknown figure format"):
        export_figure([loss], tmp_path / "fig.jpg")
    with pytest.raises(ValueError, match="at least one panel"):
        export_figure([], tmp_path / "fig.png")


def test_plot_csv_has_one_column_per_run(qtbot, tmp_path):
    w, p = _runs_plot(qtbot)
    path = export_plot_csv(p, tmp_path / "loss.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "D loss · spectral on", "D loss · spectral off"]
    assert len(rows) == 1 + 30
    assert rows[1] == ["0", "0.0", "1.0"]
    assert rows[2][0] == "10" and rows[2][2] == ""  # run b logged every 20 steps
    assert float(rows[3][2]) == pytest.approx(np.cos(20 / 50.0))
