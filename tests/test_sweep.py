"""``python main.py sweep``: sweep files, the summary, worker processes, interruption and
resume, diverged trials, bad input."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core import config as C
from core.sweep import load_sweep, sweep_main
from tests.helpers import tiny_2d

ROOT = Path(__file__).resolve().parents[1]
STEPS = 300


def _base(tmp_path: Path, **sets) -> Path:
    path = tmp_path / "base.toml"
    C.save(tiny_2d(**{"run__log_every": 20, "run__checkpoint_every": 50,
                      "run__probe_every": 100, **sets}), path)
    return path


def _sweep_file(tmp_path: Path, body: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


GRID_2x2 = f"""
base = "base.toml"
steps = {STEPS}
seeds = [0, 1]
[grid]
"constraints.spectral.enabled" = [false, true]
"""


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _metric_steps(folder: Path) -> list[int]:
    import json
    return [json.loads(line)["step"] for line in
            (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def test_sweep_file_trials_names_and_overrides(tmp_path):
    _base(tmp_path)
    path = _sweep_file(tmp_path, """
base = "base.toml"
steps = 50
seeds = [3, 4]
changes = ["20:optim.lr_d=0.0005"]
[set.optim]
lr_g = 0.002
[grid]
"loss.kind" = ["bce", "hinge"]
[variants.none]
[variants.clip]
"constraints.clip.enabled" = true
"constraints.clip.c" = 0.05
""")
    sweep = load_sweep(path)
    assert [t.name for t in sweep.trials] == [
        "none_loss.kind=bce_seed3", "none_loss.kind=bce_seed4",
        "none_loss.kind=hinge_seed3", "none_loss.kind=hinge_seed4",
        "clip_loss.kind=bce_seed3", "clip_loss.kind=bce_seed4",
        "clip_loss.kind=hinge_seed3", "clip_loss.kind=hinge_seed4"]
    clip = sweep.trials[-1].config
    assert clip["constraints"]["clip"] == {"enabled": True, "c": 0.05}
    assert clip["loss"]["kind"] == "hinge" and clip["run"]["seed"] == 4
    assert clip["run"]["steps"] == 50 and clip["optim"]["lr_g"] == 0.002
    assert not sweep.trials[0].config["constraints"]["clip"]["enabled"]
    assert sweep.trials[0].changes == ["20:optim.lr_d=0.0005"]
    assert sweep.grid_keys == ["loss.kind"] and sweep.variants == ["none", "clip"]


def _summary_checks(out: Path, rows: list[dict[str, str]]) -> None:
    assert [r["name"] for r in rows] == [
        "spectral.enabled=false_seed0", "spectral.enabled=false_seed1",
        "spectral.enabled=true_seed0", "spectral.enabled=true_seed1"]
    for r in rows:
        assert r["status"] == "done" and int(r["steps"]) == STEPS
        assert r["threads"] == "1"  # 2 workers on this machine's 2 cores (or more)
        folder = out / r["name"]
        assert (folder / "checkpoints" / "last" / "D.pt").is_file()
        # the summary's numbers are the run folder's last line
        import json
        last = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
        assert float(r["final_loss_d"]) == pytest.approx(last["loss_d"], rel=1e-5)
        assert float(r["final_sigma_max"]) == pytest.approx(max(last["sigma"].values()), rel=1e-5)
        assert float(r["final_modes"]) == last["modes"]
        assert float(r["ms_per_step"]) > 0
    spectral = [r for r in rows if r["constraints.spectral.enabled"] == "true"]
    assert all(abs(float(r["final_sigma_max"]) - 1) < 0.05 for r in spectral)


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _state(out: Path, names: list[str]) -> tuple[list[str], list[str]]:
    """(trials the sweep recorded as done, unfinished trials with a checkpoint)."""
    try:
        recorded = {r["name"] for r in _rows(out) if r["status"] == "done"}
    except (OSError, KeyError):
        recorded = set()
    done, with_checkpoint = [], []
    for name in names:
        folder = out / name
        try:
            steps = _metric_steps(folder)
        except (OSError, ValueError):
            continue
        if steps and steps[-1] >= STEPS:
            if name in recorded:
                done.append(name)
        elif (folder / "checkpoints" / "last" / "trainer.pt").is_file():
            with_checkpoint.append(name)
    return done, with_checkpoint


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_sweep_2_workers_killed_midway_resumes_to_the_same_results(tmp_path, capfd):
    _base(tmp_path)
    sweep_path = _sweep_file(tmp_path, GRID_2x2)
    names = [t.name for t in load_sweep(sweep_path).trials]

    # An uninterrupted reference (in this process, 2 spawned workers).
    ref = tmp_path / "ref"
    assert sweep_main([str(sweep_path), "--out", str(ref), "--workers", "2",
                       "--no-progress"]) == 0
    _summary_checks(ref, _rows(ref))

    # The same sweep, killed (SIGKILL, no chance to clean up) once one trial has finished
    # (and the summary says so) and another has a checkpoint but has not finished: a state
    # that always occurs, since with 4 trials on 2 workers the third starts only after a
    # first has finished, and a trial checkpoints every 50 of its 300 steps.
    out = tmp_path / "out"
    # Output goes to a file, not a pipe: orphaned workers inherit it, and a worker that did
    # not exit would make reading a pipe to its end hang instead of failing below.
    with open(tmp_path / "sweep.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "sweep",
                                 str(sweep_path), "--out", str(out), "--workers", "2",
                                 "--no-progress"], cwd=ROOT, stdout=log, stderr=log)
    workers: list[int] = []
    try:
        _wait_for(lambda: all(_state(out, names)), 120, "a finished and a checkpointed trial")
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # Orphaned workers notice, checkpoint and exit, whether training or idle between
        # two trials (blocked on the pool's queue).
        _wait_for(lambda: all(_gone(pid) for pid in workers), 30, "the workers to exit")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
    done, partial = _state(out, names)
    assert done and partial and len(done) < 4
    stamps = {n: (out / n / "metrics.jsonl").stat().st_mtime_ns for n in done}
    partial_steps = {n: _metric_steps(out / n)[-1] for n in partial}

    capfd.readouterr()
    assert sweep_main([str(sweep_path), "--out", str(out), "--workers", "2",
                       "--no-progress"]) == 0
    assert "already finished" in capfd.readouterr().err
    rows = _rows(out)
    _summary_checks(out, rows)
    by_name = {r["name"]: r for r in rows}
    for n in done:  # finished trials were not run again
        assert (out / n / "metrics.jsonl").stat().st_mtime_ns == stamps[n]
    for n in partial:  # resumed from the checkpoint written when the sweep died
        assert int(by_name[n]["resumed_from"]) == partial_steps[n] > 0
        steps = _metric_steps(out / n)
        assert steps == sorted(set(steps)) and steps[-1] == STEPS
    # Training resumes bit for bit: the same final weights and coverage as the reference.
    for n in names:
        a = torch.load(out / n / "checkpoints/last/D.pt", weights_only=True)
        b = torch.load(ref / n / "checkpoints/last/D.pt", weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in a), n
        assert by_name[n]["final_hq"] == {r["name"]: r for r in _rows(ref)}[n]["final_hq"]


# A sweep process with one idle worker (its trial done, the queue empty): it prints the
# worker's pid, then waits to be killed.
_IDLE_POOL = """
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from core.trial import init_worker
if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=init_worker,
                               initargs=(1, ctx.Event(), os.getpid()))
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_idle_worker_of_a_killed_sweep_exits(tmp_path):
    script = tmp_path / "idle_pool.py"
    script.write_text(_IDLE_POOL)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    worker = None
    try:
        worker = int(proc.stdout.readline())
        proc.kill()
        proc.wait(10)
        _wait_for(lambda: _gone(worker), 20, "the idle worker to exit")
    finally:
        proc.kill()
        if worker is not None and not _gone(worker):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.slow
