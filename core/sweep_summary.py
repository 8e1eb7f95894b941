"""A sweep's ``DIR/summary.csv``: one row per trial, read from its run folder.

The file is rewritten (atomically) as trials finish, so an interrupted sweep's summary already
lists every trial with its status.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from .runreader import RunReader, RunReadError
from .sweep_spec import Sweep, Trial

SUMMARY_FILE = "summary.csv"

SUMMARY_FIELDS = (
    "name", "status", "seed", "steps", "resumed_from",
    "final_modes", "best_modes", "final_hq", "best_hq",
    "final_loss_d", "final_loss_g", "final_d_real", "final_d_fake",
    "final_sigma_max", "final_lip_grad", "final_lip_grad_mean_interp", "final_lip_bound",
    "ms_per_step", "wall_s", "threads", "message",
)
"""Summary columns after ``variant`` (when the sweep has variants) and the grid keys; then one
``sigma.<layer>`` column per D layer (the final line's top singular value of the layer's
effective weight; ``final_sigma_max`` is their maximum). ``final_*``: the last metrics line;
``best_modes`` / ``best_hq``: the largest over the run's slow-probe lines (2D data; empty for
images). ``steps``: the last logged step. ``ms_per_step``: training time per generator step
(data, D and G updates, constraints; probes, logging and checkpoints excluded), from the
metrics' ``time_split_ms`` weighted by the steps of each line (wall time per step when the
time split is off). ``wall_s``: the run's elapsed seconds at its last line (all sessions).
``resumed_from``: the step the trial's last session started from (0: it ran in one go).
``threads``: the trial's torch intra-op threads. Image sweeps add, after ``final_lip_bound``,
the image-quality columns of :data:`QUALITY_COLUMNS` (the last quality line's ``fd``, ``kid``,
``classes``, ``precision``, ``recall``, ``parzen_ll`` and the lowest ``fd`` of the run;
stacked data's modes are ``final_modes`` / ``best_modes``); a column appears when a trial has
it, so a 2D sweep's file is as before."""

QUALITY_FIELDS = ("fd", "kid", "classes", "precision", "recall", "parzen_ll")
QUALITY_COLUMNS = ("final_fd", "best_fd", "final_kid", "final_classes", "final_precision",
                   "final_recall", "final_parzen_ll")


def weighted_split(lines: list[dict[str, Any]]) -> tuple[float, dict[str, float], int]:
    """Each metrics line's ``time_split_ms`` weighted by the steps since the line before:
    (total training ms, {phase: ms}, steps covered). ``probe`` is left out (not training);
    lines without a split (``run.time_split = false``) add nothing."""
    total_ms, phases, total_steps = 0.0, {}, 0
    prev = 0
    for line in lines:
        split = line.get("time_split_ms")
        n = line["step"] - prev
        prev = line["step"]
        if not isinstance(split, dict) or n <= 0:
            continue
        timed = {k: v for k, v in split.items() if k != "probe" and isinstance(v, (int, float))}
        total_ms += sum(timed.values()) * n
        for k, v in timed.items():
            phases[k] = phases.get(k, 0.0) + v * n
        total_steps += n
    return total_ms, phases, total_steps


def ms_per_step(lines: list[dict[str, Any]]) -> float | None:
    """Training ms per generator step (:func:`weighted_split`); the wall time per step when
    no line has a time split; None for no lines."""
    total_ms, _, total_steps = weighted_split(lines)
    if total_steps:
        return total_ms / total_steps
    if lines and lines[-1]["step"] > 0 and isinstance(lines[-1].get("time"), (int, float)):
        return 1000.0 * lines[-1]["time"] / lines[-1]["step"]
    return None


def _num(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def trial_row(out: Path, trial: Trial, status: str, result: dict[str, Any] | None
              ) -> dict[str, Any]:
    """One summary row from the trial's run folder (read with core.runreader)."""
    row: dict[str, Any] = {"name": trial.name, "status": status, "seed": trial.seed}
    if trial.variant is not None:
        row["variant"] = trial.variant
    row.update(trial.values)
    if result:
        row["resumed_from"] = result.get("resumed_from")
        row["message"] = result.get("message") or ""
        row["threads"] = result.get("threads")
    folder = out / trial.name
    try:
        reader = RunReader(folder)
    except RunReadError:
        return row
    lines = reader.poll().metrics
    if not lines:
        return row
    last = lines[-1]
    row["steps"] = last["step"]
    modes = [m["modes"] for m in lines if _num(m.get("modes")) is not None]
    hq = [m["hq"] for m in lines if _num(m.get("hq")) is not None]
    slow = [m for m in lines if _num(m.get("modes")) is not None]
    final_slow = slow[-1] if slow else {}
    row.update(final_modes=final_slow.get("modes"), best_modes=max(modes) if modes else None,
               final_hq=final_slow.get("hq"), best_hq=max(hq) if hq else None)
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "lip_grad", "lip_grad_mean_interp",
                "lip_bound"):
        row[f"final_{key}"] = _num(last.get(key))
    quality = [m for m in lines if _num(m.get("fd")) is not None]
    if quality:
        row.update({f"final_{k}": _num(quality[-1].get(k)) for k in QUALITY_FIELDS})
        row["best_fd"] = min(m["fd"] for m in quality)
    sigma = last.get("sigma") if isinstance(last.get("sigma"), dict) else {}
    values = [v for v in sigma.values() if _num(v) is not None]
    row["final_sigma_max"] = max(values) if values else None
    for layer, value in sigma.items():
        row[f"sigma.{layer}"] = _num(value)
    row["ms_per_step"] = ms_per_step(lines)
    row["wall_s"] = _num(last.get("time"))
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    return str(value)


def write_summary(out: Path, sweep: Sweep, rows: list[dict[str, Any]]) -> Path:
    """Write DIR/summary.csv atomically (a reader never sees half a file)."""
    layer_cols: list[str] = []
    for row in rows:
        layer_cols += [k for k in row if k.startswith("sigma.") and k not in layer_cols]
    head = (["variant"] if sweep.variants else []) + sweep.grid_keys
    quality = [k for k in QUALITY_COLUMNS if any(row.get(k) is not None for row in rows)]
    at = SUMMARY_FIELDS.index("ms_per_step")
    fields = [SUMMARY_FIELDS[0], *head, *SUMMARY_FIELDS[1:at], *quality,
              *SUMMARY_FIELDS[at:-1], *layer_cols, SUMMARY_FIELDS[-1]]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in fields})
    path = out / SUMMARY_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_summary(out: Path) -> dict[str, dict[str, str]]:
    """The rows of an existing DIR/summary.csv by trial name ({} if there is none)."""
    try:
        text = (out / SUMMARY_FILE).read_text(encoding="utf-8")
    except OSError:
        return {}
    return {row["name"]: row for row in csv.DictReader(io.StringIO(text)) if row.get("name")}
