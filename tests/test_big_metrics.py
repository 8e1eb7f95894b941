"""Issue 19, defect 4: a big metrics.jsonl is read in bulk (core.metrics_bulk) into a bounded
min/max history (sngan_gui.history) with the numbers the line-by-line reader gives; the
window reads it in the background (tests/gui/test_gui_big_run.py)."""

from __future__ import annotations

import json
import math

import numpy as np

from core import config as C
from core.cli import train_main
from core.metrics_bulk import read_columns
from core.runreader import RunReader, metrics_record
from sngan_gui.history import History, flatten_record
from tests.helpers import tiny_2d


def _run(tmp_path, steps=100):
    cfg = tmp_path / "cfg.toml"
    C.save(tiny_2d(run__log_every=2, run__probe_every=20), cfg)
    out = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(out), "--steps", str(steps),
                       "--no-progress", "--change", "50:constraints.clip.enabled=true"]) == 0
    return out


def _line_by_line(path):
    """{series: values} and steps as the app's live path flattens each record."""
    reader = RunReader(path.parent)
    rows = [flatten_record(metrics_record(m)) for m in reader.poll().metrics]
    keys = {k for r in rows for k in r if k != "step"}
    return (np.array([r["step"] for r in rows]),
            {k: np.array([r.get(k, math.nan) for r in rows]) for k in keys})


def _joined(path, **kw):
    chunks = list(read_columns(path, **kw))
    keys = {k for c in chunks for k in c.columns}
    steps = np.concatenate([c.steps for c in chunks])
    cols = {k: np.concatenate([c.columns.get(k, np.full(len(c.steps), np.nan))
                               for c in chunks]) for k in keys}
    return steps, cols, chunks


def test_bulk_columns_are_the_line_by_line_numbers(tmp_path):
    path = _run(tmp_path) / "metrics.jsonl"
    steps, cols = _line_by_line(path)
    for chunk_bytes in (1 << 18, 1000):  # one chunk, and many cut mid-line
        got_steps, got, chunks = _joined(path, chunk_bytes=chunk_bytes)
        np.testing.assert_array_equal(got_steps, steps)
        for key, values in cols.items():
            if np.isnan(values).all():  # a field that is null on every line: no series
                assert key not in got or np.isnan(got[key]).all()
                continue
            np.testing.assert_array_equal(got[key], values, err_msg=key)
        assert set(got) <= set(cols)
        assert chunks[-1].end == path.stat().st_size and chunks[-1].lines == len(steps)
        assert chunks[-1].fraction == 1.0
    assert "clip_share.fc1" in cols and "sigma.fc1" in cols and "modes" in cols


def test_bad_lines_are_named_and_a_partial_last_line_waits(tmp_path):
    path = tmp_path / "metrics.jsonl"
    good = {"step": 1, "time": 0.1, "loss_d": 1.0, "loss_g": 2.0, "d_real": 0.5, "d_fake": -0.5,
            "sigma": {"fc1": 2.0}}
    lines = [json.dumps(good), "not json", json.dumps({**good, "step": 2.5}),
             json.dumps({"step": 3}), json.dumps({**good, "step": 4, "loss_d": None})]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"step": 5, "ti')
    steps, cols, chunks = _joined(path)
    np.testing.assert_array_equal(steps, [1, 4])
    assert np.isnan(cols["loss_d"][1]) and cols["sigma.fc1"].tolist() == [2.0, 2.0]
    problems = [str(p) for c in chunks for p in c.problems]
    assert problems == [
        f"{path} line 2 is not valid JSON (Expecting value)",
        f"{path} line 3 has no integer 'step' (got 2.5)",
        f"{path} line 4 has no d_fake, d_real, loss_d, loss_g, time"]
    assert chunks[-1].end == len(("\n".join(lines) + "\n").encode())  # the torn line waits
    assert chunks[-1].lines == 5


def test_history_keeps_every_spike_in_bounded_memory():
    h = History(capacity=256)
    n = 1_000_000
    steps = np.arange(1, n + 1) * 10.0
    y = np.sin(steps / 3e5)
    y[123_457] = 40.0   # one line's spike
    y[876_543] = -30.0  # and one dip
    for lo in range(0, n, 65_536):
        h.extend_columns(steps[lo:lo + 65_536], {"loss_d": y[lo:lo + 65_536]})
    assert h.lines == n and len(h) <= 256 and h.stride >= n // 128
    col = h.column("loss_d")
    assert col.max() == 40.0 and col.min() == -30.0
    # each point is a real line's (step, value) range: its value lies in the bucket's span
    assert np.all(np.diff(h.steps) > 0) and h.steps[0] == 10.0 and h.steps[-1] == n * 10.0
    assert h.last("loss_d") == y[-1]
    # the same history as one line at a time
    g = History(capacity=256)
    for s, v in zip(steps[:50_000], y[:50_000]):
        g.append(s, {"loss_d": v})
    f = History(capacity=256)
    f.extend_columns(steps[:50_000], {"loss_d": y[:50_000]})
    np.testing.assert_array_equal(g.steps, f.steps)
    np.testing.assert_array_equal(g.column("loss_d"), f.column("loss_d"))


def test_history_is_exact_until_it_is_full_and_truncates():
    h = History(capacity=64)
    for i in range(1, 33):
        h.append(i * 10, {"a": float(i), "b": math.nan if i % 2 else -i})
    assert h.stride == 1 and list(h.steps) == [i * 10 for i in range(1, 33)]
    assert list(h.column("a")) == list(range(1, 33))
    h.truncate_after(155)
    assert list(h.steps) == [i * 10 for i in range(1, 16)] and h.last("b") == -14
    for i in range(16, 200):
        h.append(i * 10, {"a": float(-i if i == 150 else i)})
    assert h.stride > 1 and h.column("a").min() == -150 and h.column("a").max() == 199
