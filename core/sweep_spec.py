"""A sweep file and its trials: ``python main.py sweep SWEEP.toml --out DIR``.

The sweep file (every key but ``base`` optional)::

    base = "resources/presets/ring8.toml"  # a preset or config: relative to the current
                                           # folder, else to the sweep file's folder,
                                           # else a preset's name ("ring8")
    steps = 3000                           # generator steps per trial (default: the base's)
    seeds = [0, 1, 2, 3, 4]                # default: [the base's run.seed]
    changes = ["1000:constraints.spectral.enabled=true"]  # scheduled for every trial
    [set]                                  # fixed overrides for every trial
    "run.log_every" = 20
    [grid]                                 # every combination of these values is a trial
    "constraints.spectral.enabled" = [false, true]
    "loss.kind" = ["bce", "hinge"]
    [variants.clip]                        # named sets of overrides: variants x grid x seeds
    "constraints.clip.enabled" = true

Keys may be quoted dotted keys (``"loss.kind" = ...``) or TOML tables (``[set.loss]``); both
mean the same config key. Each trial is an ordinary run folder ``DIR/<name>`` (name: variant,
varied values, seed, e.g. ``clip_loss.kind=hinge_seed3``). :func:`load_sweep` reads and checks
the file and every trial's config, writing nothing. A leaf of the sweep modules: it imports
only the config and the override grammar.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import Config, ConfigError
from .overrides import FOLDER, describe, folder_names, parse_change

SWEEP_KEYS = ("base", "steps", "seeds", "changes", "set", "grid", "variants")


class SweepError(ValueError):
    """A bad sweep file or output folder; the message is one line naming the file."""


@dataclass
class Trial:
    name: str
    variant: str | None
    values: dict[str, Any]          # the grid values of this trial
    seed: int
    config: dict[str, Any]          # the resolved config (Config.to_dict())
    changes: list[str]              # STEP:KEY=VALUE, as ``train --change``

    @property
    def steps(self) -> int:
        return int(self.config["run"]["steps"])

    @property
    def device(self) -> str:
        return str(self.config["run"]["device"])


@dataclass
class Sweep:
    path: Path
    base: Path
    trials: list[Trial]
    grid_keys: list[str]
    variants: list[str] = field(default_factory=list)


def _flatten(table: Any, where: str, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}, "c.d": 2} -> {"a.b": 1, "c.d": 2} (TOML tables and dotted keys)."""
    if not isinstance(table, dict):
        raise SweepError(f"[{where}] must be a table of config keys")
    flat: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, where, full + "."))
        else:
            flat[full] = value
    return flat


_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def _trial_name(variant: str | None, values: dict[str, Any], names: dict[str, str],
                seed: int) -> str:
    parts = [variant] if variant else []
    parts += [describe(k, v, FOLDER, name=names[k]) for k, v in values.items()]
    parts.append(f"seed{seed}")
    return _UNSAFE.sub("-", "_".join(parts))


def _resolve_base(text: Any, sweep_path: Path) -> Path:
    if not isinstance(text, str) or not text:
        raise SweepError(f"{sweep_path}: 'base' must be the path of a preset or config file")
    candidates = [Path(text)]
    if not Path(text).is_absolute():
        candidates.append(sweep_path.parent / text)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    from .presets import preset_path

    preset = preset_path(text)
    if preset is not None:
        return preset
    raise SweepError(f"{sweep_path}: base config not found: {text} (looked in the current "
                     f"folder, beside the sweep file and among the presets)")


