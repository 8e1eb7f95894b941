"""In-process faults: divergence between log lines, damaged run files, scheduled
changes across a resume, device failures, interrupted trims, and the CLI's minor promises.
(Real signals to a real ``python main.py train`` are in test_faults.py.)"""

import json
import os
from pathlib import Path

import pytest
import torch

from core import config as C
from core.checkpoint import load_trainer_state, write_checkpoint_set
from core.cli import train_main
from core.runfolder import RunFolder, RunFolderError
from core.runlayout import RunPaths
from core.session import TrainingSession
from core.trainer import DeviceStepError, Diverged, Trainer
from tests.helpers import tiny_2d, tiny_image


def _write_cfg(tmp_path, cfg, name="cfg.toml"):
    path = tmp_path / name
    C.save(cfg, path)
    return path


def _steps(path):
    return [json.loads(line)["step"] for line in Path(path).read_text().splitlines()]


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def _all_finite(state):
    return all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def _poison_weights(trainer):
    with torch.no_grad():
        next(trainer.D.parameters()).view(-1)[0] = float("nan")


# ---------------------------------------------------------------------------- defect 2
@pytest.mark.slow
def test_a_nan_state_never_replaces_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    """log_every 50, checkpoint_every 20, divergence at step 105: found before the checkpoint
    of step 120 (not at the line of step 150), which is not written; the message is true."""
    out = tmp_path / "run"
    cfg = _write_cfg(tmp_path, tiny_2d(run__log_every=50, run__checkpoint_every=20))
    real_step = Trainer._step

    def step(self):
        real_step(self)
        if self.step_count == 105:
            _poison_weights(self)

    monkeypatch.setattr(Trainer, "_step", step)
    rc = train_main(["--config", str(cfg), "--out", str(out), "--steps", "300", "--no-progress"])
    assert rc == 3
    err = _one_error_line(capsys)
    last = out / "checkpoints" / "last"
    assert err == (f"error: training diverged by step 120: the losses, G's weights and D's "
                   f"weights became NaN or infinite; the last good checkpoint (step 100) is in {last}")
    state = load_trainer_state(last / "trainer.pt")
    assert state["step"] == 100
    assert _all_finite(state["G"]) and _all_finite(state["D"])
    for name in ("G.pt", "D.pt"):
        assert _all_finite(torch.load(last / name, weights_only=True))
    assert _steps(out / "metrics.jsonl") == [50, 100]
    # The run continues from that checkpoint (with other settings, as the message implies).
    monkeypatch.setattr(Trainer, "_step", real_step)
    assert train_main(["--out", str(out), "--resume", "--steps", "110", "--no-progress",
                       "--change", "100:optim.lr_d=0.0001"]) == 0
    assert _steps(out / "metrics.jsonl") == [50, 100, 110]


