"""Figures for reports: any pyqtgraph plot, alone or several in one multi-panel figure, in a
light "report" style (white background, dark text and axes, lines and text sized for a
one-column paper figure), written as PNG, PDF or SVG, with a caption; and a plot's curves as
a CSV with one column per curve (per run).

The on-screen plot is never touched: the figure is built from a *copy* of each plot's items
(curves, scatter points, images, event markers, arrows) in its own scene, styled there and
rendered at the style's resolution. What is copied: ``PlotDataItem`` (with fill and steps),
``PlotCurveItem`` (one drawn with ``connect="pairs"`` is a set of segments tail -> tip and is
drawn as real arrows), :class:`ArrowFieldItem`, ``ScatterPlotItem``, ``ImageItem`` (an image
with a colour map or look-up table gets a colour bar) and ``InfiniteLine`` markers with their
labels, plus the axis labels, log axes, aspect lock, inverted y and the legend.

Sizes follow the paper: the style's ``dpi`` and panel size in inches, fonts and lines in
points, so a PNG at 300 dpi and the PDF page measure the same. The PDF is vector (QPdfWriter);
SVG is written with QtSvg's QSvgGenerator, not pyqtgraph's SVG exporter (broken with PySide6
6.11 and 6.12, pyqtgraph issue 3485).
"""

from __future__ import annotations

import gc
import html
import types
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter,
                           QTextDocument)

from core.compare import Series, write_comparison_csv

from ..compare.palette import readable_on
from .arrows import ArrowFieldItem

FORMATS = ("png", "pdf", "svg")
SVG_DPI = 96


@dataclass(frozen=True)
class ReportStyle:
    """How a figure looks on paper. Lengths in points (1/72 in), panel size in inches."""

    name: str = "report"
    dpi: int = 300
    panel_width_in: float = 3.4    # one column of a two-column paper
    panel_height_in: float = 2.3
    font_pt: float = 8.0
    title_pt: float = 8.5
    line_pt: float = 1.25          # curves
    axis_pt: float = 0.6           # axes, ticks, markers
    marker_pt: float = 2.2         # scatter points' diameter
    head_pt: float = 4.0           # arrow heads' length
    margin_pt: float = 5.0
    background: str = "#ffffff"
    foreground: str = "#1a1a1a"
    grid_alpha: float = 0.15
    legend_alpha: int = 215

    def px(self, pt: float) -> float:
        """Points to pixels at this style's resolution."""
        return pt * self.dpi / 72.0

    def font(self, pt: float | None = None, bold: bool = False) -> QFont:
        f = QFont()
        f.setPixelSize(max(1, round(self.px(self.font_pt if pt is None else pt))))
        f.setBold(bold)
        return f

    @property
    def panel_px(self) -> tuple[int, int]:
        return round(self.panel_width_in * self.dpi), round(self.panel_height_in * self.dpi)


REPORT = ReportStyle()
#: the app's dark colours at screen resolution (the "as on screen" choice for figures)
SCREEN = ReportStyle(name="screen", dpi=144, background="#1b1d23", foreground="#d7dae0",
                     grid_alpha=0.18)
STYLES = {s.name: s for s in (REPORT, SCREEN)}


@dataclass
class FigurePanel:
    """One panel of a figure: a plot to copy, the title over it, and the label of the colour
    bar its image gets (if it has a colour map)."""

    item: pg.PlotItem
    title: str = ""
    colorbar_label: str = ""
    fit: str = "data"  # "data": the range of what is drawn; "view": the on-screen range


@dataclass
class FigureResult:
    paths: list[Path] = field(default_factory=list)
    caption: str = ""
    size_px: tuple[int, int] = (0, 0)


# --------------------------------------------------------------------------- copying
def _pen(source, style: ReportStyle, width_pt: float, contrast: float = 3.0):
    """A copy of ``source``'s pen in the style: readable colour, width in points, same dash."""
    src = pg.mkPen(source)
    if src.style() == Qt.NoPen:
        return pg.mkPen(None)
    color = readable_on(src.color(), style.background, contrast)
    pen = pg.mkPen(color, width=style.px(width_pt))
    pen.setStyle(src.style())
    pen.setCosmetic(True)
    return pen


