"""Sample quality over steps: for image runs the quality probe's fd (log axis), kid, classes,
precision / recall, density / coverage or confidence, each with the scorer's floor (held-out
real vs train real images) and ceiling (an untrained G) as labelled horizontal lines; for 2D
runs the coverage probe's modes and hq. Overlaid across runs and marked at switches like the
other time series (docs/image-quality.md)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from core.config import DATASETS_2D
from core.figures import Line, PlotSpec

from ..compare.runs import RunEntry
from ..run_model import RunModel
from .base import pen
from .timeseries import QtTimeSeriesPanel

# (label, series keys, log axis, what the numbers mean)
IMAGE_VIEWS = {
    "fd": ("fd", ("fd",), True, "Fréchet distance in the scorer's features (lower is better)"),
    "kid": ("kid", ("kid",), False, "kernel distance, unbiased (lower is better; can be < 0)"),
    "classes": ("classes", ("classes",), False,
                "classes with at least 1/(2K) of the samples (stacked data: see 'modes of 1,000')"),
    "pr": ("precision / recall", ("precision", "recall"), False,
           "precision: samples inside the real data's k=3 neighbourhoods; recall: real images "
           "inside the samples'"),
    "dc": ("density / coverage", ("density", "coverage"), False,
           "density: samples per real k=5 neighbourhood (1 = as real); coverage: real images "
           "with a sample nearby"),
    "confidence": ("confidence", ("confidence",), False,
                   "the scorer's mean top-class probability (grey noise scores low)"),
}
# Offered beside IMAGE_VIEWS only to runs that log them: stacked data's modes, and the
# Parzen-window estimate where quality.parzen is on (the report's sections 10 and 11).
STACKED_VIEWS = {
    "stacked_modes": ("modes of 1,000", ("modes",), False,
                      "stacked digits: modes (of 1,000 digit triples) with at least one sample "
                      "(on the N samples of a quality line; the last line counts "
                      "quality.final_mode_samples)"),
    "mode_kl": ("mode KL", ("mode_kl",), False,
                "KL(generated modes || uniform over 1,000), nats (lower is better)"),
}
PARZEN_VIEWS = {
    "parzen": ("Parzen log-likelihood", ("parzen_ll",), False,
               "Parzen-window log-likelihood of held-out real images under G's samples, nats "
               "per image (Goodfellow et al. 2014; higher reads 'better', but see the report's "
               "section 10)"),
}
VIEWS_2D = {
    "modes": ("modes", ("modes",), False, "modes with a sample within 3 std (2,500 samples)"),
    "hq": ("hq", ("hq",), False, "share of samples within 3 std of a mode"),
}
SERIES_COLORS = {"fd": "#56b4e9", "kid": "#56b4e9", "classes": "#8fd16a", "precision": "#56b4e9",
                 "recall": "#e69f00", "density": "#56b4e9", "coverage": "#e69f00",
                 "confidence": "#cc79a7", "modes": "#8fd16a", "hq": "#56b4e9",
                 "mode_kl": "#e69f00", "parzen_ll": "#cc79a7"}
REF_COLOR = "#8b919c"


def is_2d(model: RunModel) -> bool:
    return model.cfg.data.dataset in DATASETS_2D


def is_stacked(model: RunModel) -> bool:
    return model.cfg.data.dataset.startswith("stacked_")


def logs_parzen(model: RunModel) -> bool:
    """quality.parzen on now, or Parzen lines logged before it was switched off."""
    return model.cfg.quality.parzen or math.isfinite(model.history.last("parzen_ll"))


def views_of(kind: str) -> dict[str, tuple]:
    """The views a kind offers: "2d", "image", or "image" + "+stacked" / "+parzen"."""
    if kind == "2d":
        return VIEWS_2D
    return {**IMAGE_VIEWS, **(STACKED_VIEWS if "+stacked" in kind else {}),
            **(PARZEN_VIEWS if "+parzen" in kind else {})}


def scorer_note(model: RunModel) -> str:
    """What the numbers are measured in (shown beside them)."""
    cfg = model.cfg
    if cfg.quality.features == "inception":
        return "InceptionV3 features"
    if cfg.data.dataset == "folder":
        return "random CNN embedding, distance metrics only"
    return f"{cfg.data.dataset} scorer"


def _finite(x: np.ndarray, y: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """The measured points only (quality lines are every probe_every steps; the others are
    null), and on a log axis the positive ones."""
    keep = np.isfinite(y) & ((y > 0) if log else True)
    return x[keep], y[keep]


def _fmt(v: float) -> str:
    return "—" if not math.isfinite(v) else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}")


class QtQualityPanel(QtTimeSeriesPanel):
    title = "Sample quality"
    name = "qualityPlot"
    tooltip = ("Image runs: the quality probe on the slow-probe lines, in the dataset scorer's "
               "features,\nwith its floor (held-out real vs train real images, same N) and "
               "ceiling (an untrained G).\n2D runs: modes and hq of the coverage probe.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view_box = QComboBox()
        self.view_box.setObjectName("qualityView")
        self.view_box.setMaximumWidth(170)
        self.view_box.setToolTip("Which quality measurement to plot")
        self.view_box.currentIndexChanged.connect(self._view_changed)
        self.header.insertWidget(1, self.view_box)
        self._kind: str | None = None  # "2d" | "image"[+stacked][+parzen]: views_of
        self._refs: list[pg.InfiniteLine] = []
        self._set_views("image")

    # ------------------------------------------------------------------ views
    def _set_views(self, kind: str) -> None:
        if kind == self._kind:
            return
        shown = self.view_box.currentData()
        self._kind = kind
        self.view_box.blockSignals(True)
        self.view_box.clear()
        for key, (label, *_rest) in views_of(kind).items():
            self.view_box.addItem(label, key)
        i = self.view_box.findData(shown)  # a run gaining views keeps the one shown
        if i >= 0:
            self.view_box.setCurrentIndex(i)
        self.view_box.blockSignals(False)
        self._view_changed()

    def view(self) -> tuple[str, tuple[str, ...], bool, str]:
        views = views_of(self._kind or "image")
        key = self.view_box.currentData()
        if key not in views:
            key = "modes" if self._kind == "2d" else "fd"
        return (key,) + views[key][1:]

    def select(self, key: str) -> None:
        """Show the view ``key`` (fd, kid, classes, pr, dc, confidence; stacked data:
        stacked_modes, mode_kl; with quality.parzen: parzen; 2D: modes, hq)."""
        i = self.view_box.findData(key)
        if i >= 0:
            self.view_box.setCurrentIndex(i)

    @property
    def log_y(self) -> bool:  # QtTimeSeriesPanel reads it when fitting the y range
        return hasattr(self, "view_box") and self.view()[2]

    def _view_changed(self, *_args) -> None:
        key, series, log, meaning = self.view()
        self.export_item.setLogMode(y=log)
        self.export_item.setLabel("left", key if len(series) == 1 else "")
        self.view_box.setToolTip(meaning)
        for c in self.curves.values():
            c.setData([], [])
            self.legend.removeItem(c)
            self.export_item.removeItem(c)
        self.curves.clear()
        self._y_range = None
        self.overlay.clear()
        self.invalidate()

    def _kind_of(self, models) -> str:
        if not models:  # nothing drawn yet: the views of the run about to start (show_kind_of)
            return self._kind or "image"
        if all(is_2d(m) for m in models):
            return "2d"
        return ("image" + ("+stacked" if any(is_stacked(m) for m in models) else "")
                + ("+parzen" if any(logs_parzen(m) for m in models) else ""))

    def show_kind_of(self, model: RunModel) -> None:
        """Offer the views of ``model``'s data (2D: modes, hq; images: fd, ...) while no run
        is drawn: a new 2D run showed "fd" until its first line."""
        self._set_views(self._kind_of([model]))

    # ------------------------------------------------------------------ drawing
    def refresh_runs(self, runs, named: bool = False) -> bool:
        self._set_views(self._kind_of([m for _, m in runs]))
        drawn = super().refresh_runs(runs, named)
        if drawn and (len(runs) >= 2 or named):
            _, series, log, _ = self.view()
            self._draw_refs([m for _, m in runs], series, log)
            self.fit_y()  # with the floor and ceiling in view
        return drawn

    def refresh(self, model: RunModel) -> bool:
        self._set_views(self._kind_of([model]))
        return super().refresh(model)

    def draw(self, model: RunModel) -> None:
        key, series, log, _ = self.view()
        h = model.history
        for i, name in enumerate(series):
            x, y = _finite(h.steps, h.column(name), log)
            c = self.curve(name, name, SERIES_COLORS[name], Qt.SolidLine if i == 0 else Qt.DashLine)
            c.setData(x, y)
            c.setSymbol("o")
            c.setSymbolSize(4)
            c.setSymbolBrush(SERIES_COLORS[name])
            c.setSymbolPen(None)
        self._draw_refs([model], series, log)
        self.grow_x(h.steps)
        self.fit_y()
        self.info.setText(self._info_text(model))
        self.info.setToolTip(self._info_tip(model) if not is_2d(model) else "")

    def draw_run(self, entry: RunEntry, model: RunModel) -> None:
        key, series, log, _ = self.view()
        h = model.history
        for i, name in enumerate(series):
            x, y = _finite(h.steps, h.column(name), log)
            self.overlay.curve(entry, name, x, y, series_label=name if len(series) > 1 else None,
                               dash_index=i)
        self.info.setText("")

    def fit_y(self) -> None:
        """Keep the floor and ceiling lines in view too: they are the scale the values are
        read against."""
        super().fit_y()
        refs = [line.value() for line in self._refs]
        if not refs or self._y_range is None:
            return
        lo, hi = min(refs + [self._y_range[0]]), max(refs + [self._y_range[1]])
        if (lo, hi) != self._y_range:
            pad = 0.05 * (hi - lo)
            self._y_range = (lo - pad, hi + pad)
            self.export_item.setYRange(*self._y_range, padding=0)

    def figure_spec(self) -> PlotSpec:
        """The curves as shown, with the floor and ceiling as dotted lines across them."""
        spec = super().figure_spec()
        spec.ylabel = self.export_item.getAxis("left").labelText
        xs = [x for line in spec.lines for x in (line.x[:1], line.x[-1:]) if len(line.x)]
        if xs and self._refs:
            x = np.array([float(min(np.concatenate(xs))), float(max(np.concatenate(xs)))])
            for ref in self._refs:
                v = 10.0 ** ref.value() if self.log_y else ref.value()
                spec.lines.append(Line(x, np.array([v, v]), ref.label.toPlainText(), REF_COLOR,
                                       "dot"))
        return spec

    def reset(self) -> None:
        super().reset()
        self._draw_refs([], (), False)  # another run: its own floor and ceiling

    def _draw_refs(self, models, series, log) -> None:
        """Floor and ceiling of the shown series as labelled horizontal lines (one per
        distinct value across the shown runs)."""
        for line in self._refs:
            self.export_item.removeItem(line)
        self._refs.clear()
        if len(series) != 1 or self._kind == "2d":
            return
        name = series[0]
        seen = set()
        placed = 0  # labels already drawn: the next one sits further along its line
        for model in models:
            for which in ("floor", "ceiling"):
                v = model.history.last(f"quality_{which}.{name}")
                if not math.isfinite(v) or (log and v <= 0) or (which, round(v, 6)) in seen:
                    continue
                seen.add((which, round(v, 6)))
                # runs of different data have floors and ceilings of their own: each label
                # further along its line, so two close values do not print over each other
                # (the first pair is one run's: far apart vertically, they keep the start)
                if placed < 2:
                    along = 0.02 if which == "floor" else 0.12
                else:
                    along = 0.02 + 0.22 * placed
                placed += 1
                line = pg.InfiniteLine(
                    pos=math.log10(v) if log else v, angle=0, movable=False,
                    pen=pen(REF_COLOR, 1.0, Qt.DotLine),
                    label=f"{which} {_fmt(v)}",
                    # the floor's label above its line, the ceiling's below (it is near the
                    # top of the range)
                    labelOpts={"position": min(along, 0.9),
                               "color": REF_COLOR, "movable": False,
                               "anchors": [(0, 1), (0, 1)] if which == "floor"
                               else [(0, 0), (0, 0)]})
                line.setZValue(-6)
                self.export_item.addItem(line, ignoreBounds=False)
                self._refs.append(line)

    def _info_text(self, model: RunModel) -> str:
        h = model.history
        if is_2d(model):
            m, q = h.last("modes"), h.last("hq")
            total = model.modes_total
            parts = []
            if math.isfinite(m):
                parts.append(f"modes {m:.0f}" + (f"/{total}" if total else ""))
            if math.isfinite(q):
                parts.append(f"hq {100 * q:.0f}%")
            return "   ".join(parts)
        fd = h.last("fd")
        if not math.isfinite(fd):
            return f"at the slow probes · {scorer_note(model)}"
        parts = [f"fd {_fmt(fd)} · floor {_fmt(h.last('quality_floor.fd'))} · ceiling "
                 f"{_fmt(h.last('quality_ceiling.fd'))}"]
        classes = h.last("classes")
        if math.isfinite(classes):
            parts.append(f"classes {classes:.0f}")
        modes = h.last("modes")
        if math.isfinite(modes):
            parts.append(f"modes {modes:.0f}/1000")
        p, r = h.last("precision"), h.last("recall")
        if math.isfinite(p) and math.isfinite(r):
            parts.append(f"P {p:.2f} R {r:.2f}")
        ll = h.last("parzen_ll")
        if math.isfinite(ll):
            parts.append(f"Parzen {ll:.0f} nats")
        if model.cfg.data.dataset == "folder" or model.cfg.quality.features == "inception":
            parts.append(scorer_note(model))
        return "   ".join(parts)

    def _info_tip(self, model: RunModel) -> str:
        """Every latest value beside its floor and ceiling (the info line's tooltip)."""
        h = model.history
        rows = [scorer_note(model) + f", N = {_fmt(h.last('quality_n'))} samples", ""]
        for name in ("fd", "kid", "classes", "class_kl", "confidence", "precision", "recall",
                     "density", "coverage", "modes", "mode_kl", "parzen_ll"):
            v = h.last(name)
            if math.isfinite(v):
                rows.append(f"{name}: {_fmt(v)}   (floor {_fmt(h.last('quality_floor.' + name))}"
                            f", ceiling {_fmt(h.last('quality_ceiling.' + name))})")
        return "\n".join(rows)
