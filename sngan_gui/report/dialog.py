"""The "Export figure" dialog: which panels, the caption (prefilled with the runs and their
differences), the style, the formats and the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QGridLayout, QHBoxLayout, QLineEdit,
                               QPlainTextEdit, QPushButton, QSpinBox, QWidget)

from core.figures import FORMATS, STYLES


@dataclass(frozen=True)
class FigureRequest:
    panels: tuple[str, ...]   # the chosen panels' keys, in the order offered
    caption: str
    style: str                # a key of STYLES
    formats: tuple[str, ...]
    path: Path                # without suffix: one file per format beside it
    columns: int


class QtExportFigureDialog(QDialog):
    def __init__(self, panels: Sequence[tuple[str, str]], *, caption: str = "",
                 style: str = "report", path: str | Path = "figure",
                 chosen: Sequence[str] | None = None, parent: QWidget | None = None):
        """``panels``: (key, title) of each panel that can go in the figure."""
        super().__init__(parent)
        self.setObjectName("exportFigureDialog")
        self.setWindowTitle("Export figure")
        form = QFormLayout(self)
        grid = QGridLayout()
        self.panel_boxes: dict[str, QCheckBox] = {}
        for i, (key, title) in enumerate(panels):
            box = QCheckBox(title)
            box.setObjectName(f"figurePanel_{key}")
            box.setChecked(chosen is None or key in chosen)
            box.toggled.connect(self._update)
            grid.addWidget(box, i // 2, i % 2)
            self.panel_boxes[key] = box
        form.addRow("Panels", grid)
        self.columns = QSpinBox()
        self.columns.setObjectName("figureColumns")
        self.columns.setRange(1, 3)
        self.columns.setValue(2)
        self.columns.setToolTip("Panels per row (one panel is 3.4 in wide: one paper column)")
        form.addRow("Columns", self.columns)
        self.caption = QPlainTextEdit(caption)
        self.caption.setObjectName("figureCaption")
        self.caption.setFixedHeight(90)
        form.addRow("Caption", self.caption)
        self.style = QComboBox()
        self.style.setObjectName("figureStyle")
        self.style.addItem("Report (light, for papers)", "report")
        self.style.addItem("As on screen (dark)", "screen")
        self.style.setCurrentIndex(max(0, self.style.findData(style)))
        form.addRow("Style", self.style)
        fmts = QHBoxLayout()
        self.format_boxes: dict[str, QCheckBox] = {}
        for fmt in FORMATS:
            box = QCheckBox(fmt.upper())
            box.setObjectName(f"figureFormat_{fmt}")
            box.setChecked(fmt in ("png", "pdf"))
            box.toggled.connect(self._update)
            fmts.addWidget(box)
            self.format_boxes[fmt] = box
        form.addRow("Formats", fmts)
        file_row = QHBoxLayout()
        self.path = QLineEdit(str(Path(path).with_suffix("")))
        self.path.setObjectName("figurePath")
        self.path.textChanged.connect(self._update)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form.addRow("File", file_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._update()

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export figure", self.path.text(),
                                              "Figures (*.png *.pdf *.svg)")
        if name:
            self.path.setText(str(Path(name).with_suffix("")))

    def _update(self, *_args) -> None:
        ok = (any(b.isChecked() for b in self.panel_boxes.values())
              and any(b.isChecked() for b in self.format_boxes.values())
              and bool(self.path.text().strip()))
        self.buttons.button(QDialogButtonBox.Save).setEnabled(ok)

    def request(self) -> FigureRequest:
        style = self.style.currentData()
        assert style in STYLES
        return FigureRequest(
            panels=tuple(k for k, b in self.panel_boxes.items() if b.isChecked()),
            caption=self.caption.toPlainText().strip(),
            style=style,
            formats=tuple(f for f, b in self.format_boxes.items() if b.isChecked()),
            path=Path(self.path.text().strip()).expanduser(),
            columns=self.columns.value())
