"""Issue 19, defect 4 in the window: a run whose metrics.jsonl is big is read in the
background with its progress in the run list, into a bounded min/max history; lines appended
afterwards are followed as usual, and a rewritten big file is read in the background again.
(benchmarks/open_big_run.py measures a million lines.)"""

from __future__ import annotations

import json

import numpy as np

from core import config as C
from sngan_gui.compare import disk_run
from conftest import open_window as _window
from tests.gui.test_compare_runs import _close
from tests.helpers import tiny_2d


def _lines(start, stop, spike_at=None):
    out = []
    for i in range(start, stop):
        loss = 100.0 if i == spike_at else 0.5 + 0.1 * np.sin(i / 50)
        out.append(json.dumps({"step": i * 10, "time": i * 0.01, "loss_d": loss, "loss_g": 1.0,
                               "d_real": 0.5, "d_fake": -0.5, "sigma": {"fc1": 1.0 + i / 1e4},
                               "lip_bound": 2.0, "lip_grad": 1.0}))
    return "\n".join(out) + "\n"


def test_a_big_run_is_read_in_the_background_and_followed_on(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(disk_run, "BULK_BYTES", 20_000)  # ~100 lines: the test stays small
    run = tmp_path / "big"
    run.mkdir()
    C.save(tiny_2d(run__steps=1_000_000), run / "config.toml")
    (run / "metrics.jsonl").write_text(_lines(1, 20_001, spike_at=12_345))  # ~4 MB
    w = _window(qtbot)
    key = w.compare.open_run(run)
    entry = w.compare.runs.entry(key)
    disk = entry.source.disk
    assert disk.loading  # open_run() returned at once; the file is read meanwhile
    assert entry.status.startswith("reading ")
    qtbot.waitUntil(lambda: not disk.loading and entry.status == "following", timeout=60000)
    h = disk.model.history
    assert h.lines == 20_000 and len(h) <= h.capacity and h.stride > 1
    assert h.column("loss_d").max() == 100.0  # the one-line spike survives decimation
    w.refresh_all()
    x, y = w.loss.curves["loss_d"].getOriginalDataset()
    assert len(x) == len(h) and np.nanmax(y) == 100.0
    assert w.loss.curves["loss_d"].opts["pen"].widthF() == 1.0  # dense: a 1 px pen
    # appended lines are followed line by line
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(_lines(20_001, 20_011))
    qtbot.waitUntil(lambda: disk.model.history.lines == 20_010, timeout=10000)
    assert disk.model.step == 20_010 * 10
    # rewritten (a resume trimmed it by a rename) and still big: read in the background again
    tmp = run / "metrics.jsonl.new"
    tmp.write_text(_lines(1, 15_001))
    tmp.replace(run / "metrics.jsonl")
    qtbot.waitUntil(lambda: not disk.loading and disk.model.history.lines == 15_000,
                    timeout=60000)
    assert disk.model.history.column("loss_d").max() < 1.0
    _close(w)
