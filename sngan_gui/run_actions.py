"""What a run can do next, from plain facts about it (Qt-free, tested without a window).

Every run the window holds gets the same actions, whatever it came from (made in the app, an
A/B duplicate, a folder opened from disk): Play and Step train it (a new run starts, a stopped
one with a folder is resumed from its last checkpoint, one whose process lives gets the
command), Pause stops a training one, and after a fault (diverged, device failed, training
process ended) it continues from its last good checkpoint. :func:`run_actions` says which
apply now and, for those that do not, why (one line, shown as the control's tooltip).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .run_model import Fault, RunState


@dataclass(frozen=True)
class RunFacts:
    """What the actions depend on, gathered by the run."""

    state: RunState
    fault: Fault | None
    can_continue: bool          # RunModel.can_continue
    device: str | None          # where it trained last (None: never started)
    made_here: bool             # started by this app (else opened from a folder)
    process: bool               # a training process of this app runs it now
    playing: bool               # Play is pressed for it
    folder: Path | None
    last_step: int | None       # the last logged step (None: nothing logged)
    steps: int                  # run.steps as the run's settings say now
    checkpoint: bool            # its folder holds a checkpoint
    writer: str | None          # the other process that holds its folder's writer lock


@dataclass(frozen=True)
class RunActions:
    """Which actions apply to a run now; each ``str`` is "" when it applies, else why not."""

    play: str
    step: str
    pause: bool
    resume: str
    halted: bool         # a fault stopped it: Play and Step stay off until it continues
    continue_run: bool   # "Continue from last good checkpoint"
    continue_cpu: bool   # "Continue on CPU" (it failed on another device)


HALTING = (Fault.DIVERGED, Fault.DEVICE, Fault.CRASHED)


def resume_reason(f: RunFacts) -> str:
    """"" when the run can go on from its folder's last checkpoint, else why not."""
    if f.folder is None:
        return "it has no run folder"
    if f.last_step is not None and f.last_step >= f.steps:
        return f"it is finished ({f.steps} steps)"
    if f.process:
        return "it is training"
    if not f.checkpoint:
        return f"{f.folder} has no checkpoint"
    if f.writer:
        return f"{f.writer} is writing it"
    return ""


def run_actions(f: RunFacts) -> RunActions:
    halted = f.fault in HALTING
    if halted:
        play = ("it diverged: continue from the last good checkpoint (Play would train the "
                "broken weights)" if f.fault is Fault.DIVERGED else
                "it stopped: continue from the last good checkpoint")
    elif f.process:
        play = (f"it is finished ({f.steps} steps)" if f.state is RunState.FINISHED
                and f.last_step is not None and f.last_step >= f.steps else "")
    elif f.made_here and (f.folder is None or f.fault is Fault.ERROR):
        play = ""  # a new run (or one whose start failed) starts
    else:
        play = resume_reason(f)
    step = play or ("it is training" if f.playing else "")
    can_continue = f.can_continue and f.folder is not None
    return RunActions(
        play=play, step=step, pause=f.process and (f.playing or f.state is RunState.RUNNING),
        resume=resume_reason(f), halted=halted, continue_run=can_continue,
        continue_cpu=can_continue and f.fault is Fault.DEVICE and f.device not in (None, "cpu"))
