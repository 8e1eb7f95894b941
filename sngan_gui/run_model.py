"""One run as the app holds it (Qt-free): config, identity, history, events, latest snapshot,
state, and a version per kind of data so that every view redraws only what is new.

A live run is fed the :mod:`core.contract` reports of its training loop (:meth:`RunModel.apply`);
any other source of the same objects (a run folder read from disk, a run followed while another
process writes it) can feed a model the same way, and the window may hold several.
"""

from __future__ import annotations

import collections
import enum
import itertools
from typing import Any, Iterable

import numpy as np

from core import contract
from core.config import DATASETS_2D, Config
from core.overrides import MARKER, describe_change

from .history import History

REAL_POINTS = 512  # real data points shown for 2D data, drawn once per run from the mixture


class RunState(enum.Enum):
    IDLE = "idle"            # no training process yet (before Play, or a run from disk)
    STARTING = "starting"    # the process starts, the data is prepared
    PAUSED = "paused"
    RUNNING = "running"
    FINISHED = "finished"    # reached run.steps
    DIVERGED = "diverged"    # paused at non-finite losses
    FAILED = "failed"        # cannot train on (bad input, an error, the process died)


class Fault(enum.Enum):
    """Why a run stopped training: what the app offers next depends on it."""

    DIVERGED = "diverged"  # non-finite losses or weights: continue from the last good checkpoint
    DEVICE = "device"      # the device failed in a step: continue (on the CPU, smaller batch)
    CRASHED = "crashed"    # the training process died: continue from the run folder
    ERROR = "error"        # bad input or an error: fix it and start a new run


class DataKind(enum.Enum):
    STATUS = "status"        # step, rate, elapsed, state, identity
    METRICS = "metrics"
    EVENTS = "events"
    FAST = "fast"            # core.contract.ProbeSnapshot parts
    SPECTRA = "spectra"
    LANDSCAPE = "landscape"
    SAMPLES = "samples"


_PART_KIND = {"fast": DataKind.FAST, "spectra": DataKind.SPECTRA,
              "landscape": DataKind.LANDSCAPE, "samples": DataKind.SAMPLES}
_serials = itertools.count(1)


