"""A field of real arrows (shaft and filled head) for pyqtgraph plots, e.g. ∇ₓD at the
generated points of the 2D landscape.

pyqtgraph has no quiver item: its ``ArrowItem`` is one arrow per graphics item, which for
hundreds of arrows costs a scene item each. :class:`ArrowFieldItem` draws them all in one
``paint``: tails and tips are placed in data coordinates, then the heads are drawn in device
pixels, so they keep their shape whatever the aspect ratio or the zoom (as
``pyqtgraph.functions.makeArrowPath`` draws one arrow, with its tip at the point).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF


class ArrowFieldItem(pg.GraphicsObject):
    """Arrows from ``tails`` along ``vectors`` (both [N, 2], data units).

    ``head_px`` is the head's length in device pixels (it shrinks to half the arrow on short
    arrows, so a tiny gradient still reads as an arrow, not a blot); ``head_width`` is the
    head's half-width relative to its length. The item has a ``name`` and pen ``opts`` so a
    pyqtgraph legend can list it.
    """

    def __init__(self, tails=None, vectors=None, *, pen="w", brush=None, head_px: float = 8.0,
                 head_width: float = 0.45, name: str | None = None):
        super().__init__()
        self._name = name
        self.head_px = float(head_px)
        self.head_width = float(head_width)
        self.opts = {"pen": pg.mkPen(pen), "brush": None, "symbol": None, "antialias": True,
                     "fillLevel": None, "fillBrush": None}
        self.setBrush(brush)
        self._tails = np.zeros((0, 2))
        self._vectors = np.zeros((0, 2))
        self._bounds = QRectF()
        if tails is not None:
            self.setData(tails, vectors)

    # ----------------------------------------------------------------- data and style
    def name(self) -> str | None:
        return self._name

    def setPen(self, *args, **kwargs) -> None:
        self.opts["pen"] = pg.mkPen(*args, **kwargs)
        self.update()

    def setBrush(self, *args, **kwargs) -> None:
        """The head's fill (default: the pen's colour)."""
        given = args and args[0] is not None or kwargs
        self.opts["brush"] = pg.mkBrush(*args, **kwargs) if given else None
        self.update()

    def setData(self, tails, vectors) -> None:
        tails = np.asarray(tails, dtype=float).reshape(-1, 2)
        vectors = np.asarray(vectors, dtype=float).reshape(-1, 2)
        if tails.shape != vectors.shape:
            raise ValueError(f"tails {tails.shape} and vectors {vectors.shape} differ in shape")
        keep = np.isfinite(tails).all(axis=1) & np.isfinite(vectors).all(axis=1)
        self.prepareGeometryChange()
        self._tails, self._vectors = tails[keep], vectors[keep]
        if len(self._tails):
            ends = np.vstack([self._tails, self._tails + self._vectors])
            lo, hi = ends.min(axis=0), ends.max(axis=0)
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """(tails, vectors) as drawn (rows with a non-finite number dropped)."""
        return self._tails.copy(), self._vectors.copy()

    # ----------------------------------------------------------------- geometry
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if not len(self._tails):
            return None, None
        ends = np.concatenate([self._tails[:, ax], self._tails[:, ax] + self._vectors[:, ax]])
        return float(ends.min()), float(ends.max())

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull() and not len(self._tails):
            return QRectF()
        # the heads reach past the data by up to their width, in pixels
        pad = self.head_px * max(self.head_width, 0.5) + self.opts["pen"].widthF() + 1
        px, py = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        return self._bounds.adjusted(-pad * px, -pad * py, pad * px, pad * py)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # the pixel padding changed with the zoom

    # ----------------------------------------------------------------- drawing
    def paint(self, painter, *_args) -> None:
        if not len(self._tails):
            return
        t = painter.transform()
        scale = (getattr(self, "_exportOpts", None) or {}).get("resolutionScale", 1.0) or 1.0
        head = self.head_px * scale

        def to_device(p: np.ndarray) -> np.ndarray:
            x, y = p[:, 0], p[:, 1]
            return np.stack([t.m11() * x + t.m21() * y + t.dx(),
                             t.m12() * x + t.m22() * y + t.dy()], axis=1)

        a = to_device(self._tails)
        b = to_device(self._tails + self._vectors)
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        shafts, heads = QPainterPath(), QPainterPath()
        for (ax, ay), (bx, by), (dx, dy), n in zip(a, b, d, length):
            if not math.isfinite(n) or n < 1e-9:
                continue
            ux, uy = dx / n, dy / n
            h = min(head, 0.5 * n)
            w = h * self.head_width
            base = (bx - ux * h, by - uy * h)
            shafts.moveTo(ax, ay)
            shafts.lineTo(*base)
            heads.addPolygon(QPolygonF([QPointF(bx, by),
                                        QPointF(base[0] - uy * w, base[1] + ux * w),
                                        QPointF(base[0] + uy * w, base[1] - ux * w),
                                        QPointF(bx, by)]))
        pen = pg.mkPen(self.opts["pen"])
        brush = self.opts["brush"] or pg.mkBrush(pen.color())
        painter.save()
        try:
            painter.resetTransform()
            painter.setRenderHint(painter.RenderHint.Antialiasing, True)
            painter.setPen(pen)
            painter.drawPath(shafts)
            painter.setPen(pg.mkPen(None))
            painter.fillPath(heads, brush)
        finally:
            painter.restore()
