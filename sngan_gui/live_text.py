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
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MARGINS = (4, 2, 4, 2)  # left, top, right, bottom, as the labels' padding in the style sheet


class QtLiveText(QWidget):
    """A label for text that changes often; ``lines`` > 1 wraps at word boundaries."""

    def __init__(self, text: str = "", lines: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self._text = text
        self._lines = max(1, int(lines))
        self._drawn = text  # the text as painted (one line: cut to the width)
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
        self._fit()
        self.update()

    def _fit(self) -> None:
        """Cut the text to the width once (not at every paint), and show it whole in the
        tooltip when it is cut."""
        rect = self.contentsRect()
        if self._lines == 1:
            self._drawn = self.fontMetrics().elidedText(self._text, Qt.ElideRight,
                                                        max(0, rect.width()))
            cut = self._drawn != self._text
        else:
            self._drawn = self._text
            needed = self.fontMetrics().boundingRect(rect, Qt.TextWordWrap, self._text)
            cut = needed.height() > rect.height() or needed.width() > rect.width()
        if not self._own_tooltip:
            super().setToolTip(self._text if cut else "")

    def setToolTip(self, text: str) -> None:  # noqa: N802
        """A tooltip set here is kept; without one, cut text is shown whole in it."""
        self._own_tooltip = bool(text)
        super().setToolTip(text)

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self._text or " ")
        return QSize(min(width, 400) + MARGINS[0] + MARGINS[2], self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._fix_height()
            self._fit()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.WindowText))
        rect = self.contentsRect()
        if self._lines == 1:
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter, self._drawn)
        else:
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap, self._drawn)
        painter.end()


class QtElidedLabel(QLabel):
    """A one-line label that may get narrower than its text (a panel title naming a run whose
    label is long), so it never widens the window: the text then ends in "…". ``text()``
    stays the whole text."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Samples…")),
                     hint.height())

    def paintEvent(self, event) -> None:
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.ElideRight, rect.width())
        if text == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.WindowText))
        painter.drawText(rect, int(self.alignment() | Qt.AlignVCenter), text)
