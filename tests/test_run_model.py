"""The app's run model and history, without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import contract as c
from core.config import Config

ROOT = Path(__file__).resolve().parents[1]


def test_history_stays_bounded_and_keeps_shape():
    from sngan_gui.history import History, smooth

    h = History(capacity=64)
    for i in range(10_000):
        h.append(i, {"a": float(i)})
    assert len(h) <= 64 and h.steps[0] == 0 and h.steps[-1] > 9000
    assert np.all(np.diff(h.steps) > 0)
    assert np.array_equal(h.column("a"), h.steps)
    y = smooth(np.array([0.0, 2.0, np.nan, 4.0]), 2)
    assert np.allclose(y, [0.0, 1.0, 2.0, 4.0])


def test_marker_text():
    from sngan_gui.run_model import marker_text

    assert marker_text({"constraints.spectral.enabled": True}) == "SN on"
    assert marker_text({"constraints.clip.c": 0.05}) == "clip c=0.05"
    assert marker_text({"optim.lr_d": 0.001}) == "lr_d=0.001"


@pytest.mark.slow
def test_run_model_does_not_import_qt():
    code = ("import sys, sngan_gui.run_model, sngan_gui.history; "
            "sys.exit(1 if any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules)"
            " else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _record(step, **fields):
    return c.MetricsRecord(step=step, time=0.1 * step, loss_d=1.0 + step, loss_g=2.0,
                           d_real=0.5, d_fake=-0.5, **fields)


def _fast(step):
    return c.FastProbe(step, {"fc1": 2.0}, {}, np.zeros((4, 4), np.float32))


def test_reports_move_state_history_events_and_versions():
    from sngan_gui.run_model import DataKind, RunModel, RunState, status_parts

    m = RunModel(Config())
    assert m.state is RunState.IDLE and "idle" in status_parts(m, m.cfg)
    centres = np.array([[1.0, 0.0], [-1.0, 0.0]])
    changed = m.apply(c.RunStarted(c.RunInfo("/tmp/r", "cpu", ("fc1", "out"), "2d", centres, 0.1)))
    assert m.state is RunState.PAUSED and DataKind.STATUS in changed
    assert m.real_points.shape == (512, 2) and m.modes_total == 2 and not m.is_image
    # the display points come from the mixture: each lies near one of the centres
    d = np.min(np.linalg.norm(m.real_points[:, None] - centres[None], axis=2), axis=1)
    assert d.max() < 0.1 * 6

    v_spectra = m.version(DataKind.SPECTRA)
    changed = m.apply(c.RunProgress(
        step=10, running=True, rate=100.0, elapsed=1.0, done=False,
        records=(_record(5, sigma={"fc1": 2.0}), _record(10, sigma={"fc1": 1.5})),
        events=(c.Event(7, 0.7, {"constraints.spectral.enabled": True}),),
        snapshot=c.ProbeSnapshot(step=10, fast=_fast(10))))
    assert changed == {DataKind.STATUS, DataKind.METRICS, DataKind.EVENTS, DataKind.FAST}
    assert m.state is RunState.RUNNING and m.step == 10
    assert list(m.history.steps) == [5, 10]
    assert list(m.history.column("loss_d")) == [6.0, 11.0]
    assert list(m.history.column("sigma.fc1")) == [2.0, 1.5]
    assert m.event_dicts() == [{"step": 7, "time": 0.7,
                                "change": {"constraints.spectral.enabled": True}}]
    assert "100.0 steps/s" in status_parts(m, m.cfg)[1]

    # a report whose snapshot repeats no part changes only what it carries
    spectra = c.Spectra(12, {"fc1": np.array([2.0, 1.0])}, {})
    changed = m.apply(c.RunProgress(step=12, running=False, rate=0.0, elapsed=1.2, done=False,
                                    snapshot=c.ProbeSnapshot(step=10, spectra=spectra)))
    assert changed == {DataKind.STATUS, DataKind.SPECTRA}
    assert m.version(DataKind.SPECTRA) == v_spectra + 1
    assert m.snapshot.fast.step == 10 and m.snapshot.spectra is spectra  # merged
    assert m.state is RunState.PAUSED

    m.apply(c.RunDiverged("diverged at 13", 13, "/tmp/r/checkpoints/last"))
    assert m.state is RunState.DIVERGED and "diverged" in m.problem
    m.apply(c.RunProgress(step=13, running=False, rate=0.0, elapsed=1.3, done=False))
    assert m.state is RunState.DIVERGED  # a paused report keeps the reason
    m.apply(c.RunProgress(step=14, running=True, rate=5.0, elapsed=1.4, done=False))
    assert m.state is RunState.RUNNING
    m.apply(c.RunProgress(step=20, running=False, rate=0.0, elapsed=2.0, done=True))
    assert m.state is RunState.FINISHED and "finished" in status_parts(m, m.cfg)
    m.apply(c.RunFailed("training process ended unexpectedly (exit code -9)", exit_code=-9))
    assert m.state is RunState.FAILED and "stopped" in status_parts(m, m.cfg)


def test_image_run_model_and_run_serials():
    from sngan_gui.run_model import DataKind, RunModel

    a, b = RunModel(Config()), RunModel(Config())
    assert a.serial != b.serial  # views tell runs apart
    a.apply(c.RunStarted(c.RunInfo("/tmp/r", "cpu", ("out",), "image")))
    assert a.is_image and a.real_points is None and a.modes_total is None
    grid = c.SampleGrid(3, np.zeros((4, 4, 1), np.uint8))
    changed = a.apply(c.RunProgress(step=3, running=False, rate=0.0, elapsed=0.1, done=False,
                                    snapshot=c.ProbeSnapshot(step=2, samples=grid)))
    assert DataKind.SAMPLES in changed and a.snapshot.samples is grid


def test_a_landscape_measured_again_at_the_same_step_is_redrawn():
    """After a Step D the loop re-measures D at the same step: the panels must draw it."""
    from sngan_gui.run_model import DataKind, RunModel

    def land(value):
        return c.Landscape(step=7, x=np.zeros(2), y=np.zeros(2), values=np.full((2, 2), value),
                           extent=(0, 1, 0, 1), samples=np.zeros((1, 2)), modes=0, hq=0.0,
                           mode_counts=np.zeros(8, dtype=np.int64))

    m = RunModel(Config())
    m.apply(c.RunProgress(step=7, running=False, rate=0.0, elapsed=1.0, done=False,
                          snapshot=c.ProbeSnapshot(step=7, landscape=land(0.0))))
    before = m.version(DataKind.LANDSCAPE)
    changed = m.apply(c.RunProgress(step=7, running=False, rate=0.0, elapsed=1.0, done=False,
                                    snapshot=c.ProbeSnapshot(step=7, landscape=land(1.0)),
                                    d_updates=8, g_updates=7))
    assert DataKind.LANDSCAPE in changed and m.version(DataKind.LANDSCAPE) == before + 1
    assert (m.d_updates, m.g_updates) == (8, 7)