class RunModel:
    def __init__(self, cfg: Config, *, history_capacity: int = 4096):
        self.serial = next(_serials)  # tells runs apart (views remember what they drew)
        self.cfg = cfg.copy()
        self.info: contract.RunInfo | None = None
        self.history = History(history_capacity)
        self.events: list[contract.Event] = []
        self.snapshot = contract.ProbeSnapshot()
        self.state = RunState.IDLE
        self.step = 0
        self.d_updates = self.g_updates = 0  # optimizer updates (RunProgress)
        self.rate = 0.0
        self.elapsed = 0.0
        self.problem = ""  # the text of a divergence or failure
        self.fault: Fault | None = None
        self.checkpoint_step: int | None = None  # of the last good checkpoint, after a fault
        # (level, text) of the loop's messages, faults and continuations, the latest last;
        # ``message_count`` counts them all (views show the ones they have not shown yet)
        self.messages: collections.deque[tuple[str, str]] = collections.deque(maxlen=200)
        self.message_count = 0
        self.download: contract.DownloadProgress | None = None  # a dataset being prepared
        self.real_points: np.ndarray | None = None
        self._versions = dict.fromkeys(DataKind, 0)

    # ------------------------------------------------------------------ versions
    def version(self, kind: DataKind) -> int:
        return self._versions[kind]

    def versions(self, kinds: Iterable[DataKind]) -> tuple[int, ...]:
        return tuple(self._versions[k] for k in kinds)

    def _bump(self, *kinds: DataKind) -> None:
        for kind in kinds:
            self._versions[kind] += 1

    @property
    def is_image(self) -> bool:
        if self.info is not None:
            return self.info.kind == "image"
        return self.snapshot.samples is not None or self.cfg.data.dataset not in DATASETS_2D

    @property
    def modes_total(self) -> int | None:
        """The mixture's number of modes (a drawn dataset's: its pieces, core/points.py)."""
        if self.snapshot.landscape is not None:
            return len(self.snapshot.landscape.mode_counts)
        centres = self.info.mode_centres if self.info is not None else None
        return None if centres is None else len(centres)

    # ------------------------------------------------------------------ feeding
    def set_state(self, state: RunState) -> None:
        if state is not self.state:
            self.state = state
            self._bump(DataKind.STATUS)

    def apply(self, report: contract.Report) -> set[DataKind]:
        """Take one report of the run's training loop; returns the kinds of data it changed."""
        before = dict(self._versions)
        match report:
            case contract.RunStarted(info=info):
                self._started(info)
            case contract.RunProgress():
                self._progress(report)
            case contract.RunDiverged(text=text, checkpoint_step=ckpt):
                self._fault(Fault.DIVERGED, text, ckpt, RunState.DIVERGED)
            case contract.RunDeviceFailed(text=text, checkpoint_step=ckpt):
                self._fault(Fault.DEVICE, text, ckpt, RunState.FAILED)
            case contract.RunFailed(text=text, exit_code=code):
                self._fault(Fault.ERROR if code is None else Fault.CRASHED, text,
                            self.checkpoint_step, RunState.FAILED)
            case contract.RunContinued(info=info, step=step):
                self._continued(info, step)
                self.add_message("info", f"continued from the checkpoint at step {step:,} "
                                         f"on {info.device}")
            case contract.RunMessage(level=level, text=text):
                self.add_message(level, text)
            case contract.DownloadProgress():
                self.download = report if report.done is not None else None
                self._bump(DataKind.STATUS)
        return {kind for kind, v in self._versions.items() if v != before[kind]}

    def add_message(self, level: str, text: str) -> None:
        self.messages.append((level, text))
        self.message_count += 1

    @property
    def can_continue(self) -> bool:
        """Whether the run can go on from its last good checkpoint (after a divergence, a
        device failure, or the training process's death once it wrote its folder)."""
        return self.fault in (Fault.DIVERGED, Fault.DEVICE, Fault.CRASHED) and (
            self.fault is not Fault.CRASHED or self.info is not None)

    def _fault(self, fault: Fault, text: str, checkpoint_step: int | None,
               state: RunState) -> None:
        self.problem, self.fault, self.checkpoint_step = text, fault, checkpoint_step
        self.add_message("error", text)
        self.set_state(state)
        self._bump(DataKind.STATUS)

    def _continued(self, info: contract.RunInfo, step: int) -> None:
        """The run goes on from its checkpoint at ``step``: drop what came after it (as the
        run folder does) and count as a new run for the views, which redraw everything."""
        self.serial = next(_serials)
        self.history.truncate_after(step)
        # a change at step S is applied after the checkpoint of step S: it is not in it
        self.events = [e for e in self.events if e.step < step]
        self.step = step
        self.problem, self.fault, self.checkpoint_step = "", None, None
        self._started(info)
        self._bump(*DataKind)

    def _started(self, info: contract.RunInfo) -> None:
        self.info = info
        if info.mode_centres is not None and info.mode_std is not None:
            rng = np.random.default_rng(0)
            centres = np.asarray(info.mode_centres, dtype=float)
            idx = rng.integers(0, len(centres), REAL_POINTS)
            self.real_points = centres[idx] + info.mode_std * rng.standard_normal((REAL_POINTS, 2))
        self.set_state(RunState.PAUSED)
        self._bump(DataKind.STATUS, DataKind.LANDSCAPE)

    def _progress(self, p: contract.RunProgress) -> None:
        self.step, self.rate, self.elapsed = p.step, p.rate, p.elapsed
        self.d_updates, self.g_updates = p.d_updates, p.g_updates
        self._bump(DataKind.STATUS)
        if p.records:
            self.history.extend_records(p.records)
            self._bump(DataKind.METRICS)
        if p.events:
            self.events.extend(p.events)
            self._bump(DataKind.EVENTS)
        if p.snapshot is not None:
            self.update_snapshot(p.snapshot)
        if p.done:
            self.set_state(RunState.FINISHED)
        elif p.running:
            self.set_state(RunState.RUNNING)
        elif self.state not in (RunState.DIVERGED, RunState.FAILED):
            self.set_state(RunState.PAUSED)

    def replace_history(self, history: History) -> None:
        """Show ``history`` (e.g. read from a big file in the background) as the run's."""
        self.history = history
        self._bump(DataKind.METRICS)

    def update_snapshot(self, update: contract.ProbeSnapshot) -> None:
        """Merge the new parts of ``update`` into the latest snapshot. A report carries only
        new parts, so each is a new version, also when measured at the same step (after a
        Step D, D changed without a generator step)."""
        old = self.snapshot.part_steps()
        self.snapshot = self.snapshot.merged(update)
        for name, step in self.snapshot.part_steps().items():
            if step != old[name] or getattr(update, name) is not None:
                self._bump(_PART_KIND[name])

    def replace_snapshot(self, snapshot: contract.ProbeSnapshot) -> None:
        """Show ``snapshot`` as the latest; each part measured at another step (or newly
        absent) is a new version of its kind."""
        old = self.snapshot.part_steps()
        self.snapshot = snapshot
        for name, step in snapshot.part_steps().items():
            if step != old[name]:
                self._bump(_PART_KIND[name])

    def event_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.events]