@pytest.mark.slow
def test_divergence_before_any_checkpoint_says_there_is_none(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    cfg = _write_cfg(tmp_path, tiny_2d(run__log_every=50, run__checkpoint_every=20))
    real_step = Trainer._step

    def step(self):
        real_step(self)
        if self.step_count == 3:
            _poison_weights(self)

    monkeypatch.setattr(Trainer, "_step", step)
    assert train_main(["--config", str(cfg), "--out", str(out), "--no-progress"]) == 3
    err = _one_error_line(capsys)
    assert err.startswith("error: training diverged by step 20") and "no checkpoint was written" in err
    assert not (out / "checkpoints" / "last").exists()


def test_the_final_checkpoint_is_checked_too(tmp_path, monkeypatch):
    """Weights that became NaN in the very last update (losses of that step still finite)."""
    session = TrainingSession(tmp_path / "run", tiny_2d(run__checkpoint_every=5, run__steps=8,
                                                        run__log_every=100))
    for _ in range(7):
        session.advance()
    real_step = Trainer._step

    def step(self):
        real_step(self)
        _poison_weights(self)

    monkeypatch.setattr(Trainer, "_step", step)
    with pytest.raises(Diverged, match="by step 8: D's weights"):
        session.advance()  # the run's last step: final line (finite losses) and checkpoint
    session.finish()
    assert load_trainer_state(session.folder.checkpoint_dir / "trainer.pt")["step"] == 5


# ---------------------------------------------------------------------------- defect 1
def _jsonl(path, objs, tail=b""):
    path.write_bytes(b"".join(json.dumps(o).encode() + b"\n" for o in objs) + tail)


def test_trim_cuts_only_the_tail_and_keeps_a_whole_history(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _jsonl(run / "metrics.jsonl", [{"step": s} for s in (5, 10, 15, 20)], tail=b'{"step": 2')
    _jsonl(run / "events.jsonl", [{"step": 3}, {"step": 10}, {"step": 12}])
    folder = RunFolder.__new__(RunFolder)
    folder.path = run
    folder.trim_after(10)
    assert _steps(run / "metrics.jsonl") == [5, 10]
    assert _steps(run / "events.jsonl") == [3]  # a change at 10 is applied again on resume
    folder.trim_after(10)  # nothing left to drop: the file is not touched
    assert _steps(run / "metrics.jsonl") == [5, 10]
    # A whole last line whose newline was not written is kept, and gets its newline.
    (run / "metrics.jsonl").write_bytes(b'{"step": 5}\n{"step": 10}')
    folder.trim_after(10)
    assert (run / "metrics.jsonl").read_bytes() == b'{"step": 5}\n{"step": 10}\n'


def test_an_interrupted_rewrite_leaves_the_history_untouched(tmp_path, monkeypatch):
    """Steps out of order cannot be cut as a tail: the file is rewritten beside and renamed;
    a Ctrl-C before the rename leaves the original whole and no temporary behind."""
    run = tmp_path / "run"
    run.mkdir()
    _jsonl(run / "metrics.jsonl", [{"step": s} for s in (5, 30, 10)])
    before = (run / "metrics.jsonl").read_bytes()
    folder = RunFolder.__new__(RunFolder)
    folder.path = run

    def interrupted(*_):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(os, "replace", interrupted)
        with pytest.raises(KeyboardInterrupt):
            folder.trim_after(10)
    assert (run / "metrics.jsonl").read_bytes() == before
    assert sorted(p.name for p in run.iterdir()) == ["metrics.jsonl"]
    folder.trim_after(10)
    assert _steps(run / "metrics.jsonl") == [5, 10]


# ---------------------------------------------------------------------------- defect 9
def test_checkpoint_set_interrupted_in_process_keeps_the_previous_set(tmp_path, monkeypatch):
    parent = tmp_path / "checkpoints"
    write_checkpoint_set(parent, {"G.pt": {"w": torch.zeros(2)}, "D.pt": {"w": torch.zeros(2)},
                                  "trainer.pt": {"step": 1}})
    real_save = torch.save
    calls = []

    def save(obj, fh, *a, **k):
        calls.append(obj)
        if len(calls) == 3:  # trainer.pt of the second set
            raise KeyboardInterrupt
        real_save(obj, fh, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint_set(parent, {"G.pt": {"w": torch.ones(2)}, "D.pt": {"w": torch.ones(2)},
                                      "trainer.pt": {"step": 2}})
    assert sorted(p.name for p in parent.iterdir()) == ["last"]
    assert torch.load(parent / "last" / "trainer.pt") == {"step": 1}
    assert torch.equal(torch.load(parent / "last" / "G.pt")["w"], torch.zeros(2))


def test_recovery_finishes_or_undoes_a_cut_swap(tmp_path):
    from core.checkpoint import recover_checkpoint_set

    parent = tmp_path / "checkpoints"
    for name, step in ((".last.old-aa", 1), (".last.complete-bb", 2)):
        (parent / name).mkdir(parents=True)
        torch.save({"step": step}, parent / name / "trainer.pt")
    (parent / ".last.partial-cc").mkdir()
    recover_checkpoint_set(parent)  # killed between the two renames: the new set goes in
    assert sorted(p.name for p in parent.iterdir()) == ["last"]
    assert torch.load(parent / "last" / "trainer.pt") == {"step": 2}
    os.rename(parent / "last", parent / ".last.old-dd")
    (parent / ".last.partial-ee").mkdir()
    (parent / ".last.old-dd" / "G.pt.x.tmp").write_bytes(b"")
    recover_checkpoint_set(parent)  # no complete new set: the old one comes back
    assert sorted(p.name for p in parent.iterdir()) == ["last"]
    assert sorted(p.name for p in (parent / "last").iterdir()) == ["trainer.pt"]


# ---------------------------------------------------------------------------- defect 3
def _final_weights(run):
    last = Path(run) / "checkpoints" / "last"
    return (torch.load(last / "G.pt", weights_only=True),
            torch.load(last / "D.pt", weights_only=True))


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_scheduled_changes_survive_a_resume(tmp_path, capsys):
    cfg = _write_cfg(tmp_path, tiny_2d())
    change = "25:constraints.spectral.enabled=true"
    ref, run = tmp_path / "ref", tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(ref), "--steps", "30", "--no-progress",
                       "--change", change]) == 0
    # Stopped at step 15, then continued with --resume only: the switch at 25 still happens.
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "15", "--no-progress",
                       "--change", change, "--change", "12:optim.lr_d=0.0005"]) == 0
    stored = json.loads((run / "schedule.json").read_text())
    assert stored == {"changes": [
        {"step": 12, "change": {"optim.lr_d": 0.0005}},
        {"step": 25, "change": {"constraints.spectral.enabled": True}}]}
    assert train_main(["--out", str(run), "--resume", "--steps", "30", "--no-progress"]) == 0
    events = [(e["step"], e["change"]) for e in map(json.loads, (run / "events.jsonl").open())]
    assert events == [(12, {"optim.lr_d": 0.0005}), (25, {"constraints.spectral.enabled": True})]
    state = load_trainer_state(run / "checkpoints" / "last" / "trainer.pt")
    assert state["config"]["constraints"]["spectral"]["enabled"]
    # Same run as the uninterrupted one with both changes.
    assert train_main(["--config", str(cfg), "--out", str(tmp_path / "ref2"), "--steps", "30",
                       "--no-progress", "--change", change,
                       "--change", "12:optim.lr_d=0.0005"]) == 0
    for a, b in zip(_final_weights(run), _final_weights(tmp_path / "ref2")):
        assert _same(a, b)
    capsys.readouterr()

    # A change for a step already passed is refused, and nothing is touched. (The writer
    # lock file names whoever last opened the folder to write: the refused resume took the
    # lock before reading anything, so its time of day may differ by a second.)
    lock = RunPaths(run).writer_lock.name

    def files():
        return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != lock}

    before = files()
    assert train_main(["--out", str(run), "--resume", "--steps", "40", "--no-progress",
                       "--change", "20:optim.lr_g=0.001"]) == 2
    err = _one_error_line(capsys)
    assert err == ("error: --change 20:optim.lr_g is for step 20, but the run resumes at step "
                   "30: a change can only be scheduled for step 30 or later")
    assert files() == before
    # One for the resume step or later is added to the stored schedule.
    assert train_main(["--out", str(run), "--resume", "--steps", "40", "--no-progress",
                       "--change", "30:optim.lr_g=0.001"]) == 0
    assert json.loads((run / "schedule.json").read_text())["changes"][-1] == {
        "step": 30, "change": {"optim.lr_g": 0.001}}
    assert _steps(run / "events.jsonl") == [12, 25, 30]


