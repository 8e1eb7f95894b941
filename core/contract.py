"""What flows between the engine and any front end, defined once as frozen dataclasses.

- :class:`MetricsRecord`: one line of ``metrics.jsonl`` (docs/run-folder.md, "Metrics fields").
- :class:`ProbeSnapshot`: the latest probe arrays a front end draws (spectra, histograms, the
  2D landscape, the image grid), in parts that each carry the step they were measured at.
- :class:`RunInfo`: a run's identity (folder, device, D's layers, data kind).
- :class:`Event`: one applied change (a line of ``events.jsonl``).
- Commands (app -> training loop) and reports (training loop -> app) of :mod:`core.runloop`.

Every value is plain Python / numpy data (never a live tensor), so each object can be pickled
to another process and read on another thread. A misspelt field fails loudly: an unknown
attribute raises ``AttributeError``, an unknown key in :meth:`MetricsRecord.from_dict`
raises ``KeyError``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

# Exit statuses of the command line (docs/command-line.md, "Headless training").
EXIT_BAD_INPUT = 2   # one clear line names the problem; nothing half-written
EXIT_DIVERGED = 3    # the run folder keeps its last good checkpoint
EXIT_DEVICE = 4      # the device failed (e.g. out of memory); the last good checkpoint is kept
EXIT_INTERRUPTED = 130  # Ctrl-C: final line and checkpoint written, resumable
EXIT_TERMINATED = 143   # SIGTERM: likewise


# ============================================================================ metrics
@dataclass(frozen=True)
class MetricsRecord:
    """One logged step: the fields of ``metrics.jsonl`` (docs/run-folder.md, "Metrics fields")."""

    step: int
    time: float
    loss_d: float | None  # None: no D update since the previous line (only Step G)
    loss_g: float | None
    d_real: float | None
    d_fake: float | None
    sigma: dict[str, float] = field(default_factory=dict)
    sigma_raw: dict[str, float] = field(default_factory=dict)
    linf: dict[str, float] = field(default_factory=dict)
    conv_norm: dict[str, float] = field(default_factory=dict)
    lip_bound: float | None = None
    lip_bound_note: str | None = None
    lip_grad: float | None = None
    lip_grad_real: float | None = None
    lip_grad_fake: float | None = None
    lip_grad_interp: float | None = None
    lip_grad_mean_interp: float | None = None
    modes: int | None = None  # 2D data, slow-probe lines
    hq: float | None = None
    time_split_ms: dict[str, float] | None = None
    probe_time_share: float | None = None
    clip_share: dict[str, float] | None = None  # while clipping is on: weights within 1 % of +-c
    # Image data, slow-probe lines and the last line (docs/image-quality.md; core/quality/):
    # distances in the dataset scorer's features, its classes, precision/recall/density/coverage
    fd: float | None = None
    kid: float | None = None
    kid_std: float | None = None
    classes: int | None = None
    class_kl: float | None = None
    confidence: float | None = None
    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None
    mode_kl: float | None = None        # stacked data (with ``modes`` of 1,000)
    modes_n: int | None = None          # stacked data: samples ``modes`` was counted on
    quality_n: int | None = None        # G's samples scored (as many held-out real images)
    quality_floor: dict[str, float] | None = None    # held-out real vs train real, same N
    quality_ceiling: dict[str, float] | None = None  # an untrained G's samples, same N
    quality_scorer: str | None = None   # which scorer, its accuracy and feature size
    # optimizer updates of D and of G since the run began (Step D / Step G move one alone)
    d_updates: int | None = None
    g_updates: int | None = None
    instance_noise_std: float | None = None  # σ of the last update's instance noise; None: off
    lip_grad_mean_perturbed: float | None = None  # mean ||grad D|| at DRAGAN's perturbed points
    # quality.parzen: the Parzen-window log-likelihood of held-out images (nats per image),
    # its standard error, and the kernel width chosen on the validation split
    parzen_ll: float | None = None
    parzen_se: float | None = None
    parzen_sigma: float | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "MetricsRecord":
        unknown = set(raw) - _RECORD_FIELDS
        if unknown:
            raise KeyError(f"metrics record has unknown fields: {', '.join(sorted(unknown))}")
        return cls(**raw)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(MetricsRecord))


@dataclass(frozen=True)
class Event:
    """An applied change: ``{"step", "time", "change"}`` as in ``events.jsonl`` (plus ``note``
    when set). A manual single update is ``change = {"update": "D"}`` or ``{"update": "G"}``
    (Step D / Step G), not a config key."""

    step: int
    time: float
    change: dict[str, Any]
    note: str | None = None  # what the change did beyond its value (an optimizer switch)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Event":
        note = raw.get("note")
        return cls(step=int(raw["step"]), time=float(raw["time"]), change=dict(raw["change"]),
                   note=None if note is None else str(note))

    def to_dict(self) -> dict[str, Any]:
        out = {"step": self.step, "time": self.time, "change": dict(self.change)}
        if self.note is not None:
            out["note"] = self.note
        return out


# ============================================================================ snapshot
@dataclass(frozen=True)
class FastProbe:
    """From the probes of a log line: each layer's top singular value (exact on slow-probe
    lines), each conv layer's true operator norm, and for 2D data the gradient of D at
    generated points, ``arrows`` [m, 4] = (x, y, dx, dy)."""

    step: int
    sigma: dict[str, float]
    conv_norm: dict[str, float]
    arrows: np.ndarray | None = None


@dataclass(frozen=True)
class Histogram:
    counts: np.ndarray  # [bins] int64
    edges: np.ndarray   # [bins + 1]


@dataclass(frozen=True)
class Spectra:
    """All singular values of each D layer's effective weight matrix (descending, float64)
    and the histogram of its effective weights."""

    step: int
    singular_values: dict[str, np.ndarray]
    histograms: dict[str, Histogram]


@dataclass(frozen=True)
class Landscape:
    """2D data: D's value on a grid (``values[i, j]`` is D at ``(x[j], y[i])``, eval mode),
    G's samples on the held-out noise and their mode coverage (as ``modes`` / ``hq`` of the
    metrics)."""

    step: int
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    extent: tuple[float, float, float, float]
    samples: np.ndarray      # [N, 2]
    modes: int
    hq: float
    mode_counts: np.ndarray  # [K] high-quality samples per mode


@dataclass(frozen=True)
class SampleGrid:
    """Image data: G's samples on the fixed noise, the pixels of ``samples/step_*.png``."""

    step: int
    pixels: np.ndarray  # uint8 [H, W, C]


