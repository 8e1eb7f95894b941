"""Fresher probe arrays for a front end between the engine's own cadences (Qt-free).

The run loop (:mod:`core.runloop`) asks :class:`LiveProbes` between training steps for the
image grid or 2D landscape and the spectra/histograms a front end draws, and sends only the
snapshot parts that are new since its previous report.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from .contract import ProbeSnapshot

# The share of training time that refreshing the drawn probe arrays between the engine's own
# cadences may take, all kinds together.
REFRESH_BUDGET = 0.03
SNAPSHOT_MIN_INTERVAL = 0.25    # s between snapshots in reports
# The fastest each on-demand refresh runs, in seconds: what a panel showing it can use.
REFRESH_MIN_INTERVAL = {"samples": 1.0, "landscape": 0.4, "spectra": 1.0}


class LiveProbes:
    """Fresher probe arrays for a front end between the engine's cadences.

    The image grid or 2D landscape and the spectra/histograms are re-measured on demand (the
    same measurements as the slow probes, so every number keeps its metrics meaning; eval mode,
    no random draws: training is untouched), each kind at most every
    ``REFRESH_MIN_INTERVAL[kind]`` seconds, and all of them together within ``budget`` of the
    time: after a refresh that took c seconds the next one waits c / budget.
    """

    def __init__(self, session, budget: float = REFRESH_BUDGET):
        self.session = session
        self.budget = budget
        self._last: dict[str, float] = {}
        self._next_refresh = 0.0  # perf_counter time before which the budget is spent
        self._last_take = -1e9
        self._sent: ProbeSnapshot | None = None
        self._invalid: set[str] = set()  # kinds stale at the same step (after a Step D)

    def invalidate(self) -> None:
        """Every kind is stale even at the same step (D changed without a generator step)."""
        self._invalid = set(REFRESH_MIN_INTERVAL)

    def _refresh(self, kinds: list[tuple[str, Callable[[], Any], int | None]],
                 force: bool) -> None:
        """Refresh every kind not measured at this step when ``force``; else the one that
        waited longest among those due, if the budget allows."""
        step = self.session.trainer.step_count
        stale = [(kind, measure) for kind, measure, measured in kinds
                 if measured != step or kind in self._invalid]
        now = time.perf_counter()
        if not force:
            if now < self._next_refresh:
                return
            due = [(self._last.get(kind, -1e9), kind, measure) for kind, measure in stale
                   if now - self._last.get(kind, -1e9) >= REFRESH_MIN_INTERVAL[kind]]
            stale = [(kind, measure) for _, kind, measure in sorted(due)[:1]]
        for kind, measure in stale:
            measure()
            self._last[kind] = time.perf_counter()
            self._invalid.discard(kind)
        end = time.perf_counter()
        if stale:
            self._next_refresh = end + (end - now) / self.budget

    def snapshot_due(self) -> bool:
        return time.perf_counter() - self._last_take >= SNAPSHOT_MIN_INTERVAL

    def take(self, force: bool = False) -> ProbeSnapshot | None:
        """The parts of the latest snapshot that are new since the previous call (refreshing
        what is due first), or None when nothing is new."""
        self._last_take = time.perf_counter()
        prober = self.session.prober
        steps = prober.snapshot().part_steps()
        view = (("samples", prober.samples) if self.session.trainer.is_image
                else ("landscape", prober.landscape))
        self._refresh([(*view, steps[view[0]]), ("spectra", prober.spectra, steps["spectra"])],
                      force)
        snap = prober.snapshot()
        update = snap.changes_since(self._sent)
        self._sent = snap
        return update
