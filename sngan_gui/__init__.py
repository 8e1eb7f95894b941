"""The Qt desktop app (PySide6 + pyqtgraph) on top of the Qt-free ``core`` engine."""
