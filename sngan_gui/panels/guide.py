"""The preset's guide beside the controls: what it sets up, what to watch, what to flip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout

from core.presets import preset_guide


class QtGuidePanel(QGroupBox):
    """The preset's "what to look for" text (its ``[guide]`` table: what it sets up, what to
    watch, which control to flip mid-run and what then happens), shown beside the plots;
    hidden for a config without one."""

    def __init__(self, parent=None):
        super().__init__("What to look for", parent)
        self.setObjectName("guidePanel")
        lay = QVBoxLayout(self)
        lay.setSpacing(4)
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        self.setVisible(False)

    def show_guide(self, path: str) -> None:
        guide = preset_guide(path) if path else None
        self.setVisible(guide is not None)
        if guide is not None:
            title, text = guide
            # The TOML text is wrapped at 100 columns; the label wraps it to its own width.
            paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
            self.title.setText(title)
            self.text.setText("\n\n".join(paragraphs))
