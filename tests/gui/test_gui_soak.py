"""Soak test: drive the app while randomly (seeded) toggling every constraint,
changing coefficients and learning rates, pausing, stepping, exporting and reading a finished
run folder; no exception, every change in events.jsonl in order and equal to what was sent,
memory flat in the app and in its training process.

The suite runs a short version. A longer one on demand, with the figures printed:

    SOAK_ACTIONS=3000 QT_QPA_PLATFORM=offscreen python -m pytest -s tests/gui/test_gui_soak.py

(``SOAK_SEED`` picks another random sequence; ``SOAK_REPORT=FILE`` also writes the figures as
JSON.)
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

import sngan_gui.files as files_mod
from conftest import type_into, wait_paused

pytestmark = pytest.mark.slow  # drives the app through a long random session

ACTIONS = int(os.environ.get("SOAK_ACTIONS", "70"))
SEED = int(os.environ.get("SOAK_SEED", "13"))
# Growth allowed between the measurements at the start and the end (the first measurement is
# taken once the run trains and every panel has drawn, so caches are warm).
RSS_GROWTH_LIMIT_MB = 80


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc (psutil is not a dependency)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")




FLOATS = {  # field -> (low, high), drawn log-uniformly; learning rates kept where ring8 trains
    "constraints.clip.c": (0.005, 0.1), "constraints.gp.weight": (0.1, 20.0),
    "constraints.rowsum.target": (0.5, 2.0), "optim.lr_d": (1e-5, 1e-3),
    "optim.lr_g": (1e-5, 1e-3),
}
SWITCHES = ("clipCheck", "gpCheck", "spectralCheck", "rowsumCheck")
CHOICES = ("gpKind", "spectralOnDisable", "spectralMethod", "rowsumOnDisable")


@pytest.mark.timeout(300 + ACTIONS)  # a long soak outlasts the suite's per-test limit
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads memory from /proc")
def test_soak_random_session(qtbot, window, tmp_path, monkeypatch):
    from core.contract import MetricsRecord
    from core.runreader import RunReader
    from sngan_gui.run_model import RunModel

    rng = random.Random(SEED)
    opened: list[str] = []
    monkeypatch.setattr(files_mod.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()))
    w = window
    w.form.cfg.update({"run.checkpoint_every": 200, "run.steps": 40})

    # A first run that finishes: the soak reads it back from disk now and then.
    w.play()
    qtbot.waitUntil(lambda: w.model.state.value == "finished", timeout=60000)
    finished_dir = w.run_dir
    w.reset_run()
    w.form.cfg.update({"run.steps": 10**7})

    w.play()
    qtbot.waitUntil(lambda: w.step >= 30 and w.model.snapshot.landscape is not None,
                    timeout=60000)
    sent: list[tuple[str, object]] = []
    worker = w.controller.worker
    submit = worker.submit
    worker.submit = lambda key, value: (sent.append((key, value)), submit(key, value))
    child = worker.process.pid
    w.refresh_all()
    rss_start = {"app": rss_mb(os.getpid()), "training": rss_mb(child)}
    step_start, t0 = w.step, time.perf_counter()
    counts: dict[str, int] = {}
    trace: list[tuple[int, float, float]] = []  # (action, app MB, training MB): the trend

    for i in range(ACTIONS):
        if i % max(1, ACTIONS // 10) == 0:
            trace.append((i, round(rss_mb(os.getpid()), 1), round(rss_mb(child), 1)))
        action = rng.choice(["switch", "switch", "float", "float", "choice", "iters", "play",
                             "step", "export", "open"])
        counts[action] = counts.get(action, 0) + 1
        if action == "switch":
            w.findChild(QCheckBox, rng.choice(SWITCHES)).click()
        elif action == "float":
            key = rng.choice(list(FLOATS))
            lo, hi = FLOATS[key]
            value = float(f"{lo * (hi / lo) ** rng.random():.3g}")
            type_into(qtbot, w.form.editors[key], f"{value:g}")
            assert w.cfg.get(key) == value
        elif action == "choice":
            combo = w.findChild(QComboBox, rng.choice(CHOICES))
            combo.setCurrentIndex(rng.randrange(combo.count()))
        elif action == "iters":
            w.findChild(QSpinBox, "spectralIters").setValue(rng.randint(1, 3))
        elif action == "play":
            w.run_panel.play.click()
        elif action == "step":
            w.step_once()
        elif action == "export":
            name = rng.choice(list(w.panels))
            fmt = rng.choice(["png", "svg", "csv"])
            if fmt == "csv" and name == "samples":
                fmt = "png"
            path = w.export_plot(name, tmp_path / "exports" / f"{len(sent)}-{name}.{fmt}")
            assert path.stat().st_size > 0
        elif action == "open":  # read the finished run as the app's views would show it
            w.files.open_run_folder()
            reader = RunReader(finished_dir)
            update = reader.poll()
            model = RunModel(reader.cfg)
            model.history.extend_records(MetricsRecord.from_dict(m) for m in update.metrics)
            assert reader.finished and model.history.n == len(update.metrics) >= 4
        qtbot.wait(rng.randint(10, 120))
        assert w.model.fault is None, w.model.problem

    if not w.run_panel.play.isChecked():
        w.play()
        qtbot.wait(300)  # train on with the last settings a moment
    w.pause()
    wait_paused(qtbot, w)
    qtbot.waitUntil(lambda: len(w.events) == len(sent), timeout=10000)
    w.refresh_all()
    qtbot.wait(200)
    rss_end = {"app": rss_mb(os.getpid()), "training": rss_mb(child)}
    seconds = time.perf_counter() - t0
    steps = w.step - step_start

    on_disk = [json.loads(line) for line in (w.run_dir / "events.jsonl").read_text().splitlines()]
    assert [tuple(e["change"].items())[0] for e in on_disk] == sent
    assert [e["step"] for e in on_disk] == sorted(e["step"] for e in on_disk)
    assert [e.change for e in w.model.events] == [e["change"] for e in on_disk]
    assert opened == [str(w.run_dir)] * counts.get("open", 0)  # the live run's folder
    figures = {"actions": ACTIONS, "seed": SEED, "changes": len(sent), "steps": steps,
               "seconds": round(seconds, 1), "counts": counts,
               "rss_start_mb": {k: round(v, 1) for k, v in rss_start.items()},
               "rss_end_mb": {k: round(v, 1) for k, v in rss_end.items()},
               "rss_trace_mb": trace}
    print("soak:", json.dumps(figures))
    if os.environ.get("SOAK_REPORT"):
        Path(os.environ["SOAK_REPORT"]).write_text(json.dumps(figures, indent=1))
    for proc in ("app", "training"):
        assert rss_end[proc] - rss_start[proc] < RSS_GROWTH_LIMIT_MB, figures
