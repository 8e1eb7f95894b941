"""A plot's legend in a row of its own above the data, never over the curves.

A legend floating inside the plot covered the curves as soon as it listed a few runs and
series in a small panel (three runs in the σ panel: the whole plot); keeping a strip of the y
range free for it stopped working once it needed more than half the height. Above the view
box, in the plot's own layout, it takes height from the plot instead, and lays its entries
out in as many columns as the plot's width holds, so a long legend costs rows, not the data.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy

SAMPLE_PX = 36   # an entry's line sample, the gaps beside it and the label's margins
ENTRY_GAP_PX = 12
MARGIN_PX = 2
MAX_SHARE = 0.3  # of the plot's height; a longer legend shows the rows that fit, the rest
#                  in its tooltip (every entry; the run list names each run with its colour)


class QtLegendRow(pg.LegendItem):
    """A LegendItem laid out above ``plot``'s view box (in the row of pyqtgraph's title,
    which the panels do not use: each has its own header). Becomes ``plot.legend``, so
    curves plotted with a name join it as with ``PlotItem.addLegend``."""

    def __init__(self, plot: pg.PlotItem, **opts):
        super().__init__(offset=None, **opts)
        self.plot = plot
        self.setParentItem(plot)
        plot.layout.removeItem(plot.titleLabel)
        plot.titleLabel.hide()
        plot.layout.addItem(self, 0, 1)
        plot.layout.setRowMaximumHeight(0, 1e6)
        plot.layout.setRowSpacing(0, 2)
        # its width follows the plot's (the columns adapt), never the other way round
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        plot.legend = self
        self.layout.setContentsMargins(4, MARGIN_PX, 4, MARGIN_PX)  # a compact row
        plot.geometryChanged.connect(self.fit)
        self._fitting = False
        self.hidden_entries = 0
        self.fit()

    def addItem(self, item, name) -> None:
        super().addItem(item, name)
        self.fit()

    def removeItem(self, item) -> None:
        super().removeItem(item)
        self.fit()

    def clear(self) -> None:
        super().clear()
        self.fit()

    def entry_width(self) -> float:
        """The widest entry's width in pixels (its sample and its label)."""
        # the text's own width: a label's geometry is stretched to its column's
        return max((label.item.boundingRect().width() for _, label in self.items),
                   default=0.0) + SAMPLE_PX

    def fit(self) -> None:
        """As many columns as the plot's width holds (at least one); no height when empty."""
        if self._fitting:
            return
        self._fitting = True
        try:
            n = len(self.items)
            self.setVisible(bool(n))
            cap = 0.0
            if n:
                left = self.plot.getAxis("left")
                width = self.plot.width() - (left.width() if left.isVisible() else 0) - 8
                columns = max(1, min(n, int(width // (self.entry_width() + ENTRY_GAP_PX))))
                if columns != self.columnCount:
                    self.setColumnCount(columns)
                row = max(label.item.boundingRect().height() for _, label in self.items)
                fit = max(1, int((MAX_SHARE * self.plot.height() - 2 * MARGIN_PX) // row))
                cap = min(self.rows(), fit) * row + 2 * MARGIN_PX
                self.hidden_entries = max(0, n - fit * columns)
            else:
                self.hidden_entries = 0
            for i, (sample, label) in enumerate(self.items):  # row by row: the first rows show
                shown = i < n - self.hidden_entries
                sample.setVisible(shown)
                label.setVisible(shown)
            self.setMaximumHeight(cap)
            self.setToolTip(self._tip() if self.hidden_entries else "")
            self.updateGeometry()
        finally:
            self._fitting = False

    def _tip(self) -> str:
        return "<b>Legend</b> (the plot is too small to list it all)<br>" + "<br>".join(
            f"<span style='color:{pg.mkPen(sample.item.opts['pen']).color().name()}'>━━</span> "
            f"{html.escape(label.text)}" for sample, label in self.items)

    def rows(self) -> int:
        n = len(self.items)
        return 0 if not n else -(-n // max(1, self.columnCount))
