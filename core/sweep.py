"""Sweeps: a grid of headless runs, ``python main.py sweep SWEEP.toml --out DIR``.

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
varied values, seed, e.g. ``clip_loss.kind=hinge_seed3``); ``DIR/summary.csv`` has one row
per trial (see :data:`SUMMARY_FIELDS`) and is rewritten as trials finish, so an interrupted
sweep's summary already lists every trial with its status. ``DIR/sweep.json`` records each
trial's resolved config; running the same sweep again resumes it: finished trials (and
diverged ones) are kept, unfinished ones continue from their last checkpoint
(:class:`core.session.TrainingSession` resume), trials without a checkpoint start again.

Trials run in local worker processes (:mod:`core.trial`, spawned, each with a fair share of
the cores as torch threads) or as Ray tasks (``--ray``; ``pip install '.[cluster]'``); both
call the same :func:`core.trial.run_trial`.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import os
import re
import signal
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .cli import OneLineParser
from .contract import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from . import config as config_mod
from .config import Config, ConfigError
from .runreader import RunReader, RunReadError

EXIT_OK = 0
EXIT_TRIAL_FAILED = 1

SWEEP_KEYS = ("base", "steps", "seeds", "changes", "set", "grid", "variants")
STATE_FILE = "sweep.json"
SUMMARY_FILE = "summary.csv"
# Trial statuses in the summary: done, diverged (losses became NaN/inf; the run folder keeps
# its last good checkpoint), failed (an error; see message), interrupted (stopped with a
# checkpoint; the next run of the sweep resumes it), pending (not started yet).
FINAL_STATUSES = ("done", "diverged")


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


# --------------------------------------------------------------------------- the sweep file
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


def _fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _short_keys(keys: list[str]) -> dict[str, str]:
    """Each key's last two dotted parts (``constraints.spectral.enabled`` -> ``spectral.enabled``),
    or the whole key where two keys would share a short name."""
    short = {k: ".".join(k.split(".")[-2:]) for k in keys}
    clashes = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {k: (k if s in clashes else s) for k, s in short.items()}


_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


def _trial_name(variant: str | None, values: dict[str, Any], short: dict[str, str],
                seed: int) -> str:
    parts = [variant] if variant else []
    parts += [f"{short[k]}={_fmt_value(v)}" for k, v in values.items()]
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
               changes: list[str] | None = None) -> Sweep:
    """Parse and validate a sweep file and every trial's config; :class:`SweepError` (one
    line naming the file) on any problem. Nothing is written. ``steps``, ``seeds`` and
    ``changes``, when given, replace the file's (``reproduce --quick`` uses them)."""
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

    fixed = _flatten(raw.get("set", {}), "set")
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
            raise SweepError(f"{path}: set {key} with '{key.split('.')[1]}s' at the top level, "
                             f"not in [set], [grid] or [variants]")

    short = _short_keys(list(grid))
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
    """Each ``STEP:KEY=VALUE`` parses, names a key that may change during a run, and gives a
    valid value (the checks ``train --change`` makes; TrainingSession makes them again)."""
    probe = cfg.copy()
    for text in changes:
        step_text, sep, rest = text.partition(":")
        key, eq, value = rest.partition("=")
        if not sep or not eq or not step_text.strip().isdigit():
            raise ConfigError(f"a change must look like STEP:KEY=VALUE, got '{text}'")
        if not config_mod.is_live(key.strip()):
            raise ConfigError(f"change '{text}': {key.strip()} cannot change during a run")
        probe.set_text(key.strip(), value)


# --------------------------------------------------------------------------- summary
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
``threads``: the trial's torch intra-op threads."""


def _weighted_ms_per_step(lines: list[dict[str, Any]]) -> float | None:
    total_ms = total_steps = 0.0
    prev = 0
    for line in lines:
        split = line.get("time_split_ms")
        n = line["step"] - prev
        prev = line["step"]
        if not isinstance(split, dict) or n <= 0:
            continue
        ms = sum(v for k, v in split.items() if k != "probe" and isinstance(v, (int, float)))
        total_ms += ms * n
        total_steps += n
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
    sigma = last.get("sigma") if isinstance(last.get("sigma"), dict) else {}
    values = [v for v in sigma.values() if _num(v) is not None]
    row["final_sigma_max"] = max(values) if values else None
    for layer, value in sigma.items():
        row[f"sigma.{layer}"] = _num(value)
    row["ms_per_step"] = _weighted_ms_per_step(lines)
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
    fields = [SUMMARY_FIELDS[0], *head, *SUMMARY_FIELDS[1:-1], *layer_cols, SUMMARY_FIELDS[-1]]
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


