"""Every export writes a valid file: PNG decodes, SVG parses, CSV has the plotted columns."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from conftest import PRESETS, wait_paused

pytestmark = pytest.mark.slow  # each test trains a run in the app's training process first


def _png_ok(path: Path, min_size=(100, 50)) -> QImage:
    img = QImage(str(path))
    assert not img.isNull(), path
    assert img.width() >= min_size[0] and img.height() >= min_size[1], (path, img.size())
    return img


def _svg_ok(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), root.tag
    assert len(list(root.iter())) > 10  # real drawing content, not an empty document
    return root


def _csv_header(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) >= 2, path
    return rows[0]


def _short_run(qtbot, w, steps=25):
    w.play()
    qtbot.waitUntil(lambda: w.step >= steps, timeout=30000)
    w.findChild(type(w.form.editors["constraints.gp.enabled"]), "gpCheck").setChecked(True)
    qtbot.waitUntil(lambda: len(w.events) >= 1 and w.step >= steps + 12, timeout=30000)
    w.pause()
    wait_paused(qtbot, w)
    w.refresh_all()


def test_every_plot_exports_png_svg_csv(qtbot, window, tmp_path):
    _short_run(qtbot, window)
    out = tmp_path / "exports"
    for name in window.panels:
        _png_ok(window.export_plot(name, out / f"{name}.png"))
        _svg_ok(window.export_plot(name, out / f"{name}.svg"))
    header = _csv_header(window.export_plot("loss", out / "loss.csv"))
    for label in ("D loss", "G loss", "D(real)", "D(fake)"):
        assert f"{label}_x" in header and f"{label}_y" in header, header
    header = _csv_header(window.export_plot("sigma", out / "sigma.csv"))
    assert {"fc1_y", "out_y"} <= set(header), header
    header = _csv_header(window.export_plot("lipschitz", out / "lipschitz.csv"))
    assert any(h.startswith("upper bound") for h in header), header
    # the marker of the GP switch is in the SVG of the loss plot
    svg_text = (out / "loss.svg").read_text()
    assert "GP on" in svg_text


def test_export_all_writes_a_complete_folder(qtbot, window, tmp_path):
    _short_run(qtbot, window, steps=15)
    folder = tmp_path / "all"
    written = window.export_all(folder)
    names = {p.name for p in written}
    assert {"config.toml", "metrics.jsonl", "events.jsonl"} <= names
    for panel in window.panels:
        for fmt in ("png", "svg", "csv"):
            assert f"{panel}.{fmt}" in names, (panel, fmt)
    assert "GP" in (folder / "events.jsonl").read_text() or "gp" in (folder / "events.jsonl").read_text()
    assert (folder / "metrics.jsonl").read_text().count("\n") >= 2
    for p in folder.glob("*.png"):
        _png_ok(p, (50, 50))
    for p in folder.glob("*.svg"):
        _svg_ok(p)


def test_image_run_exports_the_sample_grid(qtbot, make_window, tmp_path):
    w = make_window(PRESETS / "dcgan_notebook.toml")
    w.step_once()
    qtbot.waitUntil(lambda: w.step == 1 and w.samples.grid is not None, timeout=60000)
    assert w.samples.mode == "image"
    img = _png_ok(w.export_grid(tmp_path / "grid.png"))
    g = w.samples.grid
    assert (img.height(), img.width()) == (4 * g.shape[0], 4 * g.shape[1])
    # the exported pixels are the engine's grid exactly (what samples/step_*.png holds)
    rgb = img.convertToFormat(QImage.Format_RGB888)
    pixels = np.frombuffer(rgb.constBits(), np.uint8).reshape(
        rgb.height(), rgb.bytesPerLine())[:, : 3 * rgb.width()].reshape(rgb.height(), -1, 3)
    assert g.dtype == np.uint8 and np.array_equal(pixels[::4, ::4], g)
    written = w.export_all(tmp_path / "all")
    assert "samples_grid.png" in {p.name for p in written}


def test_svg_export_survives_without_pyqtgraph_exporter(qtbot, window, tmp_path, monkeypatch):
    """If pyqtgraph's SVG exporter breaks again (issue 3485), QtSvg still writes a valid SVG."""
    import pyqtgraph.exporters as pgx

    class Broken:
        def __init__(self, item):
            pass

        def export(self, path):
            raise ValueError("not enough values to unpack")

    monkeypatch.setattr(pgx, "SVGExporter", Broken)
    _svg_ok(window.export_plot("loss", tmp_path / "loss.svg"))
