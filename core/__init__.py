"""Lipschitz Playground's engine: Qt-free (an import-linter contract in the test suite keeps it
from importing PySide6, pyqtgraph or the app), so it runs headless, in scripts and in the app's
training process alike (a spawned child running :class:`core.runloop.RunLoop`)."""

# The one place the version is written: pyproject.toml reads it (dynamic version), and
# `sngan-gui --version` prints it.
__version__ = "0.1.0"