def _brush(source, style: ReportStyle):
    if source is None:
        return None
    b = pg.mkBrush(source)
    if b.style() == Qt.NoBrush:
        return b
    c = readable_on(b.color(), style.background)
    c.setAlpha(b.color().alpha())
    return pg.mkBrush(c)


class _ReportSample(pg.ItemSample):
    """Legend sample drawn ``scale`` times larger (pyqtgraph's is 20 px, tiny at 300 dpi)."""

    scale = 1.0

    def __init__(self, item):
        super().__init__(item)
        self.setFixedWidth(20 * self.scale)
        self.setFixedHeight(20 * self.scale)

    def boundingRect(self):
        return QRectF(0, 0, 20 * self.scale, 20 * self.scale)

    def paint(self, p, *args):
        p.save()
        p.scale(self.scale, self.scale)
        try:
            super().paint(p, *args)
        finally:
            p.restore()


def _paint_direct(self, p, *_args) -> None:
    """AxisItem.paint without its QPicture cache: a QPicture replayed on a device of another
    resolution (a 300 dpi image, a PDF page) scales its text by the ratio of resolutions."""
    p.save()
    try:
        if self.style["tickFont"]:
            p.setFont(self.style["tickFont"])
        specs = self.generateDrawSpecs(p)
        if specs is not None:
            self.drawPicture(p, *specs)
    finally:
        p.restore()


def _direct_axis(ax: pg.AxisItem) -> pg.AxisItem:
    """Make ``ax`` paint directly (see _paint_direct). An instance attribute, because
    assigning another Python class to a live Qt item crashed the next figure."""
    ax.paint = types.MethodType(_paint_direct, ax)
    ax.picture = None
    return ax


def _style_axis(ax: pg.AxisItem, style: ReportStyle) -> None:
    _direct_axis(ax)
    fg = QColor(style.foreground)
    ax.setPen(pg.mkPen(fg, width=style.px(style.axis_pt)))
    ax.setTextPen(pg.mkPen(fg))
    ax.setTickFont(style.font())
    ax.setStyle(tickLength=-round(style.px(2.5)), tickTextOffset=round(style.px(2)),
                maxTickLevel=1)


def _style_axes(plot: pg.PlotItem, style: ReportStyle) -> None:
    for side in ("left", "bottom", "right", "top"):
        _style_axis(plot.getAxis(side), style)
    plot.showGrid(x=True, y=True, alpha=style.grid_alpha)


def _label_args(style: ReportStyle) -> dict:
    return {"color": style.foreground, "font-size": f"{round(style.px(style.font_pt))}px"}


def _copy_axes(src: pg.PlotItem, dst: pg.PlotItem, style: ReportStyle) -> None:
    for side in ("left", "bottom"):
        a, b = src.getAxis(side), dst.getAxis(side)
        if not a.isVisible():
            dst.hideAxis(side)
            continue
        if a.labelText or a.labelUnits:
            b.setLabel(a.labelText, units=a.labelUnits or None, unitPrefix=a.labelUnitPrefix or None,
                       **_label_args(style))
    vb = src.getViewBox()
    if vb.state.get("yInverted"):
        dst.invertY(True)
    if vb.state.get("aspectLocked"):
        dst.setAspectLocked(True, ratio=vb.state["aspectLocked"])


def _colormap_of(img: pg.ImageItem) -> pg.ColorMap | None:
    cmap = img.getColorMap() if hasattr(img, "getColorMap") else None
    if cmap is not None:
        return cmap
    lut = img.lut
    if isinstance(lut, np.ndarray) and lut.ndim == 2 and lut.shape[1] in (3, 4) and len(lut) > 1:
        return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut[:, :3])
    return None


