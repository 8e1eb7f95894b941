"""Bounded, decimating time-series storage for the plots (Qt-free).

Each series keeps at most ``capacity`` rows: when full, every other row is dropped and from then
on only every ``stride``-th new row is kept, so memory stays flat over arbitrarily long runs
while the curve keeps its shape end to end (scrolling plots in pyqtgraph's examples use the
same preallocated-buffer idea).
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from core.contract import MetricsRecord


def flatten_record(record: MetricsRecord) -> dict[str, float]:
    """``loss_d=1, sigma={"net.fc0": 2}`` -> ``{"loss_d": 1, "sigma.net.fc0": 2}`` (numbers
    only, None as NaN; other values are skipped)."""
    out: dict[str, float] = {}
    for key, value in vars(record).items():
        if isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[f"{key}.{sub}"] = float(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
        elif value is None:
            out[key] = math.nan
    return out


class History:
    def __init__(self, capacity: int = 4096):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self._steps = np.empty(self.capacity, dtype=np.float64)
        self._cols: dict[str, np.ndarray] = {}
        self.n = 0
        self.stride = 1
        self._seen = 0
        self.version = 0  # bumps on every change, so views redraw only when needed

    def __len__(self) -> int:
        return self.n

    def append(self, step: float, values: dict[str, float]) -> None:
        self._seen += 1
        if (self._seen - 1) % self.stride:
            return
        if self.n == self.capacity:
            half = self.capacity // 2
            self._steps[:half] = self._steps[0::2]
            for col in self._cols.values():
                col[:half] = col[0::2]
            self.n = half
            self.stride *= 2
        for key in values:
            if key not in self._cols:
                col = np.empty(self.capacity, dtype=np.float64)
                col[: self.n] = np.nan
                self._cols[key] = col
        i = self.n
        self._steps[i] = step
        for key, col in self._cols.items():
            col[i] = values.get(key, math.nan)
        self.n += 1
        self.version += 1

    def truncate_after(self, step: float) -> None:
        """Drop the rows after ``step`` (steps only grow), e.g. when a run goes back to a
        checkpoint."""
        n = int(np.searchsorted(self._steps[: self.n], step, side="right"))
        if n != self.n:
            self.n = n
            self.version += 1

    def extend_records(self, records: Iterable[MetricsRecord]) -> None:
        for rec in records:
            flat = flatten_record(rec)
            step = flat.pop("step", math.nan)
            self.append(step, flat)  # "time" stays a column (CSV export)

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self.n]

    def column(self, key: str) -> np.ndarray:
        col = self._cols.get(key)
        if col is None:
            return np.full(self.n, np.nan)
        return col[: self.n]

    def columns_with_prefix(self, prefix: str) -> list[str]:
        return [k for k in self._cols if k.startswith(prefix)]

    def last(self, key: str) -> float:
        col = self.column(key)
        finite = col[np.isfinite(col)]
        return float(finite[-1]) if finite.size else math.nan


def smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Centered-free trailing moving average that ignores NaN (window 1 = unchanged)."""
    if window <= 1 or y.size == 0:
        return y
    finite = np.isfinite(y)
    vals = np.where(finite, y, 0.0)
    c = np.cumsum(np.insert(vals, 0, 0.0))
    k = np.cumsum(np.insert(finite.astype(np.float64), 0, 0.0))
    idx = np.arange(1, y.size + 1)
    lo = np.maximum(idx - window, 0)
    count = k[idx] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (c[idx] - c[lo]) / count
    out[count == 0] = np.nan
    return out
