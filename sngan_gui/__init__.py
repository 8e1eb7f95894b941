"""The Qt desktop app (PySide6 + pyqtgraph) on top of the Qt-free ``core`` engine.

``create_window(config_path=None, runs=())`` returns the main window, built but not shown,
once a QApplication exists, with those run folders open; ``app.main(argv)``
runs the app.
"""

from __future__ import annotations


def create_window(config_path=None, runs=(), **kwargs):
    from .app import create_window as _create

    return _create(config_path, runs, **kwargs)


__all__ = ["create_window"]
