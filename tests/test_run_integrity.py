"""Issue 19: runs that cannot be corrupted. A sweep trial resumes past its own scheduled
changes; one process writes a run folder at a time; a checkpoint that belongs to another run
is refused before anything is trimmed."""

from __future__ import annotations

import json
from pathlib import Path

from core import config as C
from core.cli import train_main
from core.overrides import parse_change
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
