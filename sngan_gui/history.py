"""Bounded, decimating time-series storage for the plots (Qt-free).

A history keeps at most ``capacity`` points per series however many lines a run logs: a
million-line metrics.jsonl holds a few hundred kilobytes here. Lines are grouped into
buckets of ``stride`` consecutive lines (1 until the history is full; then adjacent buckets
merge and the stride doubles). Each bucket keeps, for every series, its smallest and largest
value in the order they occurred: drawn at the bucket's first and last step, so a spike that
lasted one line still reaches its height on the plot, as with pyqtgraph's own "peak"
downsampling, which does the same per pixel column. ``capacity // 2`` buckets are at least
two per pixel column of any screen, so what a plot shows is the min/max per pixel column of
every line. Until the first merge every point is a line of the file, exactly.

Lines arrive one report at a time from a live run (:meth:`append`, :meth:`extend_records`)
or a chunk of columns at a time from a file (:meth:`extend_columns`, fed by
``core.metrics_bulk``); both end in the same vectorised merge.
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


def _ordered_extremes(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows of values in time order (NaN = none): (the earlier, the later) of each row's
    minimum and maximum; NaN for a row without a number."""
    finite = np.isfinite(block)
    lo = np.where(finite, block, np.inf).argmin(axis=-1)
    hi = np.where(finite, block, -np.inf).argmax(axis=-1)
    first = np.take_along_axis(block, np.minimum(lo, hi)[..., None], -1)[..., 0]
    second = np.take_along_axis(block, np.maximum(lo, hi)[..., None], -1)[..., 0]
    empty = ~finite.any(axis=-1)
    first[empty] = np.nan
    second[empty] = np.nan
    return first, second


