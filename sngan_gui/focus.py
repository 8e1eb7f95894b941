"""Give the keyboard back to the main window when a dialog closes.

Without a window manager (and under some that do not re-activate the parent), a closed dialog
left no window active: Ctrl+D, Ctrl+Shift+F and Ctrl+Q did nothing until the window was
clicked. An application-wide event filter sees every dialog hide and activates the window the
dialog belonged to, once the dialog is gone (the next turn of the event loop).
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget


class QtFocusReturn(QObject):
    """Activates ``window`` after any of its dialogs (or a dialog without a parent) hides."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self._window = weakref.ref(window)
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Hide and isinstance(obj, QDialog) and obj.isWindow():
            window = self._window()
            owner = obj.parentWidget().window() if obj.parentWidget() else None
            if window is not None and owner in (None, window):
                QTimer.singleShot(0, self._activate)
        return False

    def _activate(self) -> None:
        window = self._window()
        app = QApplication.instance()
        if window is None or not window.isVisible():
            return
        active = app.activeWindow()
        if active is None or active is window or not active.isVisible():
            window.raise_()
            window.activateWindow()

    def remove(self) -> None:
        QApplication.instance().removeEventFilter(self)
