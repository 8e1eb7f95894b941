"""Writing plots as on screen, a plot's curves as CSV (one column per run with several runs),
sample grids and whole-run bundles to files (no dialogs here: every function takes a file
name, so automation and tests can call them directly). Report figures are drawn by
:mod:`core.figures`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as pgx
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QImage, QPainter

from core import config as config_mod
from core import runlayout
from core.compare import Series, write_comparison_csv
from core.runlayout import RunPaths

PLOT_FORMATS = ("png", "svg", "csv")
MIN_EXPORT_WIDTH = 1200


class ExportError(OSError):
    """A file could not be written; the message names the file and the reason."""


def writable_target(path: str | Path) -> Path:
    """``path``, after checking that a file can be written there (its folder is created);
    raises :class:`ExportError` naming the path and the system's reason. pyqtgraph's and Qt's
    image writers report a failure only by a return value, or not at all."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "ab"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _written(path: Path) -> Path:
    if not path.is_file() or path.stat().st_size == 0:
        raise ExportError(f"cannot write {path}: nothing was written")
    return path


def export_plot(item: pg.PlotItem, path: str | Path) -> Path:
    """Export one PlotItem as PNG, SVG or CSV, chosen by the file suffix; raises
    :class:`ExportError` (naming the file and the reason) when the file was not written."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (use png, svg or csv)")
    writable_target(path)
    try:
        _export_plot(item, path, fmt)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return _written(path)


def _export_plot(item: pg.PlotItem, path: Path, fmt: str) -> None:
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
    else:
        pgx.CSVExporter(item).export(str(path))


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
    path = writable_target(path)
    if not grid_to_qimage(grid, scale).save(str(path), "PNG"):
        raise ExportError(f"cannot write {path}: the PNG writer failed")
    return _written(path)


def export_all(folder: str | Path, *, plots: dict[str, pg.PlotItem], cfg: config_mod.Config,
               run_dir: str | Path | None, grid: np.ndarray | None,
               csv_skip: tuple[str, ...] = (),
               draw: Callable[[str, Path], Path] | None = None) -> list[Path]:
    """Write config, metrics, events, every plot (PNG/SVG/CSV) and the current grid;
    ``draw(name, path)`` writes a plot's PNG and SVG when given (the window's figures)."""
    folder = Path(folder)
    out = RunPaths(folder)  # the export holds the run's own files under their own names
    writable_target(out.config)
    written: list[Path] = []
    run = RunPaths(run_dir) if run_dir else None
    if run is not None and run.config.is_file():
        shutil.copyfile(run.config, out.config)
    else:
        config_mod.save(cfg, out.config)
    written.append(out.config)
    for name in runlayout.STEP_LOGS:
        target = out.log(name)
        if run is not None and run.log(name).is_file():
            shutil.copyfile(run.log(name), target)
        else:
            target.write_text("", encoding="utf-8")
        written.append(target)
    for name, item in plots.items():
        for fmt in PLOT_FORMATS:
            if fmt == "csv" and name in csv_skip:
                continue
            target = folder / f"{name}.{fmt}"
            written.append(draw(name, target) if draw is not None and fmt != "csv"
                           else export_plot(item, target))
    if grid is not None:
        written.append(save_grid_png(grid, folder / "samples_grid.png"))
    return written


def plot_series(item: pg.PlotItem) -> list[Series]:
    """The visible curves of a plot as comparison columns, named by their legend names
    (``name``; an unnamed curve is "curve N"), with the values as plotted (before
    pyqtgraph's display downsampling)."""
    out, names = [], set()
    for i, it in enumerate(c for c in item.items if isinstance(c, pg.PlotDataItem)):
        if not it.isVisible():
            continue
        x, y = it.getOriginalDataset()
        if x is None:
            continue
        name = it.name() or f"curve {i + 1}"
        base, n = name, 2
        while name in names:
            name = f"{base} ({n})"
            n += 1
        names.add(name)
        out.append(Series(name, np.asarray(x, dtype=float).tolist(),
                          np.asarray(y, dtype=float).tolist()))
    return out


def export_plot_csv(item: pg.PlotItem, path: str | Path) -> Path:
    """A plot's curves as CSV: ``step`` and one column per curve (so per run when each run
    has one curve), aligned on the step."""
    return write_comparison_csv(path, plot_series(item))