# --------------------------------------------------------------------------- resume state
def _prepare_out(out: Path, sweep: Sweep) -> None:
    """Create DIR, or check that an existing DIR holds this sweep's trials (same configs)."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} exists and is not a folder")
    state_path = out / STATE_FILE
    trials = {t.name: {"config": t.config, "changes": t.changes} for t in sweep.trials}
    if state_path.is_file():
        try:
            old = json.loads(state_path.read_text(encoding="utf-8"))["trials"]
        except (OSError, ValueError, KeyError, TypeError):
            raise SweepError(f"{state_path} is unreadable; choose a new --out") from None
        for name, spec in trials.items():
            if name in old and old[name] != spec:
                raise SweepError(f"{out} holds another sweep: trial {name} has a different "
                                 f"config there; choose a new --out")
        trials = {**old, **trials}
    elif out.is_dir() and any(out.iterdir()):
        raise SweepError(f"--out {out} is not empty and holds no sweep; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    tmp = state_path.with_name(STATE_FILE + ".tmp")
    tmp.write_text(json.dumps({"sweep_file": str(sweep.path), "base": str(sweep.base),
                               "trials": trials}, indent=1), encoding="utf-8")
    os.replace(tmp, state_path)


def _is_finished(folder: Path, steps: int) -> bool:
    try:
        reader = RunReader(folder)
    except RunReadError:
        return False
    reader.poll()
    return reader.last_step is not None and reader.last_step >= steps


# --------------------------------------------------------------------------- running
def _kept(row: dict[str, str]) -> dict[str, Any]:
    """The worker-reported fields of a trial finished by an earlier run of the sweep."""
    return {k: row.get(k) or None for k in ("message", "resumed_from", "threads")}


def default_workers(n_trials: int) -> int:
    return max(1, min(n_trials, available_cores()))


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Job:
    """One sweep and its output folder: the statuses of its trials and its summary."""

    def __init__(self, sweep: Sweep, out: str | Path):
        self.sweep, self.out = sweep, Path(out)
        _prepare_out(self.out, sweep)
        old_rows = read_summary(self.out)
        self.statuses: dict[str, str] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.todo: list[Trial] = []
        for trial in sweep.trials:
            previous = old_rows.get(trial.name, {}).get("status")
            folder = self.out / trial.name
            if previous == "diverged" and folder.is_dir():
                self.statuses[trial.name] = "diverged"
                self.results[trial.name] = _kept(old_rows[trial.name])
            elif previous == "done" and _is_finished(folder, trial.steps):
                self.statuses[trial.name] = "done"
                self.results[trial.name] = _kept(old_rows[trial.name])
            else:
                self.statuses[trial.name] = "pending"
                self.todo.append(trial)
        self.write()

    def write(self) -> Path:
        return write_summary(self.out, self.sweep, [
            trial_row(self.out, t, self.statuses[t.name], self.results.get(t.name))
            for t in self.sweep.trials])


def run_sweep(sweep: Sweep, out: str | Path, **options) -> int:
    """Run (or resume) every trial of ``sweep`` into ``out``; returns the exit status."""
    return run_sweeps([(sweep, out)], **options)


def run_sweeps(jobs: Sequence[tuple[Sweep, str | Path]], *, workers: int | None = None,
               threads: int | None = None, ray_address: str | None = None,
               progress: bool = True,
               echo: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> int:
    """Run several sweeps, each into its own folder, on one pool of workers (or Ray), so
    the trials of all of them share the cores; returns the exit status."""
    from .trial import thread_share

    prepared = [_Job(sweep, out) for sweep, out in jobs]
    todo = [(job, trial) for job in prepared for trial in job.todo]
    total = sum(len(job.sweep.trials) for job in prepared)
    skipped = total - len(todo)
    n_workers = workers or default_workers(len(todo))
    threads = threads or (1 if ray_address else thread_share(n_workers))
    if skipped:
        echo(f"resuming: {skipped} of {total} trials already finished")
    from tqdm import tqdm

    where = (f"Ray ({ray_address}), {threads} threads each" if ray_address
             else f"{n_workers} workers x {threads} threads")
    bar = tqdm(total=total, initial=skipped, unit="trial", dynamic_ncols=True,
               disable=not progress, desc=f"sweep on {where}")
    t0 = time.perf_counter()

    def finished(item: tuple[_Job, Trial], result: dict[str, Any]) -> None:
        job, trial = item
        job.statuses[trial.name] = result["status"]
        job.results[trial.name] = result
        if result["status"] in ("done", "diverged", "failed"):
            bar.update(1)
        if result["status"] in ("diverged", "failed"):
            bar.write(f"{job.out / trial.name}: {result['status']}: {result.get('message', '')}")
        job.write()

    interrupted = False
    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # kill: stop as Ctrl-C does (checkpoints, summary)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        if ray_address:
            from .sweep_ray import run_on_ray
            interrupted = run_on_ray(todo, ray_address, threads, finished)
        else:
            interrupted = _run_local(todo, n_workers, threads, finished)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        bar.close()
    statuses: list[str] = []
    paths = []
    for job in prepared:
        for name, status in job.statuses.items():
            if status == "pending" and interrupted:  # never started: stays resumable
                job.statuses[name] = "interrupted"
        paths.append(str(job.write()))
        statuses += job.statuses.values()
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    echo(f"{'interrupted' if interrupted else 'sweep finished'} in "
         f"{time.perf_counter() - t0:.1f} s: "
         + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" -> {', '.join(paths)}")
    if interrupted:
        echo("run the same command again to resume")
        return EXIT_INTERRUPTED
    return EXIT_TRIAL_FAILED if "failed" in statuses else EXIT_OK


def _run_local(todo: list[tuple[_Job, Trial]], workers: int, threads: int,
               finished: Callable[[tuple[_Job, Trial], dict[str, Any]], None]) -> bool:
    """Run trials in ``workers`` spawned processes; True if interrupted (Ctrl-C / SIGTERM)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from .trial import init_worker, run_trial, trial_args

    if not todo:
        return False
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                               initargs=(threads, stop, os.getpid()))
    futures = {}
    reported = set()
    try:
        futures = {pool.submit(run_trial, trial_args(t, job.out, threads)): (job, t)
                   for job, t in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                reported.add(fut)
                finished(futures[fut], _result_of(fut))
        return False
    except KeyboardInterrupt:
        # Running trials see the event between two steps, checkpoint and return; trials
        # not started yet are cancelled. A second Ctrl-C while waiting is ignored.
        stop.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            # Cancel every queued trial first: while we wait for the running ones, the pool
            # would otherwise hand the next queued ones to the freed workers.
            started = [f for f in futures if f not in reported and not f.cancel()]
            for fut in started:
                finished(futures[fut], _result_of(fut))
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result_of(fut) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a worker crash is one trial's failure
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return {"status": "failed", "message": f"{type(exc).__name__}: {first}"}


# --------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py sweep", description="Run a grid of headless training runs.")
    p.add_argument("sweep_file", metavar="SWEEP.toml", help="the sweep file (see README)")
    p.add_argument("--out", required=True, help="folder for the trials' run folders and "
                   "summary.csv (run again with the same --out to resume)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per "
                   "core, at most one per trial); each gets cores // workers torch threads")
    p.add_argument("--threads", type=int, help="torch threads per trial (default: locally "
                   "cores // workers, on Ray 1; each Ray task reserves that many CPUs)")
    p.add_argument("--ray", metavar="ADDRESS", help="run each trial as a Ray task: 'auto' "
                   "(the running cluster), an address (ray://host:10001 or host:6379), or "
                   "'local' (start a Ray instance on this machine); needs pip install "
                   "'.[cluster]'")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def sweep_main(argv: Sequence[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.workers is not None and args.workers < 1:
            raise SweepError(f"--workers must be >= 1, got {args.workers}")
        if args.threads is not None and args.threads < 1:
            raise SweepError(f"--threads must be >= 1, got {args.threads}")
        if args.workers is not None and args.ray:
            raise SweepError("--workers is for local runs; Ray places the trials itself")
        sweep = load_sweep(args.sweep_file)
        if args.ray:
            from .sweep_ray import check_ray
            check_ray()
        return run_sweep(sweep, args.out, workers=args.workers, threads=args.threads,
                         ray_address=args.ray,
                         progress=not args.no_progress)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