def test_a_damaged_schedule_is_named(tmp_path, capsys):
    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "10", "--no-progress",
                       "--change", "15:optim.lr_d=0.001"]) == 0
    (run / "schedule.json").write_text('{"changes": [{"step": 15, "change": {"optim.lr_d": -1}}]}')
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "20", "--no-progress"]) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"error: {run / 'schedule.json'}: optim.lr_d must be > 0")


# ---------------------------------------------------------------------------- defect 8
def _trained_run(tmp_path, steps=10):
    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", str(steps),
                       "--no-progress"]) == 0
    return run


def _edit_trainer_pt(run, edit):
    path = run / "checkpoints" / "last" / "trainer.pt"
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


def _bad_metrics_object(run):
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write("[1, 2, 3]\n{\"step\": 10}\n")


def _bad_events_utf8(run):
    (run / "events.jsonl").write_bytes(b'{"step": 1, "change": {"x": "\xff\xfe"}}\n')


def _dir_instead(name):
    def damage(run):
        path = run / name
        if path.is_dir():
            import shutil
            shutil.rmtree(path)
        else:
            path.unlink()
        path.mkdir()
        (path / "x").write_text("")
    return damage


@pytest.mark.parametrize("damage,fragment", [
    (lambda run: (run / "checkpoints/last/trainer.pt").write_text("step = 10\nhello\n"),
     "trainer.pt is not a readable checkpoint"),
    (lambda run: _edit_trainer_pt(run, lambda s: s.pop("opt_g")),
     "trainer.pt is damaged: it lacks opt_g"),
    (lambda run: _edit_trainer_pt(run, lambda s: s["G"].update(
        {k: torch.zeros(3) for k in list(s["G"])[:1]})),
     "trainer.pt does not fit its own config (damaged or edited): "),
    (lambda run: _edit_trainer_pt(run, lambda s: s["config"]["optim"].update(lr_d=-1.0)),
     "trainer.pt: its config is invalid: optim.lr_d must be > 0"),
    (_bad_metrics_object, "metrics.jsonl line 3 is not a JSON object (got list)"),
    (_bad_events_utf8, "events.jsonl line 1 is not UTF-8 text"),
    (_dir_instead("metrics.jsonl"), "metrics.jsonl is not a file"),
    (_dir_instead("checkpoints/last/trainer.pt"), "trainer.pt is not a file"),
    (_dir_instead("schedule.json"), "cannot read"),
    (lambda run: __import__("shutil").rmtree(run / "checkpoints/last") or
     (run / "checkpoints/last").write_text(""), "checkpoints/last is not a folder"),
])
def test_damaged_run_files_exit_2_with_one_line_naming_the_file(tmp_path, capsys, damage,
                                                                 fragment):
    run = _trained_run(tmp_path)
    damage(run)
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "20", "--no-progress"]) == 2
    err = _one_error_line(capsys)
    assert err.startswith("error: ") and fragment in err and str(run) in err