def load_sweep(path: str | Path, *, steps: int | None = None, seeds: list[int] | None = None,
               changes: list[str] | None = None, sets: dict[str, Any] | None = None) -> Sweep:
    """Parse and validate a sweep file and every trial's config; :class:`SweepError` (one
    line naming the file) on any problem. Nothing is written. ``steps``, ``seeds`` and
    ``changes``, when given, replace the file's, and ``sets`` (dotted config keys) is laid
    over its [set] (``reproduce --quick`` uses them)."""
    replaced = {"steps": steps, "seeds": seeds, "changes": changes}
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"sweep file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"cannot read sweep file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{path} is not valid TOML: {exc}") from None

    raw.update({k: v for k, v in replaced.items() if v is not None})
    unknown = sorted(set(raw) - set(SWEEP_KEYS))
    if unknown:
        raise SweepError(f"{path}: unknown key '{unknown[0]}' (known: {', '.join(SWEEP_KEYS)}; "
                         f"config keys go under [set] or [grid])")
    if "base" not in raw:
        raise SweepError(f"{path}: 'base' is missing (the preset or config every trial starts from)")
    base_path = _resolve_base(raw["base"], path)
    try:
        base = config_mod.load(base_path)
    except ConfigError as exc:
        raise SweepError(f"{path}: base config: {exc}") from None

    steps = raw.get("steps")
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
        raise SweepError(f"{path}: 'steps' must be an integer >= 1, got {steps!r}")
    seeds = raw.get("seeds", [base.run.seed])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise SweepError(f"{path}: 'seeds' must be a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"{path}: 'seeds' lists a seed twice: {seeds}")
    changes = raw.get("changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise SweepError(f"{path}: 'changes' must be a list of \"STEP:KEY=VALUE\" strings")

    fixed = {**_flatten(raw.get("set", {}), "set"), **(sets or {})}
    grid = _flatten(raw.get("grid", {}), "grid")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"{path}: [grid] '{key}' must be a non-empty list of values, "
                             f"got {values!r}")
        if len(set(map(repr, values))) != len(values):
            raise SweepError(f"{path}: [grid] '{key}' lists a value twice: {values!r}")
    variants_raw = raw.get("variants", {})
    if not isinstance(variants_raw, dict):
        raise SweepError(f"{path}: [variants] must hold tables like [variants.NAME]")
    variants: dict[str, dict[str, Any]] = {}
    for name, table in variants_raw.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
            raise SweepError(f"{path}: variant name '{name}' must be letters, digits, '_', "
                             f"'.', '+', '-'")
        variants[name] = _flatten(table, f"variants.{name}")
    for key in ("run.seed", "run.steps"):
        if key in grid or key in fixed or any(key in v for v in variants.values()):
            top = {"run.seed": "seeds", "run.steps": "steps"}[key]
            raise SweepError(f"{path}: set {key} with '{top}' at the top level, "
                             f"not in [set], [grid] or [variants]")

    short = folder_names(list(grid))
    trials: list[Trial] = []
    names: set[str] = set()
    for variant in (list(variants) or [None]):
        for combo in itertools.product(*grid.values()):
            values = dict(zip(grid, combo))
            for seed in seeds:
                overrides = {**fixed, **(variants.get(variant, {}) if variant else {}), **values,
                             "run.seed": seed}
                if steps is not None:
                    overrides["run.steps"] = steps
                cfg = base.copy()
                name = _trial_name(variant, values, short, seed)
                try:
                    cfg.update(overrides)
                    _check_changes(cfg, changes)
                except ConfigError as exc:
                    raise SweepError(f"{path}: trial {name}: {exc}") from None
                if name in names:
                    raise SweepError(f"{path}: two trials would share the folder name {name}")
                names.add(name)
                trials.append(Trial(name, variant, values, seed, cfg.to_dict(), list(changes)))
    return Sweep(path, base_path, trials, list(grid), list(variants))


def _check_changes(cfg: Config, changes: list[str]) -> None:
    """Each ``STEP:KEY=VALUE`` parses (:func:`core.overrides.parse_change`, the rules of
    ``train --change``) and its value is valid for this trial's config (TrainingSession
    checks them again)."""
    probe = cfg.copy()
    for text in changes:
        change = parse_change(text, source="a change", fix="[set] or [grid]")
        probe.set(change.key, change.value)
