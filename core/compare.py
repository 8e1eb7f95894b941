"""Comparing runs: what differs between their configs, legend labels made from it, captions,
"duplicate with change", and comparison tables with one column per run (Qt-free).

Labels name only what tells the runs apart, in the words a user would use: a run with spectral
normalization against one without is "spectral on" / "spectral off"; two seeds are "seed 0" /
"seed 1"; several differences are joined ("spectral on, loss hinge"). When several constraint
switches differ, a label names the ones its run has on ("gp + spectral on", or "gp/spectral
off" for none of them). A setting a run changed while training is told with its history,
from the run's events: "spectral on -> off @60". Keys that change how a run is recorded but
not how it trains (``run.steps``, the logging cadences, the device) are named only when
nothing else differs. Runs whose labels would still be equal get a number:
"run 1" / "run 2" for identical configs, "spectral off (1)" / "spectral off (2)" otherwise.
The words for each key come from :mod:`core.overrides`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import config as config_mod
from .config import Config, ConfigError
from .overrides import describe, describe_history, format_value, is_switch, parse_settings, \
    short_name

# Keys that change what is written and when, not the training itself.
RECORDING_KEYS = frozenset({
    "run.steps", "run.log_every", "run.checkpoint_every", "run.probe_every",
    "run.sample_every", "run.time_split", "run.tensorboard", "run.device", "data.root",
})
MAX_LABEL_PARTS = 3  # more differences than this: the first ones and "+N more"

# Every change a run applied while training ({"step", "change": {key: value}} dicts or
# core.contract.Event objects), per run, in the order they were applied.
RunEvents = Sequence[Any]


def _order(key: str) -> tuple:
    """Constraint switches first, then their parameters, the other training keys in config
    order, the seed, and the recording keys last."""
    parts = key.split(".")
    if parts[0] == "constraints":
        rank = 0 if parts[-1] == "enabled" else 1
    elif key == "run.seed":
        rank = 3
    elif key in RECORDING_KEYS:
        rank = 4
    else:
        rank = 2
    return (rank, _KEY_INDEX.get(key, len(_KEY_INDEX)))


_KEY_INDEX = {key: i for i, key in enumerate(config_mod.all_keys())}


def _event_step_change(event: Any) -> tuple[int, Mapping[str, Any]]:
    if isinstance(event, Mapping):
        return int(event["step"]), event["change"]
    return int(event.step), event.change


def histories(events: RunEvents | None) -> dict[str, list[tuple[int, Any]]]:
    """{key: [(step, value), ...]}: each key's changes during one run, in order."""
    out: dict[str, list[tuple[int, Any]]] = {}
    for event in events or ():
        step, change = _event_step_change(event)
        for key, value in change.items():
            if key in _KEY_INDEX:  # not a Step D / Step G ({"update": "D"}): no setting
                out.setdefault(key, []).append((step, value))
    return out


def _changed_keys(configs: Sequence[Config], runs_events: Sequence[RunEvents | None]
                  ) -> list[str]:
    """The keys whose history during the runs differs between them (a run that switched SN
    off at step 60 against one that did not)."""
    if len(configs) < 2:
        return []
    per_run = [histories(ev) for ev in runs_events]
    keys = {k for h in per_run for k in h}
    return sorted((k for k in keys if any(h.get(k, []) != per_run[0].get(k, [])
                                          for h in per_run[1:])), key=_order)


def differing_keys(configs: Sequence[Config]) -> list[str]:
    """The dotted keys whose values are not the same in every config, most telling first."""
    if len(configs) < 2:
        return []
    rows = [dict((k, v) for k, _, v in config_mod.iter_fields(c)) for c in configs]
    keys = [k for k in rows[0] if any(r[k] != rows[0][k] for r in rows[1:])]
    return sorted(keys, key=_order)


def label_keys(configs: Sequence[Config],
               events: Sequence[RunEvents | None] | None = None) -> list[str]:
    """The keys labels are made from: the differences that change training (at the start or
    during the runs), or, when there are none, the recording ones (a 300-step run against a
    2000-step one)."""
    keys = differing_keys(configs)
    if events is not None:
        keys = sorted(set(keys) | set(_changed_keys(configs, events)), key=_order)
    training = [k for k in keys if k not in RECORDING_KEYS]
    return training or keys


