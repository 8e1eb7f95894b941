"""The plot area: the seven panels in splitters under a banner, and the one redraw throttle."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from ..compare.runs import RunCollection
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
        self.model: RunModel | None = None
        self.runs: RunCollection | None = None  # several runs: show_runs

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

    def show_run(self, model: RunModel | None) -> None:
        """Show ``model`` from now on (None: empty panels)."""
        self.model = model
        for panel in self.panels.values():
            panel.reset()

    def show_runs(self, runs: RunCollection | None) -> None:
        """Overlay the visible runs of ``runs`` (each entry's ``source.model``) in the
        time-series panels and show the selected one in the snapshot panels; while ``runs``
        is empty, ``model`` is shown as before."""
        self.runs = runs
        if runs is not None:
            for signal in (runs.added, runs.removed, runs.changed, runs.selectionChanged):
                signal.connect(self._name_snapshot_run)

    def _name_snapshot_run(self, *_args) -> None:
        """With several runs, the snapshot panels' titles name the run they show."""
        entry = self.runs.selected_entry() if self._listed() and len(self.runs) > 1 else None
        for panel in self.snapshot_panels:
            title = panel.findChild(QLabel, "panelTitle")
            if title is not None:
                title.setText(panel.title + (f" · {entry.label}" if entry is not None else ""))

    def _listed(self) -> bool:
        return self.runs is not None and len(self.runs) > 0

    def series_runs(self) -> list:
        """(entry, model) of each visible run (the time-series panels' runs)."""
        if not self._listed():
            return [(None, self.model)] if self.model is not None else []
        self.runs.refresh_labels()  # a change applied during a run is in its label
        return [(e, e.source.model) for e in self.runs.visible() if e.source is not None]

    def snapshot_model(self) -> RunModel | None:
        """The run the snapshot panels show: the selected one (else ``model``)."""
        entry = self.runs.selected_entry() if self._listed() else None
        return entry.source.model if entry is not None and entry.source is not None \
            else self.model

    def _refresh(self, panel: QtPlotPanel) -> None:
        if isinstance(panel, QtTimeSeriesPanel):
            panel.refresh_runs(self.series_runs())
        else:
            model = self.snapshot_model()
            if model is not None:
                panel.refresh(model)

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def sync_markers(self) -> None:
        """Mark new events at once (they are rare; curves wait for the throttle)."""
        runs = self.series_runs()
        if len(runs) == 1:
            for panel in self.time_series:
                panel.sync_markers(runs[0][1])
        elif len(runs) > 1:
            for panel in self.time_series:
                panel.refresh_runs(runs)

    def refresh_next(self) -> None:
        """One timer tick: redraw the next panel if its data is new."""
        panel = self._order[self._next]
        self._next = (self._next + 1) % len(self._order)
        self._refresh(panel)
        if self._next == 0:
            self.cycled.emit()

    def refresh_all(self) -> None:
        """Redraw every panel whose data is new, now (exports and tests want it all)."""
        self.sync_markers()
        for panel in self._order:
            self._refresh(panel)

    def stop(self) -> None:
        self.timer.stop()
