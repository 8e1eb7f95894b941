"""Runs that cannot be corrupted: a sweep trial resumes past its own scheduled
changes; one process writes a run folder at a time; a checkpoint that belongs to another run
is refused before anything is trimmed."""

from __future__ import annotations

import json
from pathlib import Path

from core import config as C
from core.cli import train_main
from core.overrides import parse_change
from core.runlayout import WRITER_LOCK, RunPaths
from core.session import TrainingSession
from core.trial import run_trial
from tests.helpers import tiny_2d


def _steps(path):
    return [json.loads(line)["step"] for line in Path(path).read_text().splitlines()]


def _events(run):
    return [(e["step"], e["change"]) for e in map(json.loads, (run / "events.jsonl").open())]


# ---------------------------------------------------------------------------- defect 1
def test_a_sweep_trial_resumes_past_its_own_scheduled_change(tmp_path):
    cfg = tiny_2d()
    cfg.set("run.steps", 30)
    changes = ["10:constraints.spectral.enabled=true"]
    run = tmp_path / "trial"
    # The trial was interrupted at step 15, after its change (the worker checkpoints there).
    session = TrainingSession(run, cfg, changes=[parse_change(c).entry for c in changes])
    while session.trainer.step_count < 15:
        session.advance()
    session.finish()
    args = {"name": "trial", "folder": str(run), "config": cfg.to_dict(), "changes": changes,
            "threads": 1}
    result = run_trial(args)  # the sweep's rerun passes the trial's schedule again
    assert result["status"] == "done", result
    assert result["resumed_from"] == 15
    assert _steps(run / "metrics.jsonl")[-1] == 30
    assert _events(run) == [(10, {"constraints.spectral.enabled": True})]  # applied once
    # The same run as an uninterrupted trial.
    ref = tmp_path / "ref"
    assert run_trial({**args, "folder": str(ref)})["status"] == "done"
    assert (ref / "metrics.jsonl").read_text().count("\n") == \
        (run / "metrics.jsonl").read_text().count("\n")
    import torch
    for name in ("G.pt", "D.pt"):
        a = torch.load(run / "checkpoints/last" / name, weights_only=True)
        b = torch.load(ref / "checkpoints/last" / name, weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_stored_schedule_is_accepted_on_resume_but_a_new_passed_change_is_not(
        tmp_path, capsys):
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(), cfg_file)
    run = tmp_path / "run"
    change = "10:optim.lr_d=0.0005"
    assert train_main(["--config", str(cfg_file), "--out", str(run), "--steps", "20",
                       "--no-progress", "--change", change]) == 0
    capsys.readouterr()
    # The run's own change again (the same value, typed differently): accepted, not doubled.
    assert train_main(["--out", str(run), "--resume", "--steps", "30", "--no-progress",
                       "--change", "10:optim.lr_d=5e-4"]) == 0
    assert _events(run) == [(10, {"optim.lr_d": 0.0005})]
    assert json.loads((run / "schedule.json").read_text())["changes"] == [
        {"step": 10, "change": {"optim.lr_d": 0.0005}}]
    capsys.readouterr()
    # Another value for that passed step is a user's new change: refused.
    assert train_main(["--out", str(run), "--resume", "--steps", "40", "--no-progress",
                       "--change", "10:optim.lr_d=0.001"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: --change 10:optim.lr_d is for step 10, but the run resumes at step "
                   "30: a change can only be scheduled for step 30 or later")


# ---------------------------------------------------------------------------- defect 2
def _writer(tmp_path, run, *args, pause="log@2"):
    """``python main.py train`` held at a pause point while it writes ``run``."""
    import os
    import subprocess
    import sys
    import time

    from tests.helpers import ROOT

    marker = tmp_path / f"paused-{run.name}"
    env = {**os.environ, "SNGAN_GUI_TEST_PAUSE": pause, "SNGAN_GUI_TEST_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", "--out", str(run),
                             "--no-progress", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the writer never reached its pause point"
        time.sleep(0.05)
    return proc, marker


def _trained(tmp_path, name="run", steps=10):
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(), cfg_file)
    run = tmp_path / name
    assert train_main(["--config", str(cfg_file), "--out", str(run), "--steps", str(steps),
                       "--no-progress"]) == 0
    return run


def test_a_second_writer_is_refused_naming_the_first_and_readers_proceed(tmp_path, capsys):
    import pytest

    from core.runfolder import RunFolderError
    from core.runreader import RunReader
    from core.runsnapshot import checkpoint_view

    run = _trained(tmp_path)
    proc, marker = _writer(tmp_path, run, "--resume", "--steps", "30")
    try:
        before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
        capsys.readouterr()
        # train --resume: exit 2, one line naming the writer's pid and command
        assert train_main(["--out", str(run), "--resume", "--steps", "40",
                           "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert err.startswith(f"error: {run} is being written by pid {proc.pid} on ")
        assert f"main.py train --out {run} --no-progress --resume --steps 30" in err
        # a session in this process (the app's Resume, a sweep's resume) likewise
        with pytest.raises(RunFolderError, match=f"being written by pid {proc.pid} "):
            TrainingSession(run, resume=True)
        # a sweep trial resuming that folder: a failed row naming it, the folder untouched
        result = run_trial({"name": "run", "folder": str(run), "config": tiny_2d().to_dict(),
                            "changes": [], "threads": 1})
        assert result["status"] == "failed" and f"pid {proc.pid}" in result["message"]
        assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
        # readers proceed: the metrics lines, and the checkpoint's snapshot
        reader = RunReader(run)
        assert [m["step"] for m in reader.poll().metrics][-1] >= 10
        info, snap = checkpoint_view(run)
        assert snap.spectra is not None
        from core.run_lock import holder
        assert holder(run).startswith(f"pid {proc.pid} on ")
    finally:
        marker.unlink(missing_ok=True)
        proc.wait(timeout=120)
    assert proc.returncode == 0
    from core.run_lock import holder
    assert holder(run) is None  # released with the process


def test_a_killed_writer_leaves_no_stale_lock(tmp_path):
    import signal

    from core.run_lock import holder

    run = _trained(tmp_path)
    proc, marker = _writer(tmp_path, run, "--resume", "--steps", "30")
    assert holder(run) is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    marker.unlink(missing_ok=True)
    assert holder(run) is None
    assert RunPaths(run).writer_lock.is_file()  # the file stays; the lock went with the process
    assert train_main(["--out", str(run), "--resume", "--steps", "20", "--no-progress"]) == 0
    assert _steps(run / "metrics.jsonl")[-1] == 20


def test_one_process_cannot_open_a_folder_twice_for_writing(tmp_path):
    import pytest

    from core.runfolder import RunFolderError

    run = _trained(tmp_path)
    first = TrainingSession(run, resume=True, steps=20)
    try:
        with pytest.raises(RunFolderError, match="being written by pid"):
            TrainingSession(run, resume=True, steps=20)
    finally:
        first.close()
    second = TrainingSession(run, resume=True, steps=20)  # released by close()
    second.close()


# ---------------------------------------------------------------------------- defect 3
def _foreign_checkpoint(tmp_path):
    """A 20-step run whose checkpoints/last was replaced by another run's (a wider, deeper D,
    another dataset), as copied in by hand."""
    import shutil

    run = _trained(tmp_path, "run", steps=20)
    other_cfg = tmp_path / "other.toml"
    C.save(tiny_2d(data__dataset="grid25", model__d_width=48, model__depth=3), other_cfg)
    other = tmp_path / "other"
    assert train_main(["--config", str(other_cfg), "--out", str(other), "--steps", "10",
                       "--no-progress"]) == 0
    for f in (other / "checkpoints" / "last").iterdir():
        shutil.copy(f, run / "checkpoints" / "last" / f.name)
    return run


def _files(run):
    return {str(p.relative_to(run)): p.read_bytes() for p in run.rglob("*") if p.is_file()
            and p.name != WRITER_LOCK}


def test_train_resume_refuses_another_runs_checkpoint_and_trims_nothing(tmp_path, capsys):
    run = _foreign_checkpoint(tmp_path)
    before = _files(run)
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "40", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: {run / 'checkpoints' / 'last'} belongs to another run "
                          f"(fingerprint ")
    assert 'data.dataset = "grid25" there, "ring8" in config.toml' in err
    assert "model.d_width = 48 there, 32 in config.toml" in err
    assert _files(run) == before  # not a line trimmed (ring8's lines 15, 20 after step 10)
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20]


def test_the_run_snapshot_refuses_another_runs_checkpoint(tmp_path):
    import pytest

    from core.runreader import RunReadError
    from core.runsnapshot import checkpoint_view

    run = _foreign_checkpoint(tmp_path)
    with pytest.raises(RunReadError, match="belongs to another run"):
        checkpoint_view(run)


def test_model_files_of_another_run_are_refused(tmp_path, capsys):
    import shutil

    import pytest

    from core.checkpoint import CheckpointError
    from core.checkpoint_match import check_checkpoint_matches
    from core.checkpoint import load_trainer_state

    run = _trained(tmp_path, "run", steps=10)
    other_cfg = tmp_path / "other.toml"
    C.save(tiny_2d(model__d_width=48), other_cfg)
    other = tmp_path / "other"
    assert train_main(["--config", str(other_cfg), "--out", str(other), "--steps", "10",
                       "--no-progress"]) == 0
    shutil.copy(other / "checkpoints/last/D.pt", run / "checkpoints/last/D.pt")
    state = load_trainer_state(run / "checkpoints/last/trainer.pt")
    with pytest.raises(CheckpointError, match=r"D.pt does not hold trainer.pt's D"):
        check_checkpoint_matches(run, state)
    before = _files(run)
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "20", "--no-progress"]) == 2
    assert "does not hold trainer.pt's D" in capsys.readouterr().err
    assert _files(run) == before


def test_live_changes_are_not_a_mismatch(tmp_path):
    """The checkpoint holds the run after its changes: learning rates, constraints, steps."""
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(), cfg_file)
    run = tmp_path / "run"
    assert train_main(["--config", str(cfg_file), "--out", str(run), "--steps", "20",
                       "--no-progress", "--change", "5:optim.lr_d=0.001",
                       "--change", "5:constraints.spectral.enabled=true",
                       "--change", "5:constraints.spectral.method=exact"]) == 0
    assert train_main(["--out", str(run), "--resume", "--steps", "30", "--no-progress"]) == 0
    assert _steps(run / "metrics.jsonl")[-1] == 30
