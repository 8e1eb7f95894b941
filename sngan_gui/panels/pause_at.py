"""Catching a step: "pause at step N" beside Play, and "schedule a change at step N".

A guide that says "tick spectral norm around step 750" is hard to follow at 80 steps/s (the
run is over in 24 s). The field pauses the run exactly at N (``core.contract.PauseAt``); the
dialog schedules a live change for step N exactly as ``train --change N:KEY=VALUE`` does
(``core.contract.ScheduleChange``: the same event, stored in the run's ``schedule.json``).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QWidget)

from core import config as config_mod
from core.config import Config, ConfigError

MAX_STEP = 10**9


def live_keys() -> list[str]:
    """The keys a change may set while a run trains, as the form offers them."""
    return [k for k, spec in config_mod.field_specs().items() if spec.live and spec.form]


def step_box(name: str) -> QSpinBox:
    box = QSpinBox()
    box.setObjectName(name)
    box.setRange(0, MAX_STEP)
    box.setGroupSeparatorShown(True)
    box.setKeyboardTracking(False)
    return box


class QtPauseAtRow(QWidget):
    """"Pause at step [N]" (0: off) and the "Schedule change…" button.

    ``pauseAtChanged(step)``: the step to pause at, 0 for none."""

    pauseAtChanged = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.step = step_box("pauseAtStep")
        self.step.setSpecialValueText("off")
        self.step.setToolTip("Pause the run exactly when it reaches this generator step "
                             "(off: 0), e.g. to switch a constraint where a guide says.")
        self.step.valueChanged.connect(self.pauseAtChanged)
        self.schedule = QPushButton("Schedule change…")
        self.schedule.setObjectName("scheduleChangeButton")
        self.schedule.setToolTip("Apply a setting at an exact step while the run trains on "
                                 "(as train --change STEP:KEY=VALUE)")
        label = QLabel("Pause at step")
        label.setBuddy(self.step)
        row.addWidget(label)
        row.addWidget(self.step, 1)
        row.addWidget(self.schedule)

    def show_step(self, step: int | None) -> None:
        """Show the shown run's pause step ("off" for none: reached, or never set)."""
        if self.step.value() != (step or 0) and not self.step.hasFocus():
            self.step.blockSignals(True)
            self.step.setValue(step or 0)
            self.step.blockSignals(False)


class QtScheduleChangeDialog(QDialog):
    """Which live setting, to which value, at which step; checked before it closes."""

    def __init__(self, cfg: Config, step: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("scheduleChangeDialog")
        self.setWindowTitle("Schedule a change")
        self.cfg = cfg.copy()
        form = QFormLayout(self)
        self.step = step_box("scheduleStep")
        self.step.setMinimum(step)
        self.step.setValue(step)
        form.addRow("At step", self.step)
        self.key = QComboBox()
        self.key.setObjectName("scheduleKey")
        for key in live_keys():
            self.key.addItem(f"{config_mod.field_spec(key).label}  ({key})", key)
        form.addRow("Setting", self.key)
        self.value = QLineEdit()
        self.value.setObjectName("scheduleValue")
        form.addRow("Value", self.value)
        self.error = QLabel("")
        self.error.setObjectName("scheduleError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #ff8a80;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.key.currentIndexChanged.connect(self._show_current)
        self._show_current()

    def _show_current(self, *_args) -> None:
        key = self.key.currentData()
        value = self.cfg.get(key)
        if isinstance(value, bool):  # offered flipped: a switch is the usual change
            value = not value
        self.value.setText(str(value).lower() if isinstance(value, bool) else f"{value}")
        self.error.setText("")

    def change(self) -> tuple[int, str, Any]:
        """(step, key, typed value); ConfigError for a value the key refuses."""
        key = self.key.currentData()
        probe = self.cfg.copy()
        probe.set_text(key, self.value.text().strip())
        return self.step.value(), key, probe.get(key)

    def accept(self) -> None:
        try:
            self.change()
        except ConfigError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


def ask_schedule(cfg: Config, step: int, parent: QWidget,
                 schedule: Callable[[int, str, Any], None]) -> bool:
    """Ask for a change and hand it to ``schedule``; False when cancelled."""
    dlg = QtScheduleChangeDialog(cfg, step, parent)
    if not dlg.exec():
        return False
    schedule(*dlg.change())
    return True