class History:
    def __init__(self, capacity: int = 4096):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.buckets = capacity // 2
        self.clear()

    def clear(self) -> None:
        b = self.buckets
        self._first = np.empty(b, np.float64)   # step of the bucket's first line
        self._last_step = np.empty(b, np.float64)
        self._count = np.zeros(b, np.int64)     # lines in the bucket
        self._v1: dict[str, np.ndarray] = {}    # per series: the earlier extreme
        self._v2: dict[str, np.ndarray] = {}    # the later extreme
        self._last: dict[str, float] = {}       # the newest finite value of each series
        self.nb = 0           # buckets in use
        self.stride = 1       # lines per full bucket
        self.lines = 0        # lines taken in
        self.version = 0      # bumps on every change, so views redraw only when needed
        self._rows = None     # (version, steps, bucket index, second-row mask) cache
        self._open: dict[str, list[float]] | None = None  # see append()

    # ------------------------------------------------------------------ size
    @property
    def n(self) -> int:
        """Points per series (1 per bucket of one line, 2 per bucket of several)."""
        if self.nb == 0:
            return 0
        return int(self.nb + np.count_nonzero(self._count[: self.nb] > 1))

    def __len__(self) -> int:
        return self.n

    # ------------------------------------------------------------------ taking lines in
    def append(self, step: float, values: dict[str, float]) -> None:
        """Take in one line (the live path: the open bucket's extremes are plain floats, so a
        line costs a few microseconds, not a numpy call per series)."""
        for key, value in values.items():
            if key not in self._v1:
                self._v1[key] = np.full(self.buckets, np.nan)
                self._v2[key] = np.full(self.buckets, np.nan)
            if math.isfinite(value):
                self._last[key] = value
        if not (self.nb and self._count[self.nb - 1] < self.stride):
            self._flush_open()
            if self.nb == self.buckets:
                self._merge_pairs()
            if not (self.nb and self._count[self.nb - 1] < self.stride):
                self._first[self.nb] = step
                self._count[self.nb] = 0
                self.nb += 1
                self._open = {}  # a new bucket: no numbers yet (its array cells are NaN)
        i = self.nb - 1
        self._count[i] += 1
        self._last_step[i] = step
        if self._open is None:  # its extremes so far, as floats
            self._open = {key: [float(self._v1[key][i]), float(self._v2[key][i])]
                          for key in self._v1}
        opened = self._open
        for key, x in values.items():
            if not math.isfinite(x):
                continue
            pair = opened.get(key)
            if pair is None:
                opened[key] = pair = [math.nan, math.nan]
            a, b = pair
            if not math.isfinite(a):  # the bucket's first number
                pair[0] = pair[1] = x
                continue
            lo, hi = (a, b) if a <= b else (b, a)
            if x < lo:      # a new minimum, after the maximum
                pair[0], pair[1] = hi, x
            elif x > hi:    # a new maximum, after the minimum
                pair[0], pair[1] = lo, x
        self.lines += 1
        self.version += 1

    def _flush_open(self) -> None:
        """Write the open bucket's float extremes into the arrays (before any array work)."""
        if self._open is None:
            return
        i = self.nb - 1
        for key, (a, b) in self._open.items():
            self._v1[key][i], self._v2[key][i] = a, b
        self._open = None

    def extend_records(self, records: Iterable[MetricsRecord]) -> None:
        rows = [flatten_record(rec) for rec in records]
        if len(rows) <= 16:  # a live report's few lines
            for row in rows:
                step = row.pop("step", math.nan)
                self.append(step, row)
            return
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        steps = np.array([row.get("step", math.nan) for row in rows], np.float64)
        keys.pop("step", None)  # "time" stays a column (CSV export)
        self.extend_columns(steps, {k: np.array([row.get(k, math.nan) for row in rows],
                                                np.float64) for k in keys})

    def extend_columns(self, steps: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Take in ``len(steps)`` lines at once (steps only grow; a missing series or a NaN
        is a line without that number)."""
        steps = np.asarray(steps, np.float64)
        total = len(steps)
        if total == 0:
            return
        for key, col in columns.items():
            if key not in self._v1:
                self._v1[key] = np.full(self.buckets, np.nan)
                self._v2[key] = np.full(self.buckets, np.nan)
            finite = np.flatnonzero(np.isfinite(col))
            if finite.size:
                self._last[key] = float(col[finite[-1]])
        self._flush_open()
        nan = np.full(total, np.nan)
        cols = {key: np.asarray(columns.get(key, nan), np.float64) for key in self._v1}
        done = self._fill_open_bucket(steps, cols)
        while done < total:
            done += self._add_buckets(steps[done:], {k: c[done:] for k, c in cols.items()})
        self.lines += total
        self.version += 1

    def _fill_open_bucket(self, steps: np.ndarray, cols: dict[str, np.ndarray]) -> int:
        """Put the first lines into the last bucket while it has room; returns how many."""
        if self.nb == 0 or self._count[self.nb - 1] >= self.stride:
            return 0
        i = self.nb - 1
        k = int(min(self.stride - self._count[i], len(steps)))
        for key, col in cols.items():
            block = np.concatenate(([self._v1[key][i], self._v2[key][i]], col[:k]))
            a, b = _ordered_extremes(block[None, :])
            self._v1[key][i], self._v2[key][i] = a[0], b[0]
        self._last_step[i] = steps[k - 1]
        self._count[i] += k
        return k

    def _add_buckets(self, steps: np.ndarray, cols: dict[str, np.ndarray]) -> int:
        """Start new buckets with the lines (merging old ones first where they would not
        fit); returns how many lines went in."""
        w = self.stride
        while self.nb + -(-len(steps) // w) > self.buckets:
            self._merge_pairs()
            if self.nb and self._count[self.nb - 1] < self.stride:
                return self._fill_open_bucket(steps, cols)
            w = self.stride
        full, rest = divmod(len(steps), w)
        new = full + (1 if rest else 0)
        lo, hi = self.nb, self.nb + new
        padded = new * w
        idx = np.arange(new)
        self._first[lo:hi] = steps[idx * w]
        self._last_step[lo:hi] = steps[np.minimum(idx * w + w - 1, len(steps) - 1)]
        self._count[lo:hi] = w
        if rest:
            self._count[hi - 1] = rest
        for key, col in cols.items():
            block = np.full(padded, np.nan)
            block[: len(col)] = col
            a, b = _ordered_extremes(block.reshape(new, w))
            self._v1[key][lo:hi], self._v2[key][lo:hi] = a, b
        self.nb = hi
        return len(steps)

    def _merge_pairs(self) -> None:
        """Halve the buckets: each two adjacent ones become one; the stride doubles."""
        self._flush_open()
        nb = self.nb
        pairs, odd = divmod(nb, 2)
        m = pairs + odd
        left = np.arange(0, nb, 2)
        right = np.minimum(left + 1, nb - 1)
        has_right = (left + 1) < nb
        self._first[:m] = self._first[left]
        self._last_step[:m] = np.where(has_right, self._last_step[right], self._last_step[left])
        self._count[:m] = self._count[left] + np.where(has_right, self._count[right], 0)
        for key in self._v1:
            v1, v2 = self._v1[key], self._v2[key]
            r1 = np.where(has_right, v1[right], np.nan)
            r2 = np.where(has_right, v2[right], np.nan)
            a, b = _ordered_extremes(np.stack([v1[left], v2[left], r1, r2], axis=1))
            v1[:m], v2[:m] = a, b
            v1[m:], v2[m:] = np.nan, np.nan
        self._count[m:] = 0
        self.nb = m
        self.stride *= 2

    def truncate_after(self, step: float) -> None:
        """Drop the lines after ``step`` (steps only grow), e.g. when a run goes back to a
        checkpoint. A bucket that also holds lines after ``step`` goes too: its extremes
        cannot be split (before the first merge every bucket is one line, so this is exact)."""
        self._flush_open()
        keep = int(np.searchsorted(self._last_step[: self.nb], step, side="right"))
        if keep != self.nb:
            self._count[keep:] = 0
            for key in self._v1:
                self._v1[key][keep:] = np.nan
                self._v2[key][keep:] = np.nan
            self.nb = keep
            self._last = {}
            for key in self._v1:  # the newest value still held
                vals = np.concatenate([self._v1[key][:keep, None], self._v2[key][:keep, None]],
                                      axis=1).ravel()
                finite = np.flatnonzero(np.isfinite(vals))
                if finite.size:
                    self._last[key] = float(vals[finite[-1]])
            self.version += 1

    # ------------------------------------------------------------------ reading
    def _layout(self):
        self._flush_open()
        if self._rows is None or self._rows[0] != self.version:
            nb = self.nb
            count = self._count[:nb]
            per = 1 + (count > 1)
            bucket = np.repeat(np.arange(nb), per)
            second = np.zeros(len(bucket), bool)
            second[np.cumsum(per) - 1] = count > 1
            steps = np.where(second, self._last_step[bucket], self._first[bucket])
            self._rows = (self.version, steps, bucket, second)
        return self._rows

    @property
    def steps(self) -> np.ndarray:
        return self._layout()[1]

    def column(self, key: str) -> np.ndarray:
        _, steps, bucket, second = self._layout()
        if key not in self._v1:
            return np.full(len(steps), np.nan)
        return np.where(second, self._v2[key][bucket], self._v1[key][bucket])

    def columns_with_prefix(self, prefix: str) -> list[str]:
        return [k for k in self._v1 if k.startswith(prefix)]

    def last(self, key: str) -> float:
        """The newest number of a series (the last line's, not a bucket's extreme)."""
        return self._last.get(key, math.nan)


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
