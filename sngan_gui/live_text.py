"""Text that changes while a run trains: the status line, the run's status, each panel's info
line (the step, the latest values).

A QLabel asks for a new layout on every ``setText``. The request climbs to the main window,
whose docks then measure every word-wrapped label again (each measure lays its text out), so
the status line alone, updated four times a second, cost about a fifth of the app's CPU while
the notebook DCGAN trained (``benchmarks/gui_throughput.py`` prints the GUI process's CPU).
The size of a :class:`QtLiveText` never depends on its text: it is ``lines`` lines high and
as wide as its layout makes it; a new text only repaints it. Text that does not fit ends in
"…" (the tooltip, when none is set, shows it whole).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

MARGINS = (4, 2, 4, 2)  # left, top, right, bottom, as the labels' padding in the style sheet


class QtLiveText(QWidget):
    """A label for text that changes often; ``lines`` > 1 wraps at word boundaries."""

    def __init__(self, text: str = "", lines: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = text
        self._lines = max(1, int(lines))
        self._own_tooltip = False
        self.setContentsMargins(*MARGINS)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self._fix_height()

    def _fix_height(self) -> None:
        self.setFixedHeight(self._lines * self.fontMetrics().lineSpacing() + MARGINS[1]
                            + MARGINS[3])

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name, as QLabel's)
        if text == self._text:
            return
        self._text = text
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        if not self._own_tooltip:
            super().setToolTip(self._text if self._cut() else "")

    def setToolTip(self, text: str) -> None:  # noqa: N802
        """A tooltip set here is kept; without one, cut text is shown whole in it."""
        self._own_tooltip = bool(text)
        super().setToolTip(text)

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self._text or " ")
        return QSize(min(width, 400) + MARGINS[0] + MARGINS[2], self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.height())

    def _cut(self) -> bool:
        """Whether the text does not fit whole."""
        if self._lines == 1:
            return self._shown() != self._text
        rect = self.contentsRect()
        needed = self.fontMetrics().boundingRect(rect, Qt.TextWordWrap, self._text)
        return needed.height() > rect.height() or needed.width() > rect.width()

    def _shown(self) -> str:
        """One line as drawn: cut with "…" where it does not fit."""
        return self.fontMetrics().elidedText(self._text, Qt.ElideRight,
                                             max(0, self.contentsRect().width()))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_tooltip()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._fix_height()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.WindowText))
        rect = self.contentsRect()
        if self._lines == 1:
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter, self._shown())
        else:
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap, self._text)
        painter.end()
