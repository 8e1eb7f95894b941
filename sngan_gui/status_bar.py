"""The window's status bar: the run's status line, its folder, and a dataset download's
progress with a Cancel button."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from core.contract import DownloadProgress

from . import paths
from .live_text import QtLiveText

SEP = "   ·   "


class QtRunStatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.status_line = QtLiveText("")  # changes 4 times a second: never re-laid out
        self.status_line.setObjectName("statusLine")
        self.run_label = QLabel("")
        self.run_label.setObjectName("runFolderLabel")
        self.run_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDownloadButton")
        self.cancel_button.hide()
        self.addWidget(self.status_line, 1)
        self.addWidget(self.progress)
        self.addWidget(self.cancel_button)
        self.addPermanentWidget(self.run_label)

    def show_status(self, parts: list[str], run_dir: Path | None) -> None:
        self.status_line.setText(SEP.join(parts))
        self.run_label.setText(f"run folder: {run_dir}" if run_dir else
                               f"runs are saved in {paths.runs_dir()}")
        self.run_label.setToolTip(str(run_dir or paths.runs_dir()))

    def show_download(self, d: DownloadProgress) -> None:
        """A dataset's download progress; hidden once ``d.done`` is None."""
        self.progress.setVisible(d.done is not None)
        self.cancel_button.setVisible(d.done is not None)
        if d.done is None:
            return
        self.progress.setRange(0, 1000 if d.total else 0)
        if d.total:
            self.progress.setValue(int(1000 * d.done / d.total))
        self.progress.setFormat(f"{d.label} %p%")
