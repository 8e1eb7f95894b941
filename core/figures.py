"""Figures for reports, drawn with matplotlib from plain data: the one way this project draws
figures for papers (the app's Export > Figure… and its report-style plot exports; the
reproduction report draws with matplotlib too).

Why matplotlib, and from data: a figure pipeline both front ends share has to be Qt-free
(``core`` never imports Qt), and matplotlib is already what ``core.reproduce`` draws with. It
writes what a paper needs natively: a PNG with its resolution, vector PDF and SVG with real
text, colour bars, arrows with heads (``quiver``), sizes in inches and points. The app used to
copy its on-screen pyqtgraph items into a second scene instead, which needed a copy rule per
item type reaching into pyqtgraph's internals, a patched axis painter (its cached QPicture
scaled text on a 300 dpi or PDF device) and a hand-made legend sample. Now each app panel
describes what it shows as a :class:`PlotSpec` (the same numbers, names, colours and dashes as
on screen, its event markers and legend) and :func:`export_figure` draws the specs in a
:class:`FigureStyle`; nothing on screen is touched.

Sizes follow the paper: ``panel_width_in`` x ``panel_height_in`` per panel (3.4 in is one column
of a two-column paper), fonts and lines in points, so a 300 dpi PNG and the PDF page measure
the same. Colours keep their hue but are darkened (or lightened) just enough to keep a 3:1
contrast with the background (:func:`readable_on`, WCAG's figure for graphics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

FORMATS = ("png", "pdf", "svg")
MIN_CONTRAST = 3.0
LEGEND_CHARS = 30  # a longer legend label keeps its start and end (the caption names runs)
DASHES = {"solid": "-", "dash": (0, (4, 2)), "dot": (0, (1, 1.6)), "dashdot": (0, (4, 1.6, 1, 1.6)),
          "dashdotdot": (0, (4, 1.4, 1, 1.4, 1, 1.4))}


# --------------------------------------------------------------------------- colours
def _rgba(color: str) -> tuple[float, float, float, float]:
    """'#rrggbb' or '#rrggbbaa' as floats in 0..1."""
    h = color.lstrip("#")
    parts = [int(h[i:i + 2], 16) / 255 for i in range(0, len(h), 2)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def _hex(r: float, g: float, b: float, a: float = 1.0) -> str:
    out = "#" + "".join(f"{round(255 * max(0.0, min(1.0, c))):02x}" for c in (r, g, b))
    return out if a >= 1.0 else out + f"{round(255 * a):02x}"


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    """Relative luminance (WCAG 2) of a colour, 0 (black) to 1 (white)."""
    r, g, b, _ = _rgba(color)
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(color: str, background: str, minimum: float = MIN_CONTRAST) -> str:
    """``color``, moved towards black (on a light background) or white (on a dark one) in
    small steps until it has ``minimum`` contrast with ``background``; unchanged if it has."""
    r, g, b, a = _rgba(color)
    target = 0.0 if luminance(background) > 0.5 else 1.0
    out = _hex(r, g, b)
    for i in range(1, 21):
        if contrast(out, background) >= minimum:
            break
        t = i / 20
        out = _hex(r + (target - r) * t, g + (target - g) * t, b + (target - b) * t)
    return out if a >= 1.0 else out + f"{round(255 * a):02x}"


def short_label(label: str, chars: int = LEGEND_CHARS) -> str:
    """``label`` whole when it fits in ``chars``. A run label ("spectral off -> on @300,
    batch_size 256, loss bce, +2 more", its parts most telling first) loses whole parts from
    its end into its "+N more" ("spectral off, +4 more", or "spectral off -> on @300, …" when
    only the first part fits), keeping a number suffix (" (2)"); any other text keeps its
    start and end around "…"."""
    if len(label) <= chars:
        return label
    number = _NUMBER_SUFFIX.search(label)
    suffix = number.group(0) if number else ""
    parts = label[:len(label) - len(suffix)].split(", ")
    more = _MORE_PART.match(parts[-1])
    hidden = int(more.group(1)) if more else 0
    if more:
        parts.pop()
    while len(parts) > 1:
        parts.pop()
        hidden += 1
        text = f"{', '.join(parts)}, +{hidden} more{suffix}"
        if len(text) <= chars:
            return text
    if hidden and len(parts[0]) + len(suffix) + 3 <= chars:
        return f"{parts[0]}, …{suffix}"  # the most telling part whole, the rest in the tooltip
    return cut_middle(label, chars)


def short_labels(labels: Sequence[str], chars: int = LEGEND_CHARS) -> list[str]:
    """:func:`short_label` of each, except where two different labels would read the same
    ("spectral off, +4 more" twice): those keep their start and end around "…"."""
    texts = [short_label(label, chars) for label in labels]
    return [cut_middle(label, chars) if any(t == text and other != label
                                            for t, other in zip(texts, labels)) else text
            for label, text in zip(labels, texts)]


def cut_middle(label: str, chars: int) -> str:
    """``label`` whole, or its start and end around "…" in ``chars`` characters."""
    if len(label) <= chars:
        return label
    head = (chars - 1) * 3 // 5
    return label[:head].rstrip() + "…" + label[-(chars - 1 - head):].lstrip()


_NUMBER_SUFFIX = re.compile(r" \(\d+\)$")   # "spectral on (2)": the second run of that label
_MORE_PART = re.compile(r"^\+(\d+) more$")  # core.compare's "+N more" (MAX_LABEL_PARTS)


# --------------------------------------------------------------------------- what to draw
@dataclass(frozen=True)
class Line:
    """A curve; with ``edges`` set (len(y) + 1 bin edges, ``x`` unused) a histogram drawn as
    steps, filled with ``fill`` when given."""

    x: np.ndarray
    y: np.ndarray
    name: str = ""
    color: str = "#000000"
    dash: str = "solid"
    edges: np.ndarray | None = None
    fill: str | None = None


@dataclass(frozen=True)
class Points:
    xy: np.ndarray  # [N, 2]
    name: str = ""
    color: str = "#000000"


@dataclass(frozen=True)
class Heatmap:
    """A scalar field over ``extent`` (x0, x1, y0, y1), row 0 at y0; its colour bar shows
    ``levels`` in the colours ``stops`` ((position 0..1, '#rrggbb'), ...)."""

    values: np.ndarray
    extent: tuple[float, float, float, float]
    levels: tuple[float, float]
    stops: tuple[tuple[float, str], ...]
    label: str = ""


@dataclass(frozen=True)
class Arrows:
    tails: np.ndarray    # [N, 2]
    vectors: np.ndarray  # [N, 2], in data units
    name: str = ""
    color: str = "#000000"


@dataclass(frozen=True)
class Marker:
    """A vertical line at ``x`` (an applied change), labelled."""

    x: float
    text: str
    color: str = "#000000"


@dataclass(frozen=True)
class LegendEntry:
    label: str
    color: str
    dash: str = "solid"
    kind: str = "line"  # "line" | "points" | "arrow"


@dataclass
class PlotSpec:
    """One panel of a figure. ``legend`` None: every named line and point set, in order."""

    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    log_y: bool = False
    equal_aspect: bool = False
    axes: bool = True                    # False: an image alone (a sample grid), its xlabel under it
    lines: list[Line] = field(default_factory=list)
    points: list[Points] = field(default_factory=list)
    heatmap: Heatmap | None = None
    image: np.ndarray | None = None      # uint8 [H, W] or [H, W, 3], drawn pixel for pixel
    arrows: Arrows | None = None
    markers: list[Marker] = field(default_factory=list)
    legend: list[LegendEntry] | None = None
    legend_loc: str = "best"  # matplotlib's place: "best" covers the fewest points; "below":
    #                           under the axes (a heat map has no free place inside)


# --------------------------------------------------------------------------- how it looks
@dataclass(frozen=True)
class FigureStyle:
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
    legend_alpha: float = 0.85

    def px(self, pt: float) -> float:
        """Points to pixels at this style's resolution."""
        return pt * self.dpi / 72.0

    @property
    def panel_px(self) -> tuple[int, int]:
        return round(self.panel_width_in * self.dpi), round(self.panel_height_in * self.dpi)


REPORT = FigureStyle()
#: the app's dark colours at screen resolution (the "as on screen" choice for figures)
SCREEN = FigureStyle(name="screen", dpi=144, background="#1b1d23", foreground="#d7dae0",
                     grid_alpha=0.18)
STYLES = {s.name: s for s in (REPORT, SCREEN)}


@dataclass
class FigureResult:
    paths: list[Path] = field(default_factory=list)
    caption: str = ""
    size_px: tuple[int, int] = (0, 0)


# --------------------------------------------------------------------------- drawing
def _wrap(text: str, width_in: float, style: FigureStyle) -> list[str]:
    """``text`` in lines no wider than ``width_in`` at the style's font (measured by
    matplotlib's own text layout, word by word)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(10, 10, 72)
    font = FontProperties(size=style.font_pt)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}" if line else word
            w = renderer.get_text_width_height_descent(trial, font, ismath=False)[0] / 72
            if line and w > width_in:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def draw_figure(panels: Sequence[PlotSpec], *, caption: str = "", style: FigureStyle = REPORT,
                columns: int | None = None):
    """A matplotlib Figure of the panels in a grid (``columns`` per row; default 1 for one
    panel, else 2) with ``caption`` under it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("a figure needs at least one panel")
    cols = columns or (1 if len(panels) == 1 else 2)
    rows = -(-len(panels) // cols)
    width, height = style.panel_width_in * cols, style.panel_height_in * rows
    margin = style.margin_pt / 72
    lines = _wrap(caption, width - 2 * margin, style) if caption else []
    caption_in = (len(lines) * 1.3 * style.font_pt / 72 + 2 * margin) if lines else 0.0
    total = height + caption_in
    fig = Figure(figsize=(width, total), dpi=style.dpi, facecolor=style.background)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained", rect=(0, caption_in / total, 1, height / total),
                          h_pad=margin / 2, w_pad=margin / 2)
    axes = fig.subplots(rows, cols, squeeze=False)
    titles = []
    for i, ax in enumerate(axes.flat):
        if i < len(panels):
            titles.append((ax, _draw_panel(fig, ax, panels[i], style)))
        else:
            ax.set_visible(False)
    if lines:
        fig.text(margin / width, (caption_in - margin) / total, "\n".join(lines), ha="left",
                 va="top", fontsize=style.font_pt, color=style.foreground, linespacing=1.3)
    if any(getattr(ax.get_legend(), "get_in_layout", lambda: False)() for ax in fig.axes):
        fig.canvas.draw()  # a legend under its axes moves as they shrink: lay out twice
    _fit_titles(fig, titles)
    return fig


def _fit_titles(fig, titles) -> None:
    """Shorten a title wider than its panel (one naming a run with a long label) around "…"
    once the panels are laid out; ``titles``: (axes, its title Text)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, title in titles:
        full = title.get_text()
        right = max(a.get_window_extent(renderer).x1 for a in [ax, *ax.child_axes])
        room = right - ax.get_window_extent(renderer).x0  # the axes and its colour bar
        n = len(full)
        while n > 12 and title.get_window_extent(renderer).width > room:
            n -= 2
            title.set_text(full[:n - 1].rstrip() + "…")


def _style_axes(ax, style: FigureStyle) -> None:
    fg = style.foreground
    ax.set_facecolor(style.background)
    for spine in ax.spines.values():
        spine.set_color(fg)
        spine.set_linewidth(style.axis_pt)
    ax.tick_params(colors=fg, labelsize=style.font_pt, width=style.axis_pt, length=2.5,
                   direction="in", which="both")
    ax.grid(True, color=fg, alpha=style.grid_alpha, linewidth=style.axis_pt * 0.8)
    ax.xaxis.label.set_color(fg)
    ax.yaxis.label.set_color(fg)


def _draw_panel(fig, ax, spec: PlotSpec, style: FigureStyle):
    """Draw ``spec`` into ``ax``; returns its title (a matplotlib Text)."""
    fg, bg = style.foreground, style.background
    _style_axes(ax, style)
    title = ax.set_title(spec.title, fontsize=style.title_pt, fontweight="bold", color=fg,
                         loc="left")
    ax.set_xlabel(spec.xlabel, fontsize=style.font_pt)
    ax.set_ylabel(spec.ylabel, fontsize=style.font_pt)
    if spec.image is not None:
        pixels = np.asarray(spec.image)
        ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None, vmin=0, vmax=255,
                  interpolation="nearest")
    if spec.heatmap is not None:
        _draw_heatmap(fig, ax, spec.heatmap, style)
    for line in spec.lines:
        color = readable_on(line.color, bg)
        if line.edges is not None:
            if line.fill is not None:
                ax.stairs(line.y, line.edges, color=line.fill, fill=True, linewidth=0)
            ax.stairs(line.y, line.edges, label=line.name or None, color=color,
                      linewidth=style.line_pt * 0.8, baseline=0)
        else:
            ax.plot(line.x, line.y, label=line.name or None, color=color,
                    linewidth=style.line_pt, linestyle=DASHES.get(line.dash, "-"))
    for pts in spec.points:
        if len(pts.xy):
            ax.scatter(pts.xy[:, 0], pts.xy[:, 1], s=style.marker_pt ** 2, linewidths=0,
                       color=readable_on(pts.color, bg), label=pts.name or None)
    if spec.arrows is not None and len(spec.arrows.tails):
        _draw_arrows(ax, spec.arrows, style)
    if spec.log_y:
        ax.set_yscale("log")
    for m in spec.markers:
        color = readable_on(m.color, bg)
        ax.axvline(m.x, color=color, linewidth=style.axis_pt, linestyle=DASHES["dash"],
                   zorder=0.5)
        ax.text(m.x, 0.04, f" {m.text}", transform=ax.get_xaxis_transform(), color=color,
                fontsize=style.font_pt * 0.9, ha="left", va="bottom",
                bbox={"facecolor": bg, "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
    if spec.equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    if not spec.axes:  # an image alone, with its x label under it (a filmstrip's figures)
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    ax.margins(0.03)
    _legend(ax, spec, style)
    return title


def _draw_heatmap(fig, ax, heat: Heatmap, style: FigureStyle) -> None:
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("heat", [(p, c) for p, c in heat.stops])
    image = ax.imshow(np.asarray(heat.values, dtype=float), extent=heat.extent, origin="lower",
                      cmap=cmap, vmin=heat.levels[0], vmax=heat.levels[1],
                      interpolation="nearest", aspect="auto", zorder=0)
    # beside the axes' own box (which an equal aspect narrows), not its grid cell's edge
    bar = fig.colorbar(image, cax=ax.inset_axes([1.03, 0.0, 0.05, 1.0]))
    bar.outline.set_edgecolor(style.foreground)
    bar.outline.set_linewidth(style.axis_pt)
    bar.ax.tick_params(colors=style.foreground, labelsize=style.font_pt, width=style.axis_pt,
                       length=2.5, direction="in")
    if heat.label:
        bar.set_label(heat.label, fontsize=style.font_pt, color=style.foreground)


def _draw_arrows(ax, arrows: Arrows, style: FigureStyle) -> None:
    """Real arrows: a shaft and a filled head at the tip, the head ``head_pt`` long."""
    shaft = style.axis_pt * 1.3
    head = style.head_pt / shaft  # quiver sizes heads in shaft widths
    t, v = np.asarray(arrows.tails, dtype=float), np.asarray(arrows.vectors, dtype=float)
    ax.quiver(t[:, 0], t[:, 1], v[:, 0], v[:, 1], angles="xy", scale_units="xy", scale=1,
              units="inches", width=shaft / 72, headlength=head, headaxislength=head * 0.9,
              headwidth=head * 0.9, minlength=0.1, color=readable_on(arrows.color,
                                                                      style.background, 4.5),
              label=arrows.name or None, zorder=3)


MAX_LEGEND_INSIDE = 4   # legend entries that go inside a panel; more go under it
LEGEND_BELOW = 0.28     # of the axes' height: under the x axis and its label


def _legend(ax, spec: PlotSpec, style: FigureStyle) -> None:
    from matplotlib.lines import Line2D

    entries = spec.legend
    if entries is None:
        entries = [LegendEntry(line.name, line.color, line.dash) for line in spec.lines
                   if line.name]
        entries += [LegendEntry(p.name, p.color, kind="points") for p in spec.points
                    if p.name and len(p.xy)]
    if not entries:
        return
    bg = style.background
    handles = []
    for e in entries:
        color = readable_on(e.color, bg)
        if e.kind == "points":
            handles.append(Line2D([], [], linestyle="", marker="o", color=color,
                                  markersize=style.marker_pt * 1.6))
        else:
            handles.append(Line2D([], [], color=color, linewidth=style.line_pt,
                                  linestyle=DASHES.get(e.dash, "-")))
    # A few entries fit inside, where the curves are not ("best"); more (several runs and
    # their series) covered the curves wherever they went: they go under the axes, outside.
    below = len(entries) > MAX_LEGEND_INSIDE or spec.legend_loc == "below"
    place = ({"loc": "upper center", "bbox_to_anchor": (0.5, -LEGEND_BELOW)} if below
             else {"loc": spec.legend_loc})
    legend = ax.legend(handles, short_labels([e.label for e in entries]), **place,
                       fontsize=style.font_pt * 0.9, ncols=2 if len(entries) > 4 or below else 1,
                       frameon=True, facecolor=bg, edgecolor=style.foreground,
                       framealpha=style.legend_alpha, handlelength=2.2, borderpad=0.4,
                       labelspacing=0.3, columnspacing=1.0)
    legend.set_in_layout(below)  # inside the axes it never squeezes the panels
    legend.get_frame().set_linewidth(0.4)
    for text in legend.get_texts():
        text.set_color(style.foreground)


# --------------------------------------------------------------------------- writing
def export_figure(panels: Sequence[PlotSpec], path: str | Path, *, caption: str = "",
                  style: FigureStyle = REPORT, columns: int | None = None,
                  formats: Sequence[str] | None = None) -> FigureResult:
    """Write the panels as one figure with ``caption`` under it, in each of ``formats``
    (default: the suffix of ``path``; e.g. ``formats=("png", "pdf")`` writes both beside each
    other). Returns the paths written, the caption and the PNG's pixel size. OSError names a
    file that could not be written."""
    import matplotlib

    path = Path(path)
    formats = [f.lower().lstrip(".") for f in (formats or [path.suffix])]
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown figure format '{fmt}' (use {', '.join(FORMATS)})")
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        fig = draw_figure(panels, caption=caption, style=style, columns=columns)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot write {path}: {exc.strerror or exc}") from None
        result = FigureResult(caption=caption)
        w, h = fig.get_size_inches()
        result.size_px = (round(w * style.dpi), round(h * style.dpi))
        metadata = {"png": {"Description": caption, "Software": "Lipschitz Playground"},
                    "pdf": {"Title": caption, "Creator": "Lipschitz Playground"},
                    "svg": {"Title": "Lipschitz Playground figure", "Description": caption}}
        for fmt in formats:
            out = path.with_suffix("." + fmt)
            try:
                fig.savefig(out, format=fmt, dpi=style.dpi, facecolor=style.background,
                            metadata=metadata[fmt])
            except OSError as exc:
                raise OSError(f"cannot write {out}: {exc.strerror or exc}") from None
            result.paths.append(out)
    return result


def export_plot_report(spec: PlotSpec, path: str | Path, *, style: FigureStyle = REPORT,
                       caption: str = "") -> Path:
    """One panel as a figure (PNG, PDF or SVG by the suffix of ``path``)."""
    return export_figure([spec], path, caption=caption, style=style).paths[0]
