"""The Qt desktop app (PySide6 + pyqtgraph) on top of the Qt-free ``core`` engine.

``create_window(config_path=None)`` returns the main window, built but not shown, once a
QApplication exists; ``app.main(argv)`` runs the app.
"""

from __future__ import annotations


def create_window(config_path=None, **kwargs):
    from .app import create_window as _create

    return _create(config_path, **kwargs)


__all__ = ["create_window"]
