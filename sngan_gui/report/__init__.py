"""Report-style exports: figures of one or several plots (PNG, PDF, SVG) in a light style
for papers, with a caption; real arrows for vector fields; CSV of a plot's curves."""

from .arrows import ArrowFieldItem
from .figure import (REPORT, SCREEN, STYLES, FigurePanel, FigureResult, ReportStyle, copy_plot,
                     export_figure, export_plot_csv, export_plot_report, plot_series)

__all__ = ["ArrowFieldItem", "FigurePanel", "FigureResult", "REPORT", "ReportStyle", "SCREEN",
           "STYLES", "copy_plot", "export_figure", "export_plot_csv", "export_plot_report",
           "plot_series"]