def test_sweep_sigterm_stops_with_every_row_then_resumes(tmp_path):
    _base(tmp_path)
    sweep_path = _sweep_file(tmp_path, GRID_2x2)
    names = [t.name for t in load_sweep(sweep_path).trials]
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "main.py"), "sweep", str(sweep_path), "--out", str(out),
           "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_for(lambda: _state(out, names)[1], 120, "a checkpointed trial")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    rows = _rows(out)
    assert [r["name"] for r in rows] == names  # every trial has its row
    assert {r["status"] for r in rows} <= {"done", "interrupted"}
    assert "interrupted" in {r["status"] for r in rows}
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert [r["status"] for r in _rows(out)] == ["done"] * 4


@pytest.mark.slow
def test_diverged_trial_is_a_row_not_a_crash(tmp_path):
    # A 16-layer critic with a learning rate of 1 overflows within a few steps.
    _base(tmp_path, loss__kind="wasserstein", model__depth=16, model__d_width=128,
          model__g_width=128, optim__lr_g=1.0, run__log_every=5)
    sweep_path = _sweep_file(tmp_path, """
base = "base.toml"
steps = 10
[grid]
"optim.lr_d" = [1e-4, 1.0]
""")
    out = tmp_path / "out"
    assert sweep_main([str(sweep_path), "--out", str(out), "--workers", "1",
                       "--no-progress"]) == 0
    rows = {r["optim.lr_d"]: r for r in _rows(out)}
    assert rows["1"]["status"] == "diverged" and "diverged" in rows["1"]["message"]
    assert rows["0.0001"]["status"] == "done"
    # The diverged trial keeps its folder; running the sweep again keeps the verdict.
    assert sweep_main([str(sweep_path), "--out", str(out), "--no-progress"]) == 0
    assert {r["optim.lr_d"]: r["status"] for r in _rows(out)} == {"0.0001": "done",
                                                                  "1": "diverged"}


