"""The plot area: the seven panels in splitters under a banner, and the one redraw throttle."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from ..run_model import RunModel
from .base import QtPlotPanel
from .quality import QtQualityPanel
from .snapshots import QtHistogramPanel, QtSamplesPanel, QtSpectrumPanel
from .timeseries import QtLipschitzPanel, QtLossPanel, QtSigmaPanel, QtTimeSeriesPanel

# Every panel redraws at most once per PLOT_REFRESH_MS, and only when its data is new. The
# timer visits one panel per tick, so no paint pass holds more than one panel: painting all six
# in one pass stalls the event loop far longer (QT_QPA_PLATFORM=offscreen python
# benchmarks/gui_throughput.py reports the worst stall).
PLOT_REFRESH_MS = 250


class QtPlotArea(QWidget):
    """Draws the runs of a run manager (:meth:`show_runs`): the time-series panels overlay the
    runs shown (ticked in the run list), the snapshot panels show the current run. Panels draw
    from the runs' models only, each when a kind of data it shows has a new version."""

    cycled = Signal()  # every PLOT_REFRESH_MS, after a full round of the panels

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.samples = QtSamplesPanel()
        self.loss = QtLossPanel()
        self.lipschitz = QtLipschitzPanel()
        self.sigma = QtSigmaPanel()
        self.spectrum = QtSpectrumPanel()
        self.histogram = QtHistogramPanel()
        self.quality = QtQualityPanel()
        self.time_series: tuple[QtTimeSeriesPanel, ...] = (self.loss, self.sigma, self.lipschitz,
                                                           self.quality)
        self.snapshot_panels: tuple[QtPlotPanel, ...] = (self.samples, self.spectrum,
                                                          self.histogram)
        self.panels: dict[str, QtPlotPanel] = {
            "samples": self.samples, "loss": self.loss, "sigma": self.sigma,
            "lipschitz": self.lipschitz, "quality": self.quality, "spectrum": self.spectrum,
            "histogram": self.histogram}
        # redraw order: a heavy snapshot panel between two light curve panels
        self._order = [self.samples, self.loss, self.spectrum, self.lipschitz, self.histogram,
                       self.sigma, self.quality]
        self._next = 0
        self.manager = None  # a compare.manager.QtRunManager: show_runs

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
        right.addWidget(self.quality)
        right.addWidget(self.lipschitz)
        top.addWidget(right)
        top.setSizes([480, 600])
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

    def show_runs(self, manager) -> None:
        """Draw the runs of ``manager`` (its ``runs`` collection and ``current`` run)."""
        self.manager = manager
        runs = manager.runs
        for signal in (runs.added, runs.removed, runs.changed, runs.selectionChanged):
            signal.connect(self._name_snapshot_run)
        manager.currentChanged.connect(self._name_snapshot_run)

    def _name_snapshot_run(self, *_args) -> None:
        """With several runs, the snapshot panels' titles name the run they show."""
        runs = self.manager.runs
        current = self.manager.current
        several = len(runs) > 1 or (len(runs) > 0 and runs.find(source=current) is None)
        label = self.manager.label(current) if several else ""
        for panel in self.snapshot_panels:
            title = panel.findChild(QLabel, "panelTitle")
            if title is not None:
                title.setText(panel.title + (f" · {label}" if label else ""))

    def series_runs(self) -> tuple[list, bool]:
        """(entry, model) of each run the time-series panels draw (the ticked ones), and
        whether they are named: always unless the one drawn is the current run."""
        if self.manager is None:
            return [], False
        drawn = [(e, e.source.model) for e in self.manager.runs.visible()]
        alone = len(drawn) == 1 and drawn[0][0].source is self.manager.current
        return drawn, bool(drawn) and not alone

    def snapshot_model(self) -> RunModel | None:
        """The run the snapshot panels show: the current one."""
        return self.manager.current.model if self.manager is not None else None

    def _refresh(self, panel: QtPlotPanel) -> None:
        if isinstance(panel, QtTimeSeriesPanel):
            runs, named = self.series_runs()
            model = self.snapshot_model()
            if not runs and model is not None and hasattr(panel, "show_kind_of"):
                panel.show_kind_of(model)  # the quality views of the run about to start
            panel.refresh_runs(runs, named)
        else:
            model = self.snapshot_model()
            if model is not None:
                panel.refresh(model)

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def refresh_next(self) -> None:
        """One timer tick: redraw the next panel if its data is new."""
        panel = self._order[self._next]
        self._next = (self._next + 1) % len(self._order)
        self._refresh(panel)
        if self._next == 0:
            self.cycled.emit()

    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want it all)."""
        for panel in self._order:
            self._refresh(panel)

    def stop(self) -> None:
        self.timer.stop()
