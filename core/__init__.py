"""Lipschitz Playground's engine: Qt-free (a test enforces that this package never imports
PySide6 or pyqtgraph), so it runs headless, in scripts and in the GUI's worker thread alike."""

# The one place the version is written: pyproject.toml reads it (dynamic version), and
# `sngan-gui --version` prints it.
__version__ = "0.1.0"