def test_unwritable_out_exits_2_with_one_line(tmp_path, capsys):
    cfg = _write_cfg(tmp_path, tiny_2d())
    (tmp_path / "afile").write_text("")
    assert train_main(["--config", str(cfg), "--out", str(tmp_path / "afile" / "run"),
                       "--no-progress"]) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"error: cannot create the run folder {tmp_path / 'afile' / 'run'}")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert train_main(["--config", str(cfg), "--out", str(locked / "run"),
                           "--no-progress"]) == 2
        assert "Permission denied" in _one_error_line(capsys)


@pytest.mark.slow
def test_a_run_file_replaced_by_a_folder_mid_run_is_one_line(tmp_path, capsys):
    """samples/ replaced by a file while an image run trains: the sample grid cannot be
    written; one line, the last checkpoint named."""
    cfg = _write_cfg(tmp_path, tiny_image(run__sample_every=6))
    run = tmp_path / "run"
    session_steps = []
    real_step = Trainer._step

    def step(self):
        real_step(self)
        session_steps.append(self.step_count)
        if self.step_count == 5:
            (run / "samples").mkdir(exist_ok=True)
            os.rmdir(run / "samples")
            (run / "samples").write_text("not a folder")

    with pytest.MonkeyPatch.context() as m:
        m.setattr(Trainer, "_step", step)
        assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "12",
                           "--no-progress"]) == 2
    err = _one_error_line(capsys)
    assert "samples" in err and "the last good checkpoint (step 4)" in err


# ---------------------------------------------------------------------------- device errors
def _fail_at(step_no, exc):
    real_step = Trainer._step

    def step(self):
        if self.step_count + 1 == step_no:
            real_step(self)  # the device fails after part of the work is done
            self.step_count -= 1
            raise exc
        real_step(self)
    return step