SNAPSHOT_PARTS = ("fast", "spectra", "landscape", "samples")


@dataclass(frozen=True)
class ProbeSnapshot:
    """The latest probe results. A part is None until first measured; in a report it is
    None also when it has not changed since the previous report (see :meth:`changes_since`,
    :meth:`merged`)."""

    step: int | None = None        # of the latest fast probe (log line)
    slow_step: int | None = None   # of the latest slow probe
    time_split_ms: dict[str, float] | None = None
    fast: FastProbe | None = None
    spectra: Spectra | None = None
    landscape: Landscape | None = None
    samples: SampleGrid | None = None

    def part_steps(self) -> dict[str, int | None]:
        """The step of each part (None when absent): what identifies its data."""
        return {name: getattr(getattr(self, name), "step", None) for name in SNAPSHOT_PARTS}

    def changes_since(self, previous: "ProbeSnapshot | None") -> "ProbeSnapshot | None":
        """This snapshot with every part that ``previous`` already had set to None; None when
        no part is new (the scalars alone are not news)."""
        if previous is None:
            return self if any(self.part_steps().values()) or self.step is not None else None
        new = {name: getattr(self, name) for name in SNAPSHOT_PARTS
               if getattr(self, name) is not getattr(previous, name)}
        if not new:
            return None
        return dataclasses.replace(self, **{n: new.get(n) for n in SNAPSHOT_PARTS})

    def merged(self, update: "ProbeSnapshot") -> "ProbeSnapshot":
        """``update``'s scalars and parts, keeping this snapshot's parts where it has none."""
        parts = {n: getattr(update, n) or getattr(self, n) for n in SNAPSHOT_PARTS}
        return dataclasses.replace(update, **parts)


