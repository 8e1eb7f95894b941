"""Writing plots, sample grids and whole-run bundles to files (no dialogs here: every function
takes a file name, so automation and tests can call them directly)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as pgx
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QImage, QPainter

from core import config as config_mod

PLOT_FORMATS = ("png", "svg", "csv")
MIN_EXPORT_WIDTH = 1200


def export_plot(item: pg.PlotItem, path: str | Path) -> Path:
    """Export one PlotItem as PNG, SVG or CSV, chosen by the file suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "png":
        exp = pgx.ImageExporter(item)
        width = int(item.sceneBoundingRect().width())
        if width < MIN_EXPORT_WIDTH:
            exp.parameters()["width"] = MIN_EXPORT_WIDTH  # crisp figures for reports
        exp.export(str(path))
    elif fmt == "svg":
        try:
            pgx.SVGExporter(item).export(str(path))
        except ValueError:  # pyqtgraph issue 3485 (PySide6 >= 6.11): fall back to QtSvg
            _svg_via_qtsvg(item, path)
    elif fmt == "csv":
        pgx.CSVExporter(item).export(str(path))
    else:
        raise ValueError(f"unknown export format '{fmt}' (use png, svg or csv)")
    return path


def _svg_via_qtsvg(item: pg.PlotItem, path: Path) -> None:
    from PySide6.QtSvg import QSvgGenerator

    rect = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    painter = QPainter(gen)
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()


def grid_to_qimage(grid: np.ndarray, scale: int = 4) -> QImage:
    """A uint8 image grid ([H, W], [H, W, 1] or [H, W, 3]) as an 8-bit QImage, upscaled by
    ``scale`` with nearest-neighbour so pixels stay sharp (and keep their values)."""
    g = np.asarray(grid, dtype=np.uint8)
    if g.ndim == 3 and g.shape[2] == 1:
        g = g[:, :, 0]
    if scale > 1:
        g = np.repeat(np.repeat(g, scale, axis=0), scale, axis=1)
    g = np.ascontiguousarray(g)
    h, w = g.shape[:2]
    if g.ndim == 2:
        img = QImage(g.data, w, h, w, QImage.Format_Grayscale8)
    else:
        img = QImage(g.data, w, h, 3 * w, QImage.Format_RGB888)
    return img.copy()  # own the pixels (g goes away)


def save_grid_png(grid: np.ndarray, path: str | Path, scale: int = 4) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not grid_to_qimage(grid, scale).save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def export_all(folder: str | Path, *, plots: dict[str, pg.PlotItem], cfg: config_mod.Config,
               run_dir: str | Path | None, grid: np.ndarray | None,
               csv_skip: tuple[str, ...] = ()) -> list[Path]:
    """Write config, metrics, events, every plot (PNG/SVG/CSV) and the current grid."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    run = Path(run_dir) if run_dir else None
    if run is not None and (run / "config.toml").is_file():
        shutil.copyfile(run / "config.toml", folder / "config.toml")
    else:
        config_mod.save(cfg, folder / "config.toml")
    written.append(folder / "config.toml")
    for name in ("metrics.jsonl", "events.jsonl"):
        target = folder / name
        if run is not None and (run / name).is_file():
            shutil.copyfile(run / name, target)
        else:
            target.write_text("", encoding="utf-8")
        written.append(target)
    for name, item in plots.items():
        for fmt in PLOT_FORMATS:
            if fmt == "csv" and name in csv_skip:
                continue
            written.append(export_plot(item, folder / f"{name}.{fmt}"))
    if grid is not None:
        written.append(save_grid_png(grid, folder / "samples_grid.png"))
    return written