def run_labels(configs: Sequence[Config], base: str = "run",
               events: Sequence[RunEvents | None] | None = None) -> list[str]:
    """One short legend label per config, from what differs between them (module docstring).

    ``events``: each run's applied changes (:data:`RunEvents`); a key a run changed while
    training is told with its history, "spectral on -> off @60". Equal labels are told apart
    by a number; labels are unique. A lone run is ``base``, or the history of what it changed.
    """
    if events is not None and len(events) != len(configs):
        raise ValueError("run_labels needs one list of events per config")
    runs_events = list(events) if events is not None else [None] * len(configs)
    keys = label_keys(configs, events)
    changed = [histories(ev) for ev in runs_events]
    switches = [k for k in keys if is_switch(k)]
    labels = []
    for cfg, history in zip(configs, changed):
        parts = [describe_history(k, cfg.get(k), history.get(k, [])) for k in keys
                 if len(switches) < 2 or k not in switches]
        if len(switches) >= 2:  # one part for the switches: the ones this run has on ...
            moved = [k for k in switches if history.get(k)]
            on = [short_name(k) for k in switches if k not in moved and cfg.get(k)]
            group = [" + ".join(on) + " on"] if on else []
            # ... and the ones it switched during the run, with their history
            group += [describe_history(k, cfg.get(k), history[k]) for k in moved]
            parts[0:0] = group or ["/".join(short_name(k) for k in switches) + " off"]
        if len(parts) > MAX_LABEL_PARTS:
            parts = parts[:MAX_LABEL_PARTS] + [f"+{len(parts) - MAX_LABEL_PARTS} more"]
        labels.append(", ".join(parts))
    if len(configs) == 1 and not labels[0]:
        return [base]
    return number_duplicates([lab or base for lab in labels], bare=base)


def number_duplicates(labels: Sequence[str], bare: str = "run") -> list[str]:
    """Make labels unique: repeated ones get ' (1)', ' (2)'...; the bare base 'run' gets
    'run 1', 'run 2'."""
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if counts[lab] == 1:
            out.append(lab)
            continue
        seen[lab] = seen.get(lab, 0) + 1
        out.append(f"{lab} {seen[lab]}" if lab == bare else f"{lab} ({seen[lab]})")
    taken = set()
    for i, lab in enumerate(out):  # a generated name may equal a given one: count on
        n = 2
        candidate = lab
        while candidate in taken:
            candidate = f"{lab} ({n})"
            n += 1
        taken.add(candidate)
        out[i] = candidate
    return out


def common_summary(cfg: Config, skip: Iterable[str] = (),
                   history: Mapping[str, Sequence[tuple[int, Any]]] | None = None) -> str:
    """The settings every compared run shares, in a few words (for captions): dataset,
    architecture, loss, the constraints that are on, the seed. ``history``: the changes
    during the run ({key: [(step, value)]}, :func:`histories`), told as "spectral on -> off
    @60"."""
    skip, history = set(skip), history or {}
    parts = []
    for key in ("data.dataset", "model.arch", "loss.kind", "optim.name"):
        if key not in skip:
            parts.append(describe_history(key, cfg.get(key), history.get(key, [])))
    names = [name for name in ("clip", "gp", "spectral", "rowsum")
             if f"constraints.{name}.enabled" not in skip]
    moved = [name for name in names if history.get(f"constraints.{name}.enabled")]
    on = [name for name in names if name not in moved and cfg.get(f"constraints.{name}.enabled")]
    off = [name for name in names if name not in moved and name not in on]
    if on:
        parts.append(" + ".join(on) + " on")
    if off:
        parts.append(("no constraint" if len(off) == 4 else "/".join(off) + " off"))
    for name in moved:
        key = f"constraints.{name}.enabled"
        parts.append(describe_history(key, cfg.get(key), history[key]))
    if "run.seed" not in skip:
        parts.append(describe("run.seed", cfg.run.seed))
    return ", ".join(parts)


def _value_history(start: Any, changes: Sequence[tuple[int, Any]]) -> str:
    return format_value(start) + "".join(f" -> {format_value(v)} @{s}" for s, v in changes)