@pytest.mark.slow
def test_out_of_memory_in_a_step_is_one_line_and_keeps_the_checkpoint(tmp_path, monkeypatch,
                                                                      capsys):
    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    monkeypatch.setattr(Trainer, "_step", _fail_at(23, torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity)")))
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "40",
                       "--no-progress"]) == 4
    err = _one_error_line(capsys)
    assert err == (
        f"error: out of memory on cpu in step 23: CUDA out of memory. Tried to allocate 2.00 GiB "
        f"(GPU 0; 7.79 GiB total capacity); the last good checkpoint (step 20) is in "
        f"{run / 'checkpoints' / 'last'}; continue with a smaller batch: --out {run} --resume "
        f"--change 20:data.batch_size=32")
    assert load_trainer_state(run / "checkpoints/last/trainer.pt")["step"] == 20
    # The printed command continues the run.
    monkeypatch.undo()
    assert train_main(["--out", str(run), "--resume", "--change", "20:data.batch_size=32",
                       "--no-progress"]) == 0
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20, 25, 30, 35, 40]


@pytest.mark.slow
def test_session_continues_from_the_last_good_checkpoint_in_the_same_process(tmp_path,
                                                                            monkeypatch):
    session = TrainingSession(tmp_path / "run", tiny_2d(run__steps=40))
    monkeypatch.setattr(Trainer, "_step", _fail_at(13, RuntimeError(
        "CUDA error: an illegal memory access was encountered")))
    with pytest.raises(DeviceStepError) as info:
        while not session.done:
            session.advance()
    assert info.value.reason == "device error" and info.value.step == 12
    session.finish()  # writes nothing from a half-done step
    assert load_trainer_state(session.folder.checkpoint_dir / "trainer.pt")["step"] == 10
    monkeypatch.undo()
    with pytest.raises(C.ConfigError, match="needs a new run"):
        session.continue_from_checkpoint(settings={"model.z_dim": 8})
    with pytest.raises(C.ConfigError, match="data.batch_size must be >= 1"):
        session.continue_from_checkpoint(settings={"data.batch_size": 0})
    resumed = session.continue_from_checkpoint(device="cpu", settings={"data.batch_size": 16})
    assert session.trainer is None  # the failed session let go of its state
    assert resumed.trainer.step_count == 10
    while not resumed.done:
        resumed.advance()
    resumed.finish()
    assert resumed.trainer.cfg.data.batch_size == 16
    events = [json.loads(line) for line in (tmp_path / "run/events.jsonl").open()]
    assert [(e["step"], e["change"]) for e in events] == [(10, {"data.batch_size": 16})]
    assert _steps(tmp_path / "run/metrics.jsonl") == [5, 10, 15, 20, 25, 30, 35, 40]


def test_a_checkpoint_from_another_device_kind_loads_with_a_fresh_random_stream(tmp_path):
    t = Trainer(tiny_2d())
    for _ in range(3):
        t.step()
    state = t.state_dict()
    state.update(device_type="cuda", generator=torch.zeros(16, dtype=torch.uint8),
                 constraints={"init_generator": torch.zeros(16, dtype=torch.uint8)})
    moved = Trainer.from_state(state, device="cpu")
    assert moved.step_count == 3 and _same(moved.G.state_dict(), t.G.state_dict())
    moved.step()  # and it trains


def test_bugs_are_not_mistaken_for_device_errors(monkeypatch, tmp_path):
    session = TrainingSession(tmp_path / "run", tiny_2d(run__steps=40))
    monkeypatch.setattr(Trainer, "_step", _fail_at(1, RuntimeError("mat1 and mat2 shapes "
                                                                    "cannot be multiplied")))
    with pytest.raises(RuntimeError, match="mat1") as info:
        session.advance()
    assert not isinstance(info.value, DeviceStepError)
    session.close()


# ---------------------------------------------------------------------------- defect 10 (CLI)
def test_resume_with_fewer_steps_than_done_is_refused(tmp_path, capsys):
    run = _trained_run(tmp_path, steps=20)
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "15", "--no-progress"]) == 2
    assert _one_error_line(capsys) == (f"error: run.steps (--steps) = 15 is below step 20, "
                                       f"where {run} resumes; give 20 or more")


