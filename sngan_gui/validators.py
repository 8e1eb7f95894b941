"""QValidators built from the config's field metadata, so a bad value is refused in the field
itself (red border, reason in the tooltip) and never reaches the trainer."""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtGui import QValidator

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
