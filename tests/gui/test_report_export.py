"""Report-style exports: light figures drawn (core.figures, matplotlib) from what the app's
panels show (PNG at 300 dpi, PDF, SVG), colour bars, real arrows, and a plot's curves as a CSV
with one column per run."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from core import contract
from core.config import Config
from core.figures import REPORT, SCREEN, Arrows, FigureStyle, Line, PlotSpec, draw_figure, \
    export_figure, export_plot_report
from sngan_gui.compare import QtRunCollection
from sngan_gui.exporters import export_plot_csv
from sngan_gui.panels import QtLossPanel, QtSamplesPanel
from sngan_gui.run_model import RunModel, marker_text

DARK_BG = "#1b1d23"
STEPS = np.arange(0, 300, 10)


def _cfg(**values) -> Config:
    cfg = Config()
    cfg.update({k.replace("__", "."): v for k, v in values.items()})
    return cfg


def _model(cfg: Config, steps: np.ndarray, fn, events=()) -> RunModel:
    model = RunModel(cfg)
    records = tuple(contract.MetricsRecord(step=int(s), time=0.01 * s, loss_d=float(fn(s / 50)),
                                           loss_g=1.0, d_real=0.5, d_fake=-0.5) for s in steps)
    model.apply(contract.RunProgress(int(steps[-1]), False, 0.0, 1.0, False, records=records,
                                     events=tuple(events)))
    return model


def _runs_panel(qtbot):
    """The app's loss panel on screen with two runs overlaid (colours, dashes, a marker and a
    legend that names each run and series once)."""
    runs = QtRunCollection()
    on = _model(_cfg(constraints__spectral__enabled=True), STEPS, np.sin,
                [contract.Event(100, 1.0, {"constraints.spectral.enabled": True})])
    off = _model(_cfg(), STEPS[::2], np.cos)
    keys = [runs.add(m.cfg, source=m) for m in (on, off)]
    panel = QtLossPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 320)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh_runs([(runs.entry(k), runs.entry(k).source) for k in keys])
    return panel, runs, keys


def _landscape_panel(qtbot):
    """The app's samples panel with a 2D landscape, points and gradient arrows."""
    panel = QtSamplesPanel()
    qtbot.addWidget(panel)
    n = 32
    grid = np.linspace(-2.0, 2.0, n)
    values = np.outer(np.ones(n), np.linspace(-1, 1, n)).astype(np.float32)
    samples = np.array([[0.0, 0.0], [1.0, -1.0]], dtype=np.float32)
    land = contract.Landscape(5, grid, grid, values, (-2.0, 2.0, -2.0, 2.0), samples, modes=1,
                              hq=0.5, mode_counts=np.zeros(8, dtype=np.int64))
    arrows = np.array([[0.0, 0.0, 0.5, 0.5], [1.0, -1.0, 0.2, 0.2]])
    fast = contract.FastProbe(5, {}, {}, arrows=arrows)
    model = RunModel(Config())
    model.apply(contract.RunProgress(5, False, 0.0, 1.0, False, snapshot=contract.ProbeSnapshot(
        landscape=land, fast=fast)))
    panel.refresh(model)
    return panel


def _light(img: QImage, x: int, y: int) -> bool:
    return QColor(img.pixel(x, y)).lightness() > 240


@pytest.mark.slow
def test_report_png_is_light_and_leaves_the_screen_plot_alone(qtbot, tmp_path):
    panel, _, _ = _runs_panel(qtbot)
    p = panel.export_item
    before = panel.widget.grab().toImage()
    background = panel.widget.backgroundBrush().color()
    items_before = list(p.items)
    path = export_plot_report(panel.figure_spec(), tmp_path / "loss.png")
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
    assert panel.widget.grab().toImage() == before
    assert panel.widget.backgroundBrush().color() == background


def test_screen_style_keeps_the_dark_background(qtbot, tmp_path):
    panel, _, _ = _runs_panel(qtbot)
    img = QImage(str(export_figure([panel.figure_spec()], tmp_path / "dark.png",
                                   style=SCREEN).paths[0]))
    assert QColor(img.pixel(2, 2)) == QColor(SCREEN.background)


def test_figure_holds_the_panels_numbers_and_names(qtbot):
    panel, runs, keys = _runs_panel(qtbot)
    spec = panel.figure_spec()
    shown = [c for k in keys for c in panel.overlay.curves(k).values()]
    assert [line.name for line in spec.lines] == [c.name() for c in shown]
    assert [e.label for e in spec.legend] == [label.text for _, label in panel.legend.items]
    for line, c in zip(spec.lines, shown):
        x, y = c.getOriginalDataset()
        np.testing.assert_array_equal(line.x, x)
        np.testing.assert_array_equal(line.y, y)
    assert spec.lines[0].color == runs.entry(keys[0]).pen_color.name()
    fig = draw_figure([spec])
    ax = fig.axes[0]
    drawn = [ln for ln in ax.get_lines() if ln.get_label() in {s.name for s in spec.lines}]
    assert [ln.get_label() for ln in drawn] == [s.name for s in spec.lines]
    np.testing.assert_array_equal(drawn[0].get_ydata(), spec.lines[0].y)
    # lines sized for paper, each series keeps its dash pattern
    assert drawn[0].get_linewidth() == pytest.approx(REPORT.line_pt)
    assert drawn[0].get_linestyle() == "-" and drawn[1].get_linestyle() == "--"
    marker, = spec.markers
    text = marker_text({"constraints.spectral.enabled": True})
    assert (marker.x, marker.text) == (100, text)
    label, = [t for t in ax.texts if t.get_text().strip() == text]
    # the run's blue marker, dark enough on white
    assert QColor(label.get_color()).lightness() <= QColor(marker.color).lightness()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["spectral on", "spectral off", "D loss", "G loss", "D(real)", "D(fake)"]