@pytest.mark.slow
def test_no_progress_also_hides_the_image_decoding_bar(tmp_path, capsys):
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    for i in range(80):  # a held-out fifth of 16: the quality probe measures (no note)
        Image.new("L", (20, 20), color=i * 3).save(images / f"{i:02d}.png")
    cfg = _write_cfg(tmp_path, tiny_image(data__dataset="folder", data__root=str(images)))
    run = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "2",
                       "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("done: 2 steps") and len(err.strip().splitlines()) == 1, err


def test_exploding_losses_warn_and_training_goes_on(tmp_path, capsys):
    cfg = _write_cfg(tmp_path, tiny_2d(optim__lr_d=1.0, optim__lr_g=1.0,
                                       loss__kind="wasserstein", run__log_every=10))
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rc = train_main(["--config", str(cfg), "--out", str(tmp_path / "run"), "--steps", "30",
                         "--no-progress"])
    finally:
        torch.set_num_threads(torch_threads)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 0
    warnings = [line for line in err if line.startswith("warning: losses are exploding: |")]
    assert warnings and "at step 10;" in warnings[0] and "lower learning rates" in warnings[0]
    assert err[-1].startswith("done: 30 steps")
    assert len(warnings) <= 2  # once, then only when 100 times larger again


@pytest.mark.slow
def test_a_first_checkpoint_cut_by_an_older_build_starts_over(tmp_path, capsys):
    """Older builds wrote G.pt and D.pt in place, then trainer.pt: a kill in between left a
    folder that could neither be resumed nor restarted. --resume now starts it over."""
    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "10",
                       "--no-progress"]) == 0
    (run / "checkpoints/last/trainer.pt").unlink()
    (run / "checkpoints/last/G.pt.abc.tmp").write_bytes(b"half")
    capsys.readouterr()
    assert train_main(["--out", str(run), "--resume", "--steps", "10", "--no-progress"]) == 0
    assert capsys.readouterr().err.startswith(f"note: {run} has no checkpoint yet")
    assert _steps(run / "metrics.jsonl") == [5, 10]
    assert sorted(p.name for p in (run / "checkpoints/last").iterdir()) == ["D.pt", "G.pt",
                                                                           "trainer.pt"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last"]


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_set(tmp_path, monkeypatch, capsys):
    import errno

    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    real_save = torch.save
    saves = []

    def save(obj, fh, *a, **k):
        saves.append(1)
        if len(saves) == 5:  # D.pt of the second checkpoint (step 20)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, fh, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "40",
                       "--no-progress"]) == 2
    err = _one_error_line(capsys)
    from core.disk_errors import device_name

    assert err == (f"error: no space left on {device_name(run)} writing "
                   f"{run / 'checkpoints' / 'last' / 'D.pt'}; the last good checkpoint (step 10) "
                   f"is in {run / 'checkpoints' / 'last'}")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last"]
    assert load_trainer_state(run / "checkpoints/last/trainer.pt")["step"] == 10


def test_a_gpu_failure_suggests_the_cpu(tmp_path, monkeypatch, capsys):
    """The same line from a CUDA run (the device reported as cuda; no GPU is needed)."""
    cfg = _write_cfg(tmp_path, tiny_2d())
    run = tmp_path / "run"
    real_step = Trainer._step

    def step(self):
        if self.step_count == 12:
            self.device = torch.device("cuda", 0)  # what a CUDA trainer reports
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        real_step(self)

    monkeypatch.setattr(Trainer, "_step", step)
    assert train_main(["--config", str(cfg), "--out", str(run), "--steps", "40",
                       "--no-progress"]) == 4
    err = _one_error_line(capsys)
    assert err == (f"error: out of memory on cuda:0 in step 13: CUDA out of memory. Tried to "
                   f"allocate 8.00 GiB; the last good checkpoint (step 10) is in "
                   f"{run / 'checkpoints' / 'last'}; continue with --out {run} --resume "
                   f"--device cpu, or with a smaller batch: --resume --change "
                   f"10:data.batch_size=32")