def caption(configs: Sequence[Config], labels: Sequence[str],
            names: Sequence[str] | None = None,
            events: Sequence[RunEvents | None] | None = None) -> str:
    """A figure caption naming the runs (label and folder name) and how they differ, e.g.
    'Runs: spectral on (a), spectral off (b). They differ in constraints.spectral.enabled
    (on / off). Same: ring8, mlp, loss bce, optimizer adam, no constraint, seed 0.'
    ``events``: each run's applied changes; a key changed during a run is told with its
    history ("constraints.spectral.enabled (on -> off @60 / on)", "spectral on -> off @60")."""
    if len(configs) != len(labels) or (names is not None and len(names) != len(labels)):
        raise ValueError("caption needs one label (and name) per config")
    if events is not None and len(events) != len(configs):
        raise ValueError("caption needs one list of events per config")
    runs = [f"{lab} ({name})" if name and name != lab else lab
            for lab, name in zip(labels, names or [None] * len(labels))]
    text = ("Run: " if len(runs) == 1 else "Runs: ") + "; ".join(runs) + "."
    changed = [histories(ev) for ev in events] if events is not None else [{}] * len(configs)
    keys = differing_keys(configs)
    if events is not None:
        keys = sorted(set(keys) | set(_changed_keys(configs, events)), key=_order)
    runs_h = list(zip(configs, changed))
    if keys:
        diffs = [f"{k} ({' / '.join(_value_history(c.get(k), h.get(k, [])) for c, h in runs_h)})"
                 for k in keys]
        text += " They differ in " + ", ".join(diffs) + "."
    elif len(configs) > 1:
        text += " Their configs are identical."
    text += " Same: " + common_summary(configs[0], skip=keys, history=changed[0]) + "."
    return text


# --------------------------------------------------------------------------- duplicate
def parse_changes(texts: Iterable[str]) -> dict[str, Any]:
    """``["constraints.spectral.enabled=true", "run.seed=1"]`` -> typed values by key
    (checked against the key's rule when applied; :func:`core.overrides.parse_settings`)."""
    return parse_settings(texts, source="a change")


def duplicate_with_change(cfg: Config, changes: Mapping[str, Any]) -> Config:
    """A copy of ``cfg`` (same seed and every other key) with ``changes`` applied together
    and validated by ``core.config``'s rules (a text value is parsed for its key first).

    ConfigError (one line naming the key) when there is no change, when a value is invalid,
    or when a change sets a key to the value it already has (the duplicate would be a copy).
    """
    if not changes:
        raise ConfigError("duplicate with change needs at least one key to change")
    typed = {key: config_mod.parse_key_text(key, value) if isinstance(value, str) else value
             for key, value in changes.items()}
    new = cfg.copy()
    new.update(typed)
    unchanged = [k for k in typed if new.get(k) == cfg.get(k)]
    if unchanged:
        k = unchanged[0]
        raise ConfigError(f"{k} is already {format_value(cfg.get(k))}: the duplicate would "
                          f"not differ there")
    return new


def changed_keys(a: Config, b: Config) -> list[str]:
    """The dotted keys where two configs differ (in config order)."""
    rb = {k: v for k, _, v in config_mod.iter_fields(b)}
    return [k for k, _, v in config_mod.iter_fields(a) if rb[k] != v]


# --------------------------------------------------------------------------- tables
@dataclass(frozen=True)
class Series:
    """One column of a comparison: its header and (step, value) pairs."""

    name: str
    steps: Sequence[float]
    values: Sequence[float]


def metric_series(name: str, records: Iterable[Mapping[str, Any]], field: str) -> Series:
    """The column ``field`` of metrics records (``sigma.<layer>`` reaches into an object);
    records without the field, or with null, give no point."""
    head, _, sub = field.partition(".")
    steps, values = [], []
    for rec in records:
        value = rec.get(head)
        if sub:
            value = value.get(sub) if isinstance(value, Mapping) else None
        step = rec.get("step")
        if isinstance(step, (int, float)) and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            steps.append(step)
            values.append(float(value))
    return Series(name, steps, values)


def _cell(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return repr(float(x))


def _step_text(step: float) -> str:
    return str(int(step)) if float(step).is_integer() else repr(float(step))


def comparison_rows(series: Sequence[Series]) -> tuple[list[str], list[list[str]]]:
    """Header ``step, <name>...`` and one row per step seen in any series (sorted); a run
    without that step has an empty cell. A step repeated in one series keeps its last value
    (a resumed run may log a step again). Column names must be unique."""
    names = [s.name for s in series]
    if len(set(names)) != len(names):
        raise ValueError(f"comparison columns must have unique names, got {names}")
    by_step: dict[float, list[float | None]] = {}
    for j, s in enumerate(series):
        if len(s.steps) != len(s.values):
            raise ValueError(f"series '{s.name}': {len(s.steps)} steps but {len(s.values)} values")
        for step, value in zip(s.steps, s.values):
            if step is None or not math.isfinite(float(step)):
                continue
            row = by_step.setdefault(float(step), [None] * len(series))
            row[j] = value
    rows = [[_step_text(step), *(_cell(v) for v in row)] for step, row in sorted(by_step.items())]
    return ["step", *names], rows


def write_comparison_csv(path: str | Path, series: Sequence[Series]) -> Path:
    """A CSV with one column per series (per run), aligned on the step (comparison_rows)."""
    header, rows = comparison_rows(series)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