BAD_SWEEPS = [
    ("missing.toml", None, "sweep file not found"),
    ("bad.toml", "base = ", "is not valid TOML"),
    ("bad.toml", 'base = "base.toml"\nsteep = 3', "unknown key 'steep'"),
    ("bad.toml", "steps = 3", "'base' is missing"),
    ("bad.toml", 'base = "nope.toml"', "base config not found: nope.toml"),
    ("bad.toml", 'base = "base.toml"\nsteps = 0', "'steps' must be an integer >= 1"),
    ("bad.toml", 'base = "base.toml"\nseeds = []', "'seeds' must be a non-empty list"),
    ("bad.toml", 'base = "base.toml"\nseeds = [1, 1]', "lists a seed twice"),
    ("bad.toml", 'base = "base.toml"\n[grid]\n"loss.kind" = "bce"',
     "'loss.kind' must be a non-empty list"),
    ("bad.toml", 'base = "base.toml"\n[grid]\n"loss.kinds" = ["bce"]', "unknown key 'loss.kinds'"),
    ("bad.toml", 'base = "base.toml"\n[grid]\n"optim.lr_d" = [0.001, -1]',
     "optim.lr_d must be > 0, got -1"),
    ("bad.toml", 'base = "base.toml"\n[set]\n"run.seed" = 3', "set run.seed with 'seeds'"),
    ("bad.toml", 'base = "base.toml"\nchanges = ["10:model.depth=2"]',
     "cannot change model.depth during a run"),
]


@pytest.mark.parametrize("name,body,problem", BAD_SWEEPS)
def test_bad_sweep_file_exits_2_with_one_line(tmp_path, capsys, name, body, problem):
    _base(tmp_path)
    path = tmp_path / name
    if body is not None:
        path.write_text(body, encoding="utf-8")
    out = tmp_path / "out"
    assert sweep_main([str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert str(path) in err and problem in err
    assert not out.exists()


@pytest.mark.slow
def test_out_folder_of_another_sweep_is_refused(tmp_path, capsys):
    _base(tmp_path)
    first = _sweep_file(tmp_path, 'base = "base.toml"\nsteps = 5\n', "a.toml")
    out = tmp_path / "out"
    assert sweep_main([str(first), "--out", str(out), "--no-progress", "--workers", "1"]) == 0
    second = _sweep_file(tmp_path, 'base = "base.toml"\nsteps = 7\n', "b.toml")
    capsys.readouterr()
    assert sweep_main([str(second), "--out", str(out), "--no-progress"]) == 2
    assert "holds another sweep" in capsys.readouterr().err
    other = tmp_path / "busy"
    other.mkdir()
    (other / "x").write_text("")
    assert sweep_main([str(first), "--out", str(other), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.slow
def test_main_dispatches_sweep(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "sweep", "nope.toml",
                             "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: sweep file not found: nope.toml"


@pytest.mark.slow
def test_sweep_on_a_local_ray_instance_gives_the_local_results(tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional extra 'cluster'")
    _base(tmp_path)
    sweep_path = _sweep_file(tmp_path, f'base = "base.toml"\nsteps = 60\nseeds = [0, 1]\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    outs = {}
    for how in (["--ray", "local"], ["--workers", "2"]):
        out = outs[how[0]] = tmp_path / how[0].strip("-")
        result = subprocess.run([sys.executable, str(ROOT / "main.py"), "sweep", str(sweep_path),
                                 "--out", str(out), "--no-progress", *how], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stderr[-2000:]
    rows = _rows(outs["--ray"])
    assert [(r["name"], r["status"], r["threads"]) for r in rows] == [
        ("seed0", "done", "1"), ("seed1", "done", "1")]
    for name in ("seed0", "seed1"):  # the same trial function, the same training
        a = torch.load(outs["--ray"] / name / "checkpoints/last/D.pt", weights_only=True)
        b = torch.load(outs["--workers"] / name / "checkpoints/last/D.pt", weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_ray_and_workers_together_are_refused(tmp_path, capsys):
    _base(tmp_path)
    path = _sweep_file(tmp_path, 'base = "base.toml"\n')
    assert sweep_main([str(path), "--out", str(tmp_path / "o"), "--ray", "auto",
                       "--workers", "2"]) == 2
    assert "--workers is for local runs" in capsys.readouterr().err
