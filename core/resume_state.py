"""What a resume takes over from the run it continues: the session state its checkpoint kept,
and which of the changes it is given are new (not already in the run's stored schedule).

A resumed run must log the lines an uninterrupted run logs (tests/test_resume_exact.py);
these two rules decide that, apart from the trainer's own state (core.checkpoint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .checkpoint import CheckpointError
from .config import Config, ConfigError

# What a checkpoint keeps of its session (trainer.pt's "session" entry): the step of the last
# metrics line it contains, the step of the last slow probes and the prober's state.
SESSION_KEYS = ("logged_step", "slow_step", "probes")


def not_stored(changes: Iterable[tuple[int, str, Any]], stored: list[tuple[int, str, Any]],
                cfg: Config) -> list[tuple[int, str, Any]]:
    """The ``changes`` that are not already in the run's stored schedule (same step, key and
    value once typed by the config's rules; a value that does not type stays new and is
    refused with its own message later)."""
    own = {(step, key, repr(value)) for step, key, value in stored}
    probe = cfg.copy()
    new = []
    for step, key, value in changes:
        try:
            if isinstance(value, str):
                typed = probe.set_text(key, value)
            else:  # already typed by core.overrides.parse_change: as the config stores it
                probe.set(key, value)
                typed = probe.get(key)
        except ConfigError:
            typed = value
        if (step, key, repr(typed)) not in own:
            new.append((step, key, value))
    return new


def session_state(state: dict[str, Any], path: Path) -> dict[str, Any]:
    """The "session" entry of a loaded ``trainer.pt`` ({} when it has none: a checkpoint of
    an older build, resumed as before); CheckpointError naming the file when it is damaged."""
    saved = state.get("session")
    if saved is None:
        return {}
    if not isinstance(saved, dict) or any(key not in saved for key in SESSION_KEYS) \
            or not isinstance(saved["logged_step"], int) \
            or not isinstance(saved["slow_step"], (int, type(None))) \
            or not isinstance(saved["probes"], dict):
        raise CheckpointError(f"{path} is damaged: its session entry is not "
                              f"{{{', '.join(SESSION_KEYS)}}}")
    return saved