# ============================================================================ texts
def marker_text(change: dict[str, Any]) -> str:
    """A change as a short label: ``{"constraints.spectral.enabled": True}`` -> "SN on"
    (``core.overrides`` names every key)."""
    return describe_change(change, MARKER)


def joined_marker_text(texts: list[str]) -> str:
    """The label of one marker for several events at one step: repeats counted, in order
    (["D step", "D step", "G step"] -> "D step ×2, G step")."""
    out: list[list] = []
    for text in texts:
        if out and out[-1][0] == text:
            out[-1][1] += 1
        else:
            out.append([text, 1])
    return ", ".join(t if n == 1 else f"{t} ×{n}" for t, n in out)


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


_STATE_TEXT = {RunState.IDLE: "idle", RunState.STARTING: "starting…",
               RunState.PAUSED: "paused", RunState.FINISHED: "finished",
               RunState.DIVERGED: "diverged", RunState.FAILED: "stopped"}
_FAULT_TEXT = {Fault.DEVICE: "the device failed", Fault.CRASHED: "the training process ended",
               Fault.ERROR: "an error stopped it"}


def fault_text(model: RunModel, run_dir: Any) -> str:
    """What happened to a run that stopped training, where it is and what the user can do
    (empty when nothing happened)."""
    if model.fault is None:
        return ""
    where = f"The run folder {run_dir}" if run_dir else "The run"
    ckpt = model.checkpoint_step
    if ckpt is None:
        kept = f"{where} has no checkpoint yet: continuing starts it over from step 0."
    else:
        kept = f"{where} keeps its last good checkpoint, at step {ckpt:,}."
    match model.fault:
        case Fault.DIVERGED:
            todo = ("Lower the learning rates or switch on a constraint, then press "
                    "“Continue from last good checkpoint”, or Reset for a new run (Play would "
                    "train the broken weights).")
        case Fault.DEVICE:
            todo = ("Lower the batch size and press “Continue from last good checkpoint”, or "
                    "Reset for a new run.")
            if model.info is not None and model.info.device != "cpu":
                todo = "Press “Continue on CPU”, or lower" + todo[len("Lower"):]
        case Fault.CRASHED:
            kept = (f"{where} keeps everything up to its last checkpoint." if run_dir else
                    "Nothing was written.")
            todo = ("Press “Continue from last good checkpoint” to resume it in a new training "
                    "process, or Reset for a new run." if run_dir else
                    "Press Reset to start again.")
        case _:
            return f"{model.problem} Fix the setting and press Play for a new run, or Reset."
    problem = model.problem if model.problem.endswith(".") else model.problem + "."
    return f"{problem} {kept} {todo}"


def status_parts(model: RunModel, cfg: Config) -> list[str]:
    """The status line of a run: step, state (or speed), device, training time. ``cfg`` is
    the config being edited (its ``run.steps`` may have changed live)."""
    state = (f"{model.rate:,.1f} steps/s" if model.state is RunState.RUNNING
             else _STATE_TEXT[model.state])
    device = model.info.device if model.info is not None else cfg.run.device
    parts = [f"step {model.step:,} / {cfg.run.steps:,}", state, f"device {device}",
             f"elapsed {_hms(model.elapsed)}"]
    if model.state is RunState.RUNNING and model.rate > 0 and cfg.run.steps > model.step:
        # at the speed measured now (the loop's last half second of steps)
        parts.append(f"about {_hms((cfg.run.steps - model.step) / model.rate)} left")
    if any("update" in e.change for e in model.events):  # Step D / Step G were used
        parts.insert(1, f"updates D {model.d_updates:,} · G {model.g_updates:,}")
    if model.state is RunState.FAILED and model.fault in _FAULT_TEXT:
        parts.append(_FAULT_TEXT[model.fault])
    return parts