def test_heat_map_gets_a_colour_bar_and_the_field_real_arrows(qtbot, tmp_path):
    panel = _landscape_panel(qtbot)
    spec = panel.figure_spec()
    assert spec.heatmap.levels == panel.colorbar.levels() and spec.heatmap.label == "D(x)"
    fig = draw_figure([spec])
    image = fig.axes[0].get_images()[0]
    assert image.get_clim() == pytest.approx(panel.colorbar.levels())
    bar = image.colorbar
    assert bar is not None and bar.ax.get_ylabel() == "D(x)"
    quiver, = [c for c in fig.axes[0].collections if type(c).__name__ == "Quiver"]
    np.testing.assert_allclose(quiver.get_offsets(), spec.arrows.tails)
    np.testing.assert_allclose(np.column_stack([quiver.U, quiver.V]), spec.arrows.vectors)
    scale = spec.arrows.vectors[0, 0] / 0.5  # the panel scales ∇D to fit the view
    np.testing.assert_allclose(spec.arrows.tails, [[0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(spec.arrows.vectors, scale * np.array([[0.5, 0.5], [0.2, 0.2]]))
    assert [p.name for p in spec.points] == ["generated"]  # no real points: none drawn
    export_figure([spec], tmp_path / "l.png")


def test_arrow_has_a_filled_head_at_its_tip(tmp_path):
    spec = PlotSpec(axes=False, legend=[],
                    lines=[Line(np.array([0.0, 10.0]), np.array([-5.0, 5.0]), color="#ffffff")],
                    arrows=Arrows(np.array([[1.0, 0.0]]), np.array([[8.0, 0.0]]), color="#000000"))
    style = FigureStyle(dpi=100, panel_width_in=4.0, panel_height_in=4.0, head_pt=20.0)
    path = export_figure([spec], tmp_path / "arrow.png", style=style).paths[0]
    img = QImage(str(path))
    fig = draw_figure([spec], style=style)
    fig.canvas.draw()
    ax = fig.axes[0]

    def pixel(x, y):  # data -> image pixel (matplotlib counts y from the bottom)
        px, py = ax.transData.transform((x, y))
        return round(px), round(img.height() - py)

    def column_ink(x):
        return sum(QColor(img.pixel(x, y)).lightness() < 128 for y in range(img.height()))

    tip, mid = pixel(9.0, 0.0), pixel(5.0, 0.0)
    head = round(style.px(style.head_pt))
    # near the tip the head is wide; along the shaft only the thin line; nothing past the tip
    assert column_ink(tip[0] - head // 2) > 3 * column_ink(mid[0]) > 0
    assert column_ink(tip[0] + 4) == 0


@pytest.mark.slow
def test_multi_panel_figure_png_pdf_svg_name_the_runs(qtbot, tmp_path):
    loss_panel, _, _ = _runs_panel(qtbot)
    land_panel = _landscape_panel(qtbot)
    loss, land = loss_panel.figure_spec(), land_panel.figure_spec()
    caption = ("Runs: spectral on (run-a); spectral off (run-b). They differ in "
               "constraints.spectral.enabled (on / off).")
    again = loss_panel.figure_spec()
    again.title = "Losses again"
    result = export_figure([loss, land, again], tmp_path / "fig", caption=caption,
                           formats=("png", "pdf", "svg"))
    png, pdf, svg = result.paths
    assert [p.suffix for p in result.paths] == [".png", ".pdf", ".svg"]
    img = QImage(str(png))
    pw, ph = REPORT.panel_px
    assert img.width() == 2 * pw and img.height() > 2 * ph  # 2 x 2 grid + caption
    assert img.text("Description") == caption
    assert _light(img, 2, img.height() - 3)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1
    w_pt = float(re.search(rb"/MediaBox\s*\[\s*\S+\s+\S+\s+(\S+)", data).group(1))
    assert w_pt == pytest.approx(2 * REPORT.panel_width_in * 72, abs=1)
    tree = ET.parse(svg)
    texts = " ".join("".join(t.itertext()) for t in tree.iter() if t.tag.endswith("text"))
    assert "spectral on (run-a)" in texts and "spectral off" in texts and "D loss" in texts
    assert "Losses" in texts and "D(x)" in texts
    with pytest.raises(ValueError, match="unknown figure format"):
        export_figure([loss], tmp_path / "fig.jpg")
    with pytest.raises(ValueError, match="at least one panel"):
        export_figure([], tmp_path / "fig.png")


def test_plot_csv_has_one_column_per_run(qtbot, tmp_path):
    w = pg.PlotWidget(background=DARK_BG)
    qtbot.addWidget(w)
    p = w.getPlotItem()
    p.addLegend()
    p.plot(STEPS, np.sin(STEPS / 50.0), name="D loss · spectral on", pen=pg.mkPen("#4477aa"))
    p.plot(STEPS[::2], np.cos(STEPS[::2] / 50.0), name="D loss · spectral off",
           pen=pg.mkPen("#ee6677", style=Qt.DashLine))
    path = export_plot_csv(p, tmp_path / "loss.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "D loss · spectral on", "D loss · spectral off"]
    assert len(rows) == 1 + 30
    assert rows[1] == ["0", "0.0", "1.0"]
    assert rows[2][0] == "10" and rows[2][2] == ""  # run b logged every 20 steps
    assert float(rows[3][2]) == pytest.approx(np.cos(20 / 50.0))
