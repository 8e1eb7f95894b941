"""The plot panels, one family per module, and the area that lays them out and redraws them.

- :mod:`.base`: the frame every panel shares, the log axis, the plot style
- :mod:`.timeseries`: losses, top singular values, Lipschitz estimates (over steps)
- :mod:`.snapshots`: samples / 2D landscape, normalized spectra, weight histogram
- :mod:`.controls`: the settings form, constraint toggles and run buttons
"""

from .area import PLOT_REFRESH_MS, QtPlotArea
from .base import QtLogFriendlyAxis, QtPlotPanel
from .snapshots import QtHistogramPanel, QtSamplesPanel, QtSpectrumPanel
from .timeseries import QtLipschitzPanel, QtLossPanel, QtSigmaPanel, QtTimeSeriesPanel

__all__ = ["PLOT_REFRESH_MS", "QtPlotArea", "QtLogFriendlyAxis", "QtPlotPanel",
           "QtHistogramPanel", "QtSamplesPanel", "QtSpectrumPanel", "QtLipschitzPanel",
           "QtLossPanel", "QtSigmaPanel", "QtTimeSeriesPanel"]
