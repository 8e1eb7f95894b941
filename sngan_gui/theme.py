"""One consistent dark theme for Qt widgets and pyqtgraph plots."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from core.resource_paths import style_sheet

BACKGROUND = "#1b1d23"
PANEL = "#23262e"
FOREGROUND = "#d7dae0"
MUTED = "#8b919c"
ACCENT = "#5aa9e6"
GRID_ALPHA = 0.18

# Colour-blind-friendly palette (Okabe-Ito, brightened for a dark background).
PALETTE = ["#56b4e9", "#e69f00", "#8fd16a", "#f0e442", "#cc79a7", "#d55e00", "#4fd1c5",
           "#b0b7ff", "#ff8a80", "#c0c0c0"]

SERIES = {
    "loss_d": ("#56b4e9", "D loss"),
    "loss_g": ("#e69f00", "G loss"),
    "d_real": ("#8fd16a", "D(real)"),
    "d_fake": ("#cc79a7", "D(fake)"),
    "lip_bound": ("#e69f00", "upper bound Π σ"),
    "lip_grad": ("#56b4e9", "empirical max ‖∇ₓD‖"),
    # where the gradient penalties act: what two_sided / dragan drive to 1 (dashed)
    "lip_grad_mean_interp": ("#8fd16a", "mean ‖∇ₓD‖ interpolates"),
    "lip_grad_mean_perturbed": ("#cc79a7", "mean ‖∇ₓD‖ near data"),
}
MARKER_COLOR = "#f0e442"
REAL_COLOR = "#56b4e9"
FAKE_COLOR = "#ff9f43"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=True, background=BACKGROUND, foreground=FOREGROUND,
                        imageAxisOrder="row-major")


def apply(app: QApplication) -> None:
    """Fusion style, dark palette, the app style sheet and a readable default font."""
    app.setStyle("Fusion")
    pal = QPalette()
    for role, value in [
        (QPalette.Window, PANEL), (QPalette.WindowText, FOREGROUND),
        (QPalette.Base, BACKGROUND), (QPalette.AlternateBase, PANEL),
        (QPalette.ToolTipBase, "#2d313b"), (QPalette.ToolTipText, FOREGROUND),
        (QPalette.Text, FOREGROUND), (QPalette.Button, "#2d313b"),
        (QPalette.ButtonText, FOREGROUND), (QPalette.BrightText, "#ff6b6b"),
        (QPalette.Highlight, ACCENT), (QPalette.HighlightedText, "#0d0f12"),
        (QPalette.Link, ACCENT), (QPalette.PlaceholderText, MUTED),
    ]:
        pal.setColor(role, QColor(value))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        pal.setColor(QPalette.Disabled, role, QColor(MUTED))
    app.setPalette(pal)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    # A missing style sheet is a broken installation: say so (MissingResource) rather than
    # open an unstyled window, which is how the first wheels without resources went unnoticed.
    app.setStyleSheet(style_sheet().read_text(encoding="utf-8"))
    configure_pyqtgraph()
