"""Where a training step's time goes: a lap timer the trainer calls at phase boundaries.

Phases (per generator step, summed over its critic steps):
- ``data``: drawing real samples and noise;
- ``g_step``: the generator forward that makes the fake batch, and the generator update
  (D forward on the fakes, backward, optimizer step);
- ``d_step``: the critic forward on real and fake, its loss, backward and optimizer step.
  The backward of a gradient penalty and of the layer constraints' W / sigma(W) runs inside
  this one backward, so that share of their cost is counted here;
- ``constraint``: the constraints' own work outside that backward: power iteration, computing
  the constrained weights (once per step, cached), the penalty's forward and input-gradient
  pass, clipping after the optimizer step.
Probe time is measured by the session (``probe``).

On the CPU a lap is one ``time.perf_counter`` call and a dict update (well under a microsecond;
ops are synchronous, so the laps are exact). On CUDA a lap records a ``torch.cuda.Event`` (no
synchronization); the events are resolved when the totals are read (once per log line), or
when too many have piled up. A disabled timer does nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict

import torch

PHASES = ("data", "g_step", "d_step", "constraint")
_MAX_PENDING_EVENTS = 4096


class PhaseTimer:
    def __init__(self, device: torch.device | str = "cpu", enabled: bool = True):
        self.device = torch.device(device)
        self.enabled = enabled
        self.cuda = self.device.type == "cuda"
        self.totals: dict[str, float] = defaultdict(float)
        self.steps = 0
        self._last = 0.0
        self._events: list[tuple[str, object]] = []

    def _mark(self, name: str | None) -> None:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self._events.append((name, event))
            if len(self._events) > _MAX_PENDING_EVENTS:
                self._resolve(keep_last=True)
        else:
            now = time.perf_counter()
            if name is not None:
                self.totals[name] += now - self._last
            self._last = now

    def start(self) -> None:
        """Start of a generator step."""
        if self.enabled:
            self.steps += 1
            self._mark(None)

    def lap(self, name: str) -> None:
        """The time since the previous mark belongs to phase ``name``."""
        if self.enabled:
            self._mark(name)

    def _resolve(self, keep_last: bool = False) -> None:
        events = self._events
        if not events:
            return
        events[-1][1].synchronize()
        for (_, a), (name, b) in zip(events, events[1:]):
            if name is not None:
                self.totals[name] += a.elapsed_time(b) / 1000.0
        self._events = events[-1:] if keep_last else []

    def read(self, reset: bool = True) -> tuple[dict[str, float], int]:
        """(seconds per phase, generator steps) since the last reset."""
        if self.cuda:
            self._resolve()
        totals = {name: self.totals.get(name, 0.0) for name in PHASES}
        steps = self.steps
        if reset:
            self.totals = defaultdict(float)
            self.steps = 0
        return totals, steps
