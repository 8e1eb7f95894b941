"""The override grammar and the words for a change: one parser, one describer.

Grammar (next to :func:`core.config.parse_value`, which types a value for its key):

- ``KEY=VALUE``: a config override (``train --set``, a duplicate's changes):
  :func:`parse_setting` -> (key, typed value); the key must exist, the value must parse for it
  (its range is checked when it is set on a config, together with the other overrides).
- ``STEP:KEY=VALUE``: a change applied before generator step STEP+1 (``train --change``, a
  sweep's ``changes``): :func:`parse_change` -> :class:`ScheduledChange`; STEP is an integer
  >= 0, KEY may change during a run (``config.is_live``), VALUE parses for it.

Describer: one name per key and per constraint switch, in the three formats the project
writes (:func:`describe`): a run's legend label ("spectral on", "loss hinge", "seed 1"), a
change marker on a plot ("SN on", "clip c=0.05", "lr_d=0.001") and a sweep trial's folder name
part ("spectral.enabled=true"). A change during a run reads "spectral on -> off @60"
(:func:`describe_history`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from . import config as config_mod
from .config import ConfigError

# ----------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class ScheduledChange:
    """``STEP:KEY=VALUE``: ``value`` is typed for the key; ``text`` is what was written."""

    step: int
    key: str
    value: Any
    text: str

    @property
    def entry(self) -> tuple[int, str, Any]:
        """(step, key, value), as ``TrainingSession(changes=...)`` takes it."""
        return self.step, self.key, self.value


def parse_setting(text: str, *, source: str = "--set") -> tuple[str, Any]:
    """``KEY=VALUE`` -> (key, value typed for the key). ConfigError (one line, starting with
    ``source``) for a malformed entry, an unknown key or a value of the wrong type."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{source} must look like KEY=VALUE, got '{text}'")
    return key, config_mod.parse_key_text(key, value)


def parse_settings(texts: Iterable[str], *, source: str = "--set") -> dict[str, Any]:
    """Several ``KEY=VALUE`` -> {key: typed value} (a key given twice: the last one)."""
    return dict(parse_setting(text, source=source) for text in texts)


def parse_change(text: str, *, source: str = "--change", fix: str = "--set"
                 ) -> ScheduledChange:
    """``STEP:KEY=VALUE`` -> :class:`ScheduledChange`; ConfigError (one line, starting with
    ``source``) when it is malformed, the step is not an integer >= 0, the key may not change
    during a run (``fix`` says where to set it instead) or the value does not parse for it."""
    step_text, sep, rest = text.partition(":")
    key, eq, value = rest.partition("=")
    key = key.strip()
    if not sep or not eq or not key:
        raise ConfigError(f"{source} must look like STEP:KEY=VALUE, got '{text}'")
    try:
        step = int(step_text)
    except ValueError:
        raise ConfigError(f"{source} step must be an integer, got '{step_text}' in "
                          f"'{text}'") from None
    if step < 0:
        raise ConfigError(f"{source} step must be >= 0, got {step}")
    if not config_mod.is_live(key):
        raise ConfigError(f"{source} cannot change {key} during a run; set it with {fix} "
                          f"instead")
    return ScheduledChange(step, key, config_mod.parse_key_text(key, value), text)


# ----------------------------------------------------------------------------- describing
LABEL, MARKER, FOLDER = "label", "marker", "folder"

# Each constraint's switch as a label names it, and as a marker (short) does.
SWITCH_NAMES = {"clip": ("clip", "clip"), "gp": ("gp", "GP"),
                "spectral": ("spectral", "SN"), "rowsum": ("rowsum", "row-sum")}
# Keys whose value alone reads well in a label ("ring8", "dcgan") or reads best after a word.
_LABEL_NAMES = {"data.dataset": "", "model.arch": "", "loss.kind": "loss",
                "optim.name": "optimizer", "constraints.gp.kind": "gp"}