def _copy_items(src: pg.PlotItem, dst: pg.PlotItem, style: ReportStyle,
                colorbar_label: str) -> list:
    copies = []
    for it in list(src.items):
        if not it.isVisible():
            continue
        new = None
        if isinstance(it, pg.PlotDataItem):
            x, y = it.getOriginalDataset()
            if x is None or len(x) == 0:
                continue
            o = it.opts
            kw = dict(name=it.name(), pen=_pen(o.get("pen"), style, style.line_pt),
                      connect=o.get("connect", "auto"), stepMode=o.get("stepMode"),
                      fillLevel=o.get("fillLevel"), fillBrush=_brush(o.get("fillBrush"), style))
            if o.get("symbol") is not None:
                kw.update(symbol=o["symbol"], symbolSize=style.px(style.marker_pt) * 1.5,
                          symbolBrush=_brush(o.get("symbolBrush"), style),
                          symbolPen=_pen(o.get("symbolPen"), style, style.axis_pt))
            new = pg.PlotDataItem(np.asarray(x), np.asarray(y), **kw)
        elif isinstance(it, ArrowFieldItem) or (isinstance(it, pg.PlotCurveItem)
                                                and it.opts.get("connect") == "pairs"):
            if isinstance(it, ArrowFieldItem):
                tails, vectors = it.getData()
            else:
                x, y = it.getData()
                if x is None or len(x) < 2:
                    continue
                pts = np.stack([x, y], axis=1)[: len(x) // 2 * 2]
                tails, vectors = pts[0::2], pts[1::2] - pts[0::2]
            new = ArrowFieldItem(tails, vectors, name=it.name(),
                                 pen=_pen(it.opts.get("pen"), style, style.axis_pt * 1.3,
                                          contrast=4.5),
                                 head_px=style.px(style.head_pt))
        elif isinstance(it, pg.PlotCurveItem):
            x, y = it.getData()
            if x is None or len(x) == 0:
                continue
            new = pg.PlotCurveItem(np.asarray(x), np.asarray(y), name=it.name(),
                                   pen=_pen(it.opts.get("pen"), style, style.line_pt),
                                   connect=it.opts.get("connect", "all"))
        elif isinstance(it, pg.ScatterPlotItem):
            x, y = it.getData()
            if x is None or len(x) == 0:
                continue
            new = pg.ScatterPlotItem(x=np.asarray(x), y=np.asarray(y), name=it.name(),
                                     size=style.px(style.marker_pt), pen=None,
                                     brush=_brush(it.opts.get("brush"), style),
                                     symbol=it.opts.get("symbol", "o"))
        elif isinstance(it, pg.ImageItem):
            if it.image is None:
                continue
            new = pg.ImageItem(np.array(it.image), axisOrder=it.axisOrder)
            levels = it.getLevels()
            cmap = _colormap_of(it)
            if levels is not None:
                new.setLevels(levels)
            if cmap is not None:
                new.setColorMap(cmap)
            new.setRect(it.mapRectToParent(it.boundingRect()))
            new.setZValue(it.zValue())
            dst.addItem(new)
            copies.append(new)
            if cmap is not None and levels is not None and np.ndim(levels) == 1:
                bar = dst.addColorBar(new, colorMap=cmap, values=tuple(map(float, levels)),
                                      interactive=False, width=style.px(6))
                for side in ("left", "right", "top", "bottom"):  # the bar's frame
                    _style_axis(bar.getAxis(side), style)
                bar.axis.enableAutoSIPrefix(False)
                bar.axis.setWidth(None)  # room for the tick labels (pyqtgraph fixes 45 px)
                if colorbar_label:
                    bar.axis.setLabel(colorbar_label, **_label_args(style))
            continue
        elif isinstance(it, pg.InfiniteLine):
            label = it.label.textItem.toPlainText() if getattr(it, "label", None) else None
            color = readable_on(pg.mkPen(it.pen).color(), style.background)
            # near the bottom: the legend sits at the top
            opts = {"position": 0.06, "color": color, "movable": False,
                    "fill": pg.mkBrush(QColor(style.background).red(),
                                       QColor(style.background).green(),
                                       QColor(style.background).blue(), 200)}
            new = pg.InfiniteLine(pos=it.value(), angle=it.angle, movable=False,
                                  pen=_pen(it.pen, style, style.axis_pt),
                                  label=label, labelOpts=opts)
            if new.label is not None:
                new.label.textItem.setFont(style.font(style.font_pt * 0.9))
            new.setZValue(it.zValue())
            dst.addItem(new, ignoreBounds=True)
            copies.append(new)
            continue
        else:
            continue  # text items, ROIs...: not part of a report figure
        new.setZValue(it.zValue())
        dst.addItem(new)
        copies.append(new)
    return copies


def copy_plot(src: pg.PlotItem, style: ReportStyle = REPORT, *, title: str = "",
              colorbar_label: str = "") -> pg.PlotItem:
    """A new PlotItem drawing what ``src`` draws, in ``style`` (``src`` is not changed)."""
    axis_items = {side: type(src.getAxis(side))(side) for side in ("left", "bottom")}
    dst = pg.PlotItem(axisItems=axis_items)
    dst.hideButtons()
    dst.setMenuEnabled(False)
    dst.setMouseEnabled(False, False)
    x_log, y_log = src.getAxis("bottom").logMode, src.getAxis("left").logMode
    dst.setLogMode(x=x_log, y=y_log)
    _style_axes(dst, style)
    _copy_axes(src, dst, style)
    if title:
        dst.setTitle(html.escape(title), color=style.foreground,
                     size=f"{round(style.px(style.title_pt))}px", bold=True)
    _copy_items(src, dst, style, colorbar_label)  # before the legend: no entry is automatic
    _copy_legend(src, dst, style)
    return dst


def _legend_proxy(item, style: ReportStyle):
    """What stands for ``item`` in the copied legend (None: an item with nothing to show)."""
    if not item.isVisible():
        return None
    if isinstance(item, pg.ScatterPlotItem):
        if not len(item.data):
            return None
        return pg.ScatterPlotItem(size=style.px(style.marker_pt) * 2, pen=None,
                                  brush=_brush(item.opts.get("brush"), style),
                                  symbol=item.opts.get("symbol", "o"))
    if isinstance(item, pg.PlotDataItem) and item.scene() is not None:
        x, _ = item.getOriginalDataset()
        if x is None or not len(x):
            return None  # an empty curve of the plot (a legend-only line has no scene)
    pen = item.opts.get("pen") if hasattr(item, "opts") else None
    return pg.PlotDataItem([], [], pen=_pen(pen, style, style.line_pt))


def _copy_legend(src: pg.PlotItem, dst: pg.PlotItem, style: ReportStyle) -> None:
    """The source legend's entries, restyled (the on-screen legend may name runs and series
    once rather than every curve)."""
    legend = getattr(src, "legend", None)
    if legend is None or not legend.isVisible():
        return
    entries = [(p, label.text) for sample, label in legend.items
               if (p := _legend_proxy(sample.item, style)) is not None]
    if not entries:
        return
    font_pt = style.font_pt * 0.9
    k = style.px(font_pt) * 1.6 / 20.0
    sample = type("Sample", (_ReportSample,), {"scale": k})
    bg = QColor(style.background)
    bg.setAlpha(style.legend_alpha)
    new = dst.addLegend(offset=(-round(style.px(3)), round(style.px(3))), sampleType=sample,
                        labelTextSize=f"{round(style.px(font_pt))}px",
                        labelTextColor=style.foreground, brush=pg.mkBrush(bg),
                        pen=pg.mkPen(style.foreground, width=style.px(0.4)),
                        verSpacing=-round(style.px(1.5)),
                        colCount=2 if len(entries) > 4 else 1)
    for proxy, text in entries:
        new.addItem(proxy, text)


# --------------------------------------------------------------------------- figures
class _Figure:
    """An offscreen scene holding the copied panels in a grid, at the style's pixel size,
    laid out for one output format (``png``, ``pdf`` or ``svg``)."""

    def __init__(self, panels: Sequence[FigurePanel], style: ReportStyle, columns: int | None,
                 fmt: str):
        n = len(panels)
        self.columns = columns or (1 if n == 1 else 2)
        rows = -(-n // self.columns)
        pw, ph = style.panel_px
        self.style, self.fmt = style, fmt
        self.width, self.height = pw * self.columns, ph * rows
        self.view = pg.GraphicsView(background=style.background)
        self.layout = pg.GraphicsLayout()
        m = style.px(style.margin_pt)
        self.layout.setContentsMargins(m, m, m, m)
        self.layout.setSpacing(m)
        self.view.setCentralItem(self.layout)
        self.plots = []
        for i, panel in enumerate(panels):
            plot = copy_plot(panel.item, style, title=panel.title,
                             colorbar_label=panel.colorbar_label)
            self.layout.addItem(plot, i // self.columns, i % self.columns)
            self.plots.append(plot)
        self.view.resize(self.width, self.height)
        self.layout.setGeometry(QRectF(0, 0, self.width, self.height))
        # Axes size themselves to their tick labels when they first paint, measured on the
        # device they paint on (a PDF's text metrics are not an image's): lay out, range, paint
        # once on a scratch device of the output's kind, and lay out and range again.
        for _ in range(2):
            self._settle(panels)
            buffer = QBuffer()
            buffer.open(QIODevice.WriteOnly)
            device = _DEVICES[fmt](buffer, (self.width, self.height), style, "")
            painter = _begin(device, (self.width, self.height), "a scratch figure")
            try:
                self.render(painter)
            finally:
                painter.end()
        self._settle(panels)

    def _settle(self, panels: Sequence[FigurePanel]) -> None:
        self.layout.layout.invalidate()
        self.layout.layout.activate()
        for plot in self.plots:
            plot.layout.activate()
        for plot, panel in zip(self.plots, panels):
            if panel.fit == "view":
                xr, yr = panel.item.getViewBox().viewRange()
                plot.setRange(xRange=xr, yRange=yr, padding=0)
            else:
                plot.getViewBox().autoRange(padding=0.03)

    def render(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        rect = QRectF(0, 0, self.width, self.height)
        self.view.scene().render(painter, rect, rect)

    def close(self) -> None:
        # pyqtgraph's items hold reference cycles: collect them now, on this (the GUI) thread,
        # not whenever the garbage collector next runs, maybe on a training thread.
        self.plots = []
        self.layout = None
        self.view = None
        gc.collect()


def _caption_doc(text: str, style: ReportStyle, width: float) -> QTextDocument | None:
    if not text:
        return None
    doc = QTextDocument()
    doc.setDefaultFont(style.font())
    doc.setDocumentMargin(style.px(style.margin_pt))
    doc.setDefaultStyleSheet(f"body {{ color: {style.foreground}; }}")
    doc.setHtml(f"<body>{html.escape(text)}</body>")
    doc.setTextWidth(width)
    return doc


# Paint devices per format: (file name or QIODevice, pixel size, style, caption) -> device.
class _PngDevice(QImage):
    """A QImage that saves itself to ``target`` when painting ends (see _begin)."""

    def __init__(self, target, size, style: ReportStyle, caption: str):
        super().__init__(size[0], size[1], QImage.Format_ARGB32)
        self.target = target
        # dots per metre go in the file only, after painting: text painted on an image that
        # says 300 dpi comes out scaled by 300/96 wherever Qt replays a QPicture.
        self.dpm = round(style.dpi / 0.0254)
        if caption:
            self.setText("Description", caption)
        self.setText("Software", "Lipschitz Playground")

    def finish(self) -> None:
        if isinstance(self.target, QBuffer):
            return
        self.setDotsPerMeterX(self.dpm)
        self.setDotsPerMeterY(self.dpm)
        if not self.save(str(self.target), "PNG"):
            raise OSError(f"cannot write {self.target}: the PNG writer failed")


def _pdf_device(target, size, style: ReportStyle, caption: str) -> QPdfWriter:
    writer = QPdfWriter(target if isinstance(target, QBuffer) else str(target))
    writer.setResolution(style.dpi)
    size_pt = QSizeF(size[0] * 72.0 / style.dpi, size[1] * 72.0 / style.dpi)
    writer.setPageLayout(QPageLayout(QPageSize(size_pt, QPageSize.Point, "figure",
                                               QPageSize.ExactMatch),
                                     QPageLayout.Portrait, QMarginsF(0, 0, 0, 0)))
    writer.setCreator("Lipschitz Playground")
    writer.setTitle(caption)
    return writer


def _svg_device(target, size, style: ReportStyle, caption: str):
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    if isinstance(target, QBuffer):
        gen.setOutputDevice(target)
    else:
        gen.setFileName(str(target))
    gen.setSize(QSize(*size))
    gen.setViewBox(QRectF(0, 0, *size))
    gen.setResolution(style.dpi)
    gen.setTitle("Lipschitz Playground figure")
    gen.setDescription(caption)
    return gen


_DEVICES = {"png": _PngDevice, "pdf": _pdf_device, "svg": _svg_device}


def _begin(device, size: tuple[int, int], what) -> QPainter:
    painter = QPainter()
    if not painter.begin(device):
        raise OSError(f"cannot write {what}")
    if isinstance(device, QPdfWriter):  # the page is size[] pixels, give or take rounding
        painter.scale(device.width() / size[0], device.height() / size[1])
    return painter


def export_figure(panels: Sequence[FigurePanel | pg.PlotItem], path: str | Path, *,
                  caption: str = "", style: ReportStyle = REPORT, columns: int | None = None,
                  formats: Sequence[str] | None = None) -> FigureResult:
    """Write the panels as one figure with ``caption`` under it, in each of ``formats``
    (default: the suffix of ``path``; e.g. ``formats=("png", "pdf")`` writes both beside each
    other). Returns the paths written, the caption and the PNG's (or PDF's) pixel size.
    Nothing on screen changes."""
    path = Path(path)
    formats = [f.lower().lstrip(".") for f in (formats or [path.suffix])]
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown figure format '{fmt}' (use {', '.join(FORMATS)})")
    items = [p if isinstance(p, FigurePanel) else FigurePanel(p) for p in panels]
    if not items:
        raise ValueError("a figure needs at least one panel")
    path.parent.mkdir(parents=True, exist_ok=True)
    result = FigureResult(caption=caption)
    for fmt in formats:
        # SVG viewers draw pens at a fixed screen width (QSvgGenerator writes Qt's cosmetic
        # pens as non-scaling strokes), so an SVG is drawn at its natural 96 dpi.
        fmt_style = replace(style, dpi=SVG_DPI) if fmt == "svg" else style
        fig = _Figure(items, fmt_style, columns, fmt)
        try:
            doc = _caption_doc(caption, fmt_style, fig.width)
            total = (fig.width, fig.height + (round(doc.size().height()) if doc else 0))
            out = path.with_suffix("." + fmt)
            device = _DEVICES[fmt](out, total, fmt_style, caption)
            painter = _begin(device, total, out)
            try:
                painter.fillRect(QRectF(0, 0, *total), QColor(fmt_style.background))
                fig.render(painter)
                if doc is not None:
                    painter.translate(0, fig.height)
                    doc.drawContents(painter)
            finally:
                painter.end()
            if isinstance(device, _PngDevice):
                device.finish()
        finally:
            fig.close()
        result.paths.append(out)
        if fmt != "svg" or not result.size_px[0]:
            result.size_px = total
    return result


def export_plot_report(item: pg.PlotItem, path: str | Path, *, title: str = "",
                       colorbar_label: str = "", style: ReportStyle = REPORT,
                       caption: str = "") -> Path:
    """One plot as a report figure (PNG, PDF or SVG by the suffix of ``path``)."""
    panel = FigurePanel(item, title=title, colorbar_label=colorbar_label)
    return export_figure([panel], path, caption=caption, style=style).paths[0]


def with_size(style: ReportStyle, width_in: float, height_in: float) -> ReportStyle:
    return replace(style, panel_width_in=width_in, panel_height_in=height_in)


# --------------------------------------------------------------------------- data
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
