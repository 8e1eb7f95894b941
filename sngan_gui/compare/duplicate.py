"""The A/B dialog: a copy of the current run's config (same seed) with one or more keys
changed, checked by ``core.compare.duplicate_with_change`` as it is typed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QCompleter, QDialog, QDialogButtonBox, QGridLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from core import compare
from core import config as config_mod
from core.config import Config, ConfigError

SUGGESTED_KEYS = ("constraints.spectral.enabled", "constraints.gp.enabled",
                  "constraints.clip.enabled", "constraints.rowsum.enabled", "loss.kind",
                  "run.seed", "optim.lr_d", "optim.lr_g", "optim.n_critic")


def _text(value: Any) -> str:
    """A value as it is typed (``true``, not the labels' ``on``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return compare.format_value(value)


def suggested_value(cfg: Config, key: str) -> str:
    """What a change of ``key`` most likely is: a switch flipped, a seed moved on, else the
    current value to edit."""
    value = cfg.get(key)
    if isinstance(value, bool):
        return _text(not value)
    if key == "run.seed":
        return str(value + 1)
    return _text(value)


class QtDuplicateDialog(QDialog):
    """Pick the keys to change; the preview shows the two runs' labels, or the one-line reason
    the change is refused. :meth:`changes` gives the typed changes once accepted."""

    MAX_ROWS = 6

    def __init__(self, cfg: Config, parent: QWidget | None = None, *,
                 first_key: str = "constraints.spectral.enabled"):
        super().__init__(parent)
        self.setObjectName("duplicateDialog")
        self.setWindowTitle("Duplicate with change")
        self.cfg = cfg.copy()
        self._changes: dict[str, Any] = {}
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("A second run with the same config and seed, except:"))
        self.grid = QGridLayout()
        lay.addLayout(self.grid)
        self.rows: list[tuple[QComboBox, QLineEdit]] = []
        self.add_button = QPushButton("Add a change")
        self.add_button.setObjectName("duplicateAddButton")
        self.add_button.clicked.connect(lambda: self.add_row())
        lay.addWidget(self.add_button, 0, Qt.AlignLeft)
        self.preview = QLabel("")
        self.preview.setObjectName("duplicatePreview")
        self.preview.setWordWrap(True)
        lay.addWidget(self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Start")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.add_row(first_key)

    def add_row(self, key: str | None = None) -> tuple[QComboBox, QLineEdit]:
        keys = config_mod.all_keys()
        combo = QComboBox()
        combo.setEditable(True)
        combo.addItems([*SUGGESTED_KEYS, *[k for k in keys if k not in SUGGESTED_KEYS]])
        combo.setInsertPolicy(QComboBox.NoInsert)
        completer = QCompleter(keys, combo)
        completer.setFilterMode(Qt.MatchContains)
        combo.setCompleter(completer)
        value = QLineEdit()
        row = len(self.rows)
        combo.setObjectName(f"duplicateKey{row}")
        value.setObjectName(f"duplicateValue{row}")
        self.grid.addWidget(combo, row, 0)
        self.grid.addWidget(QLabel("="), row, 1)
        self.grid.addWidget(value, row, 2)
        self.rows.append((combo, value))
        combo.currentTextChanged.connect(lambda k, v=value: self._key_chosen(k, v))
        value.textChanged.connect(lambda _: self.validate())
        key = key or next((k for k in SUGGESTED_KEYS if k not in self.keys()), keys[0])
        combo.setCurrentText(key)
        self._key_chosen(key, value)
        self.add_button.setEnabled(len(self.rows) < self.MAX_ROWS)
        return combo, value

    def keys(self) -> list[str]:
        return [c.currentText().strip() for c, _ in self.rows]

    def _key_chosen(self, key: str, value: QLineEdit) -> None:
        try:
            value.setText(suggested_value(self.cfg, key.strip()))
            value.setToolTip(f"now {_text(self.cfg.get(key.strip()))}")
        except ConfigError:
            value.setToolTip("")
        self.validate()

    def validate(self) -> bool:
        """Check the changes; shows the labels the two runs will have, or why not."""
        ok_button = self.buttons.button(QDialogButtonBox.Ok) if hasattr(self, "buttons") else None
        texts = {c.currentText().strip(): v.text() for c, v in self.rows
                 if c.currentText().strip()}
        try:
            dup = compare.duplicate_with_change(self.cfg, texts)
        except ConfigError as exc:
            self._changes = {}
            self.preview.setText(str(exc))
            self.preview.setProperty("error", True)
            if ok_button is not None:
                ok_button.setEnabled(False)
            return False
        self._changes = {k: dup.get(k) for k in compare.changed_keys(self.cfg, dup)}
        a, b = compare.run_labels([self.cfg, dup])
        self.preview.setText(f"This run: {a}\nNew run: {b}")
        self.preview.setProperty("error", False)
        if ok_button is not None:
            ok_button.setEnabled(True)
        return True

    def changes(self) -> dict[str, Any]:
        """The typed changes (key -> value) the dialog last validated."""
        return dict(self._changes)

    def duplicate(self) -> Config:
        return compare.duplicate_with_change(self.cfg, self._changes)
