"""QValidators built from the config's field metadata, so a bad value is refused in the field
itself (red border, reason in the tooltip) and never reaches the trainer."""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox

from core import config as config_mod
from core.config import Config, ConfigError

_PARTIAL_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d*|\d*)([eE][+-]?\d*)?$")


class QtConfigValidator(QValidator):
    """Validates the text of one numeric config key against a config (choices, ranges and
    cross-field rules all come from ``core.config``).

    Text that can never become a number is ``Invalid`` (the keystroke is refused); a number
    outside the allowed range, or an unfinished one like ``1e-``, is ``Intermediate``, so
    QLineEdit does not emit ``editingFinished`` and the value is never committed.
    """

    def __init__(self, key: str, config: Callable[[], Config], parent=None):
        super().__init__(parent)
        self.key = key
        self.config = config
        self.last_error = ""

    def check(self, text: str):
        """(``Config.with_change`` result, None) when acceptable, else (None, reason)."""
        try:
            value = config_mod.parse_key_text(self.key, text)
            return self.config().with_change(self.key, value), None
        except ConfigError as exc:
            return None, str(exc)

    def validate(self, text: str, pos: int):  # noqa: D401 (Qt API)
        stripped = text.strip()
        if not _PARTIAL_FLOAT.match(stripped):
            self.last_error = f"{self.key} must be a number"
            return QValidator.State.Invalid
        _, error = self.check(stripped) if stripped else (None, f"{self.key} is empty")
        self.last_error = error or ""
        return QValidator.State.Acceptable if error is None else QValidator.State.Intermediate


_INT_TEXT = re.compile(r"^[+-]?\d+$")
_NUMBERISH = re.compile(r"^[+-]?[\d.eE+-]*$")


class QtStrictSpinBox(QSpinBox):
    """An integer spin box that never commits what was not typed.

    QSpinBox's own validation drops a keystroke it cannot accept: the "." of "3.5" or the "-"
    of "-5" (minimum 1) vanished, and "35" or "5" was committed. Here number-like text that is
    not an integer in range stays as typed and is ``Intermediate``: Enter commits nothing, the
    field is marked invalid with the reason (:meth:`problem`), and leaving it puts the last
    good value back. Letters are refused as keystrokes, as in the float fields.
    """

    def problem(self, text: str | None = None) -> str:
        """Why ``text`` (default: the field's text) cannot be committed; "" when it can."""
        t = (self.lineEdit().text() if text is None else text).strip()
        if not _INT_TEXT.match(t):
            return f"{self.property('configKey') or 'this field'} must be a whole number"
        value = int(t)
        if not self.minimum() <= value <= self.maximum():
            return (f"{self.property('configKey') or 'the value'} must be between "
                    f"{self.minimum()} and {self.maximum()}, got {value}")
        return ""

    def validate(self, text: str, pos: int):  # noqa: D401 (Qt API)
        t = text.strip()
        if not _NUMBERISH.match(t):
            return QValidator.State.Invalid
        return QValidator.State.Intermediate if self.problem(t) else QValidator.State.Acceptable


class QtFolderValidator(QValidator):
    """``data.root``: the config's rules, and for the ``folder`` dataset an existing folder
    (else ``Intermediate`` with the reason, so the text is never committed)."""

    def __init__(self, key: str, config: Callable[[], Config], parent=None):
        super().__init__(parent)
        self.key = key
        self.config = config

    def check(self, text: str):
        """(``Config.with_change`` result, None) when acceptable, else (None, reason)."""
        from core.paths import dataset_root

        try:
            result = self.config().with_change(self.key, text.strip())
        except ConfigError as exc:
            return None, str(exc)
        if result[0].data.dataset == "folder" and not dataset_root(text).is_dir():
            return None, f"{self.key}: {dataset_root(text)} is not a folder"
        return result, None

    def validate(self, text: str, pos: int):  # noqa: D401 (Qt API)
        _, error = self.check(text)
        return QValidator.State.Acceptable if error is None else QValidator.State.Intermediate
