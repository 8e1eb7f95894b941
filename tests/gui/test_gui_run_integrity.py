"""Issue 19 in the window: Resume names the process that writes a run folder, a followed run
whose folder is deleted stops following, another run's checkpoint is never shown."""

from __future__ import annotations

import shutil

from core import config as C
from core.cli import train_main
from core.session import TrainingSession
from conftest import open_window as _window
from tests.gui.test_compare_runs import _close
from tests.helpers import tiny_2d


def _train(tmp_path, name, cfg, steps=10):
    path = tmp_path / f"{name}.toml"
    C.save(cfg, path)
    out = tmp_path / name
    assert train_main(["--config", str(path), "--out", str(out), "--steps", str(steps),
                       "--no-progress"]) == 0
    return out


def _stopped(tmp_path, name, cfg, at):
    """A run stopped at step ``at`` of its ``run.steps`` (as by Ctrl-C)."""
    run = tmp_path / name
    session = TrainingSession(run, cfg)
    while session.trainer.step_count < at:
        session.advance()
    session.finish()
    return run


def test_resume_names_the_process_that_writes_the_folder(qtbot, tmp_path):
    import os

    run = _stopped(tmp_path, "run", tiny_2d(run__steps=40), 10)
    writer = TrainingSession(run, resume=True)  # this process writes it now
    try:
        w = _window(qtbot, [run])
        entry, = w.compare.runs
        qtbot.waitUntil(lambda: entry.status == "following", timeout=10000)
        why = w.compare.can_resume(entry.key)
        assert why.startswith(f"pid {os.getpid()} on ") and why.endswith(" is writing it")
        w.compare.resume_selected()
        assert w.statusBar().currentMessage().startswith("cannot resume")
        assert entry.source.disk is not None and not entry.source.process  # still only followed
    finally:
        writer.close()
    assert w.compare.can_resume(entry.key) == ""
    _close(w)


def test_a_followed_run_whose_folder_is_deleted_stops_following(qtbot, tmp_path, monkeypatch):
    from core import runreader

    monkeypatch.setattr(runreader, "GONE_AFTER_S", 0.3)
    run = _stopped(tmp_path, "run", tiny_2d(run__steps=40), 10)
    w = _window(qtbot, [run])
    entry, = w.compare.runs
    qtbot.waitUntil(lambda: entry.status == "following", timeout=10000)
    shutil.rmtree(run)
    qtbot.waitUntil(lambda: entry.status == "deleted", timeout=10000)
    assert not entry.source.disk.follower.following
    _close(w)


def test_another_runs_checkpoint_is_not_shown(qtbot, tmp_path):
    run = _train(tmp_path, "run", tiny_2d(run__steps=10))
    other = _train(tmp_path, "other", tiny_2d(data__dataset="grid25", model__d_width=48))
    for f in (other / "checkpoints" / "last").iterdir():
        shutil.copy(f, run / "checkpoints" / "last" / f.name)
    w = _window(qtbot)
    problems = []
    key = w.compare.open_run(run)
    entry = w.compare.runs.entry(key)
    entry.source.disk.problem.connect(problems.append)
    qtbot.waitUntil(lambda: not entry.source.disk.snapshot_pending, timeout=60000)
    qtbot.waitUntil(lambda: any("belongs to another run" in p for p in problems), timeout=10000)
    snap = entry.source.model.snapshot
    assert snap.spectra is None and snap.landscape is None  # nothing of the other run's
    _close(w)
