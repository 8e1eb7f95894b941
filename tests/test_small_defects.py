"""Issue 19, defects 5 and 6: an unwritable sweep --out, a full disk, SNGAN_GUI_HOME that is a
file, a followed file rewritten in place, a followed folder deleted, a metrics line whose step
is not an integer, and the sweep's "set run.steps with 'steps'" line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core import config as C
from core import runreader
from core.disk_errors import torch_save, write_error_text
from core.runreader import JsonlTail, RunGoneError, RunReader
from core.sweep import sweep_main
from tests.helpers import tiny_2d

ROOT = Path(__file__).resolve().parents[1]


def _one_line(text: str) -> str:
    text = text.strip()
    assert len(text.splitlines()) == 1 and "Traceback" not in text, text
    return text


# ---------------------------------------------------------------------------- defect 5
def test_sweep_out_under_a_file_exits_2_with_one_line(tmp_path, capsys):
    C.save(tiny_2d(), tmp_path / "base.toml")
    sweep = tmp_path / "s.toml"
    sweep.write_text('base = "base.toml"\nsteps = 5\n', encoding="utf-8")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert sweep_main([str(sweep), "--out", str(blocker / "out"), "--no-progress"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert err == f"error: cannot write --out {blocker / 'out'}: Not a directory"


# ---------------------------------------------------------------------------- defect 6
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_torch_save_on_a_full_device_is_the_os_error():
    with open("/dev/full", "wb", buffering=0) as fh, pytest.raises(OSError) as info:
        torch_save({"w": torch.zeros(100_000)}, fh, "/some/run/checkpoints/last/G.pt")
    assert info.value.errno == 28 and info.value.filename == "/some/run/checkpoints/last/G.pt"
    text = write_error_text(info.value.filename, info.value)
    assert text.startswith("no space left on ") and text.endswith(
        " writing /some/run/checkpoints/last/G.pt")


def _small_tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    if shutil.which("mount") is None or sys.platform != "linux":
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def test_a_full_disk_is_named_as_one(tmp_path):
    disk = tmp_path / "disk"
    if not _small_tmpfs(disk, "300k"):
        pytest.skip("mounting a small tmpfs needs root on Linux")
    try:
        cfg = tmp_path / "cfg.toml"
        C.save(tiny_2d(**{"model__g_width": 128, "model__d_width": 128}), cfg)
        run = disk / "run"
        done = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--config",
                               str(cfg), "--out", str(run), "--steps", "10", "--no-progress"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2
        err = _one_line(done.stderr)
        assert err.startswith(f"error: no space left on tmpfs (mounted at {disk}) writing "
                              f"{run}"), err
        assert "inline_container" not in err
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_sngan_gui_home_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    from sngan_gui.app import main as gui_main

    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("SNGAN_GUI_HOME", str(home))
    assert gui_main([]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"error: SNGAN_GUI_HOME={home} is a file, not a folder; point SNGAN_GUI_HOME at a "
        f"folder (or unset it)")


def _lines(*steps):
    return "".join(json.dumps({"step": s, "loss_d": float(s)}) + "\n" for s in steps)


def test_a_file_rewritten_in_place_longer_is_read_again_from_its_start(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(_lines(10, 20, 30))
    tail = JsonlTail(path, require_step=True)
    assert [o["step"] for o in tail.read_new()] == [10, 20, 30]
    ino = path.stat().st_ino
    with open(path, "r+") as fh:  # truncated and rewritten longer, same inode, between polls
        fh.truncate(0)
        fh.write(_lines(100, 200, 300, 400, 500))
    assert path.stat().st_ino == ino
    assert [o["step"] for o in tail.read_new()] == [100, 200, 300, 400, 500]
    assert tail.restarted and tail.problems == []
    with open(path, "a") as fh:  # appending afterwards is read incrementally again
        fh.write(_lines(600))
    assert [o["step"] for o in tail.read_new()] == [600] and not tail.restarted


def _run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    C.save(tiny_2d(), run / "config.toml")
    (run / "metrics.jsonl").write_text(_lines(5, 10))
    return run


def test_a_metrics_line_without_an_integer_step_is_reported(tmp_path):
    run = _run_folder(tmp_path)
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 15.5, "loss_d": 1.0}\n{"step": "20", "loss_d": 1.0}\n'
                 '{"step": true}\n' + _lines(25))
    reader = RunReader(run)
    assert [m["step"] for m in reader.poll().metrics] == [5, 10, 25]
    assert [str(p) for p in reader.problems] == [
        f"{run / 'metrics.jsonl'} line 3 has no integer 'step' (got 15.5)",
        f"{run / 'metrics.jsonl'} line 4 has no integer 'step' (got '20')",
        f"{run / 'metrics.jsonl'} line 5 has no integer 'step' (got True)"]


def test_a_deleted_run_folder_ends_the_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(runreader, "GONE_AFTER_S", 0.3)
    run = _run_folder(tmp_path)
    reader = RunReader(run)
    assert len(reader.poll().metrics) == 2
    shutil.rmtree(run)
    assert not reader.poll()  # gone for a moment: a sweep may be writing it again
    time.sleep(0.4)
    with pytest.raises(RunGoneError, match="no longer exists"):
        reader.poll()


def test_a_folder_removed_and_written_again_at_once_is_followed_on(tmp_path):
    run = _run_folder(tmp_path)
    reader = RunReader(run)
    assert len(reader.poll().metrics) == 2
    shutil.rmtree(run)
    assert not reader.poll()
    _run_folder(tmp_path)  # a sweep restarting a trial: same folder, new files
    (run / "metrics.jsonl").write_text(_lines(1, 2, 3))
    update = reader.poll()
    assert [m["step"] for m in update.metrics] == [1, 2, 3] and update.restarted


def test_sweep_names_the_top_level_steps_key(tmp_path, capsys):
    C.save(tiny_2d(), tmp_path / "base.toml")
    sweep = tmp_path / "s.toml"
    sweep.write_text('base = "base.toml"\n[set]\n"run.steps" = 3\n', encoding="utf-8")
    assert sweep_main([str(sweep), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "set run.steps with 'steps' at the top level" in err and "stepss" not in err
