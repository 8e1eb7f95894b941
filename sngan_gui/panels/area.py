"""The plot area: the six panels in splitters under a banner, and the one redraw throttle."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from ..run_model import RunModel
from .base import QtPlotPanel
from .snapshots import QtHistogramPanel, QtSamplesPanel, QtSpectrumPanel
from .timeseries import QtLipschitzPanel, QtLossPanel, QtSigmaPanel, QtTimeSeriesPanel

# Every panel redraws at most once per PLOT_REFRESH_MS, and only when its data is new. The
# timer visits one panel per tick, so no paint pass holds more than one panel: painting all six
# in one pass stalls the event loop far longer (QT_QPA_PLATFORM=offscreen python
# benchmarks/gui_throughput.py reports the worst stall).
PLOT_REFRESH_MS = 250


class QtPlotArea(QWidget):
    """Shows one :class:`RunModel` (``model``) in every panel."""

    cycled = Signal()  # every PLOT_REFRESH_MS, after a full round of the panels

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.samples = QtSamplesPanel()
        self.loss = QtLossPanel()
        self.lipschitz = QtLipschitzPanel()
        self.sigma = QtSigmaPanel()
        self.spectrum = QtSpectrumPanel()
        self.histogram = QtHistogramPanel()
        self.time_series: tuple[QtTimeSeriesPanel, ...] = (self.loss, self.sigma, self.lipschitz)
        self.snapshot_panels: tuple[QtPlotPanel, ...] = (self.samples, self.spectrum,
                                                          self.histogram)
        self.panels: dict[str, QtPlotPanel] = {
            "samples": self.samples, "loss": self.loss, "sigma": self.sigma,
            "lipschitz": self.lipschitz, "spectrum": self.spectrum, "histogram": self.histogram}
        # redraw order: a heavy snapshot panel between two light curve panels
        self._order = [self.samples, self.loss, self.spectrum, self.lipschitz, self.histogram,
                       self.sigma]
        self._next = 0
        self.model: RunModel | None = None

        self.banner = QLabel("")
        self.banner.setObjectName("bannerLabel")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self._layout()

        self.timer = QTimer(self)
        self.timer.setInterval(max(1, PLOT_REFRESH_MS // len(self._order)))
        self.timer.timeout.connect(self.refresh_next)
        self.timer.start()

    def _layout(self) -> None:
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.samples)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.loss)
        right.addWidget(self.lipschitz)
        top.addWidget(right)
        top.setSizes([520, 560])
        bottom = QSplitter(Qt.Horizontal)
        for p in (self.sigma, self.spectrum, self.histogram):
            bottom.addWidget(p)
        bottom.setSizes([400, 340, 340])
        main = QSplitter(Qt.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        main.setSizes([560, 320])
        for s in (top, right, bottom, main):
            s.setChildrenCollapsible(False)
            s.setHandleWidth(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addWidget(main, 1)

    def show_run(self, model: RunModel | None) -> None:
        """Show ``model`` from now on (None: empty panels)."""
        self.model = model
        for panel in self.panels.values():
            panel.reset()

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def sync_markers(self) -> None:
        """Mark new events at once (they are rare; curves wait for the throttle)."""
        if self.model is not None:
            for panel in self.time_series:
                panel.sync_markers(self.model)

    def refresh_next(self) -> None:
        """One timer tick: redraw the next panel if its data is new."""
        panel = self._order[self._next]
        self._next = (self._next + 1) % len(self._order)
        if self.model is not None:
            panel.refresh(self.model)
        if self._next == 0:
            self.cycled.emit()

    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want it all)."""
        if self.model is not None:
            self.sync_markers()
            for panel in self._order:
                panel.refresh(self.model)

    def stop(self) -> None:
        self.timer.stop()