# Keys named by what they do rather than by their last part, the other stabilizers' and the
# drawn data's: (label name, marker name); a true/false one reads "<name> on/off" as a switch
# does.
_OTHER_NAMES = {"constraints.spectral.method": ("spectral σ", "SN σ"),  # power | exact
                "instance_noise.enabled": ("instance noise", "noise"),
                "instance_noise.std": ("noise σ", "noise σ"),
                "instance_noise.anneal_steps": ("noise anneal", "noise anneal"),
                "loss.label_smoothing": ("label smoothing", "smoothing"),
                "optim.name": ("optimizer", "optimizer"),
                "optim.weight_decay": ("weight decay", "weight decay"),
                "data.drawn.points": ("drawn", "drawn"), "data.drawn.std": ("drawn σ", "drawn σ")}
# A manual single update (Step D / Step G) is the event {"update": "D"}: its marker.
UPDATE_MARKERS = {"D": "D step", "G": "G step"}


def is_switch(key: str) -> bool:
    """Whether a key switches a constraint on or off (``constraints.<name>.enabled``)."""
    parts = key.split(".")
    return len(parts) == 3 and parts[0] == "constraints" and parts[2] == "enabled"


def format_value(value: Any, style: str = LABEL) -> str:
    """A value as ``style`` writes it: a label says on/off, a folder name true/false (a
    marker names only switches on/off); floats as %g."""
    if isinstance(value, bool) and style != MARKER:
        if style == FOLDER:
            return "true" if value else "false"
        return "on" if value else "off"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    if isinstance(value, list):  # a drawn dataset's points
        return f"{len(value)} points"
    return str(value)


def short_name(key: str, style: str = LABEL) -> str:
    """How ``style`` names a dotted key: a label 'spectral' (the switch), 'gp weight', 'seed',
    'loss'; a marker 'SN', 'clip c', 'lr_d'."""
    parts = key.split(".")
    if key in _OTHER_NAMES and (style == MARKER or key not in _LABEL_NAMES):
        return _OTHER_NAMES[key][style == MARKER]
    if parts[0] == "constraints" and len(parts) == 3:
        label, marker = SWITCH_NAMES.get(parts[1], (parts[1], parts[1]))
        name = marker if style == MARKER else label
        if key in _LABEL_NAMES and style == LABEL:
            return _LABEL_NAMES[key]
        return name if parts[2] == "enabled" else f"{name} {parts[2]}"
    if style == LABEL and key in _LABEL_NAMES:
        return _LABEL_NAMES[key]
    return parts[-1]


def folder_names(keys: Sequence[str]) -> dict[str, str]:
    """How a sweep trial's folder name names each varied key: its last two dotted parts
    (``constraints.spectral.enabled`` -> ``spectral.enabled``), or the whole key where two
    keys would share a short name."""
    short = {k: ".".join(k.split(".")[-2:]) for k in keys}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {k: (k if s in clashes else s) for k, s in short.items()}


def describe(key: str, value: Any, style: str = LABEL, *, name: str | None = None) -> str:
    """One setting in ``style``: label 'spectral on', 'seed 1', 'loss hinge', 'ring8';
    marker 'SN on', 'clip c=0.05', 'lr_d=0.001'; folder 'spectral.enabled=true' (``name``:
    the key's folder name from :func:`folder_names`)."""
    if style == FOLDER:
        return f"{name or key}={format_value(value, FOLDER)}"
    if style == MARKER:
        if key == "update":
            return UPDATE_MARKERS.get(value, f"{value} step")
        if is_switch(key) or (key in _OTHER_NAMES and isinstance(value, bool)):
            return f"{short_name(key, MARKER)} {format_value(bool(value))}"
        return f"{short_name(key, MARKER)}={format_value(value, MARKER)}"
    return f"{short_name(key)} {format_value(value)}".strip()


def describe_change(change: Mapping[str, Any], style: str = MARKER) -> str:
    """An applied change ({key: value, ...}) in words, e.g. a plot marker 'SN on'."""
    return ", ".join(describe(k, v, style) for k, v in change.items())


def describe_history(key: str, start: Any, changes: Sequence[tuple[int, Any]]) -> str:
    """A key's value at the start and each change during the run, for a label:
    'spectral on -> off @60' (no changes: :func:`describe` of the start value)."""
    text = describe(key, start)
    for step, value in changes:
        text += f" -> {format_value(value)} @{step}"
    return text