# ============================================================================ run identity
@dataclass(frozen=True)
class RunInfo:
    """Who a run is: its folder, device, D's constrained layers (qualified module names, in
    order), data kind, and for 2D data the mixture's modes."""

    run_dir: str
    device: str
    layers: tuple[str, ...]
    kind: str  # "2d" | "image"
    mode_centres: np.ndarray | None = None  # [K, 2]
    mode_std: float | None = None


# ============================================================================ commands
@dataclass(frozen=True)
class Play:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    count: int = 1


@dataclass(frozen=True)
class StepD:
    """One update of D alone (no generator step), then pause; an event marks it."""


@dataclass(frozen=True)
class StepG:
    """One update of G alone (a generator step without critic steps), then pause."""


@dataclass(frozen=True)
class Change:
    """A live config change (``core.config.is_live``), applied between training steps."""

    key: str
    value: Any


@dataclass(frozen=True)
class PauseAt:
    """Pause once the run has taken generator step ``step`` (None: no such pause). A step
    the run has reached already is refused with a message."""

    step: int | None


@dataclass(frozen=True)
class ScheduleChange:
    """A live config change applied before generator step ``step + 1``, as
    ``train --change STEP:KEY=VALUE`` (stored in the run's ``schedule.json``, so a resumed
    run applies it too; the event it writes is the same)."""

    step: int
    key: str
    value: Any


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Continue:
    """After a divergence or a device failure: go on from the run's last good checkpoint in
    the same run folder (``TrainingSession.continue_from_checkpoint``), on ``device`` (None:
    the run's own) and with ``settings`` (live keys -> values; those that differ from the
    checkpoint's config are applied as changes before its first step, and recorded as
    events)."""

    device: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


Command = Union[Play, Pause, Step, StepD, StepG, Change, PauseAt, ScheduleChange, Stop,
                Continue]


# ============================================================================ reports
@dataclass(frozen=True)
class RunStarted:
    info: RunInfo


@dataclass(frozen=True)
class RunProgress:
    """Sent at most at the loop's report rate, plus once per state change."""

    step: int
    running: bool        # training (playing, or steps left to do)
    rate: float          # steps/s
    elapsed: float       # training seconds of the run
    done: bool           # the run reached run.steps
    records: tuple[MetricsRecord, ...] = ()   # logged since the previous report
    events: tuple[Event, ...] = ()            # applied since the previous report
    snapshot: ProbeSnapshot | None = None     # only the parts new since the previous one
    d_updates: int = 0   # optimizer updates of D / of G since the run began
    g_updates: int = 0


@dataclass(frozen=True)
class RunMessage:
    level: str  # "info" | "warning"
    text: str


@dataclass(frozen=True)
class RunDiverged:
    """Losses stopped being finite; the loop is paused, the last good checkpoint kept."""

    text: str
    step: int
    checkpoint_dir: str
    checkpoint_step: int | None = None  # None: no checkpoint yet (continuing starts over)


@dataclass(frozen=True)
class RunDeviceFailed:
    """The device failed in a step (e.g. out of memory): the loop is paused, the last good
    checkpoint kept; continue with :class:`Continue` (e.g. on the CPU or a smaller batch).
    ``text`` is the engine's one-line message."""

    text: str
    step: int
    device: str
    reason: str  # "out of memory" | "device error"
    checkpoint_dir: str
    checkpoint_step: int | None = None


@dataclass(frozen=True)
class RunContinued:
    """The run goes on from its checkpoint at ``step`` (after :class:`Continue`, or a run
    loop started on an existing run folder): a front end drops what it holds after that
    step; ``info`` may name another device."""

    info: RunInfo
    step: int


@dataclass(frozen=True)
class RunFailed:
    """Training cannot go on: bad input, an exception, or the training process died
    (``exit_code`` set by whoever noticed it)."""

    text: str
    exit_code: int | None = None


@dataclass(frozen=True)
class DownloadProgress:
    """A dataset is being prepared; ``done is None`` once that is over."""

    done: int | None
    total: int | None
    label: str = ""


@dataclass(frozen=True)
class RunFinished:
    """Always the last report: the run folder has its final log line and checkpoint."""


Report = Union[RunStarted, RunProgress, RunMessage, RunDiverged, RunDeviceFailed, RunContinued,
               RunFailed, DownloadProgress, RunFinished]
