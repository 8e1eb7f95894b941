"""Real signals (SIGKILL, SIGTERM, SIGINT) to a real ``python main.py train``.

The moment is made exact with the test-only pause points of ``core/pause_points.py``: the
process stops at a named place (a checkpoint file written, a trim about to happen, a metrics
line written), writes the place's name to a marker file and waits until the test deletes it;
the test signals it while it waits there. Each run then continues with ``--resume`` and must
end bit for bit where an uninterrupted run ends (ring8, tiny models, one torch thread).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core import config as C
from core.checkpoint import load_trainer_state
from core.cli import train_main
from core.pause_points import ENV_FILE, ENV_STAGES
from tests.helpers import tiny_2d

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow,  # each test signals a real `python main.py train` process
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / "cfg.toml"
    C.save(tiny_2d(run__log_every=5, run__checkpoint_every=10), path)
    return path


class Train:
    """``python main.py train ...`` in a subprocess, one torch thread, optional pause points."""

    def __init__(self, tmp_path, args, pause=None):
        self.marker = tmp_path / "paused"
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop(ENV_STAGES, None)
        if pause:
            env[ENV_STAGES], env[ENV_FILE] = pause, str(self.marker)
        self.proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "train", *map(str, args),
                                      "--no-progress"], cwd=REPO, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_paused(self, timeout=90.0) -> str:
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode} before pausing: "
                                     f"{self.proc.stderr.read()}")
            assert time.monotonic() < deadline, "never paused"
            time.sleep(0.01)
        return self.marker.read_text()

    def release(self) -> None:
        self.marker.unlink()

    def signal(self, sig) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout=120.0):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.marker.unlink(missing_ok=True)
        return self.proc.returncode, err


def _steps(path):
    return [json.loads(line)["step"] for line in Path(path).read_text().splitlines()]


def _load(run):
    last = Path(run) / "checkpoints" / "last"
    state = load_trainer_state(last / "trainer.pt")
    return state, torch.load(last / "G.pt", weights_only=True), torch.load(last / "D.pt",
                                                                           weights_only=True)


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _assert_consistent_set(run, step, leftovers_ok=False):
    """The three files come from one step (no constraint: D.pt is D's own state dict)."""
    state, g, d = _load(run)
    assert state["step"] == step
    assert _same(g, state["G"]) and _same(d, state["D"])
    if leftovers_ok:
        return
    leftovers = [p.name for p in (Path(run) / "checkpoints").iterdir() if p.name != "last"]
    leftovers += [p.name for p in (Path(run) / "checkpoints" / "last").iterdir()
                  if p.suffix != ".pt"]
    assert leftovers == []


def _resume_in_process(run, steps):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the subprocess
    try:
        return train_main(["--out", str(run), "--resume", "--steps", str(steps), "--no-progress"])
    finally:
        torch.set_num_threads(threads)


def _reference(tmp_path, cfg_file, steps):
    ref = tmp_path / f"ref{steps}"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert train_main(["--config", str(cfg_file), "--out", str(ref), "--steps", str(steps),
                           "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
    return ref


def _assert_same_run(run, ref):
    _, g, d = _load(run)
    _, g_ref, d_ref = _load(ref)
    assert _same(g, g_ref) and _same(d, d_ref)


# ---------------------------------------------------------------------------- defect 9
@pytest.mark.parametrize("moment", ["checkpoint:trainer.pt@2", "checkpoint:swap@2"])
def test_sigkill_while_a_checkpoint_is_written_leaves_one_consistent_set(tmp_path, cfg_file,
                                                                        moment):
    """Killed after trainer.pt of step 20 was written (before the set is swapped in), or
    between the swap's two renames: the set is step 10's or step 20's, never a mix, and the
    run resumes and ends as an uninterrupted run does, with nothing left over."""
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 1000], pause=moment)
    t.wait_paused()
    t.signal(signal.SIGKILL)
    assert t.finish()[0] == -signal.SIGKILL
    if moment.startswith("checkpoint:trainer.pt"):
        _assert_consistent_set(run, 10, leftovers_ok=True)  # on disk, before any repair
    assert _resume_in_process(run, 30) == 0
    _assert_consistent_set(run, 30)
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20, 25, 30]
    _assert_same_run(run, _reference(tmp_path, cfg_file, 30))


def test_sigkill_during_the_first_checkpoint_can_be_resumed_and_says_how(tmp_path, cfg_file,
                                                                         capsys):
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 1000],
              pause="checkpoint:D.pt@1")
    t.wait_paused()
    t.signal(signal.SIGKILL)
    t.finish()
    # The same command again is refused, and says what to do.
    assert train_main(["--config", str(cfg_file), "--out", str(run), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {run} is not empty; it holds a run stopped before its first checkpoint: "
        f"--resume starts it over from step 0 with its config.toml, or choose a new folder")
    assert _resume_in_process(run, 20) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == (f"note: {run} has no checkpoint yet (it was stopped before its first "
                      f"one): starting it over from step 0 with its config.toml")
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20]
    _assert_consistent_set(run, 20)
    _assert_same_run(run, _reference(tmp_path, cfg_file, 20))


# ---------------------------------------------------------------------------- defect 1
def test_ctrl_c_during_the_resume_trim_loses_no_history(tmp_path, cfg_file):
    """Killed at step 25 (checkpoint 20), then a resume interrupted by Ctrl-C just before it
    cuts the lines after the checkpoint: metrics.jsonl is whole; the next resume ends as an
    uninterrupted run."""
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 1000], pause="log@5")
    t.wait_paused()
    t.signal(signal.SIGKILL)
    t.finish()
    before = (run / "metrics.jsonl").read_bytes()
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20, 25]

    t = Train(tmp_path, ["--out", run, "--resume", "--steps", 40], pause="trim:metrics.jsonl")
    assert t.wait_paused() == "trim:metrics.jsonl"
    t.signal(signal.SIGINT)
    rc, err = t.finish()
    assert rc == 130 and err.strip() == "interrupted before training started"
    assert (run / "metrics.jsonl").read_bytes() == before

    assert _resume_in_process(run, 40) == 0
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20, 25, 30, 35, 40]
    _assert_same_run(run, _reference(tmp_path, cfg_file, 40))


# ---------------------------------------------------------------------------- defect 4
def test_sigterm_stops_like_ctrl_c_with_a_final_checkpoint(tmp_path, cfg_file):
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 100000], pause="log@2")
    t.wait_paused()
    t.signal(signal.SIGTERM)  # received while at step 10's line: training stops after it
    t.release()
    rc, err = t.finish()
    assert rc == 143
    assert err.strip() == f"terminated (SIGTERM) at step 10; continue with --out {run} --resume"
    _assert_consistent_set(run, 10)
    assert _steps(run / "metrics.jsonl") == [5, 10]


def test_sigterm_mid_interval_and_resume_is_bit_for_bit(tmp_path, cfg_file):
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 100000])
    deadline = time.monotonic() + 90
    while not ((run / "metrics.jsonl").exists() and (run / "metrics.jsonl").read_text()):
        assert time.monotonic() < deadline and t.proc.poll() is None
        time.sleep(0.01)
    t.signal(signal.SIGTERM)
    rc, err = t.finish()
    assert rc == 143, err
    step = _steps(run / "metrics.jsonl")[-1]  # the final line is the stopping step
    assert err.strip() == f"terminated (SIGTERM) at step {step}; continue with --out {run} --resume"
    _assert_consistent_set(run, step)
    assert _resume_in_process(run, step + 7) == 0
    _assert_same_run(run, _reference(tmp_path, cfg_file, step + 7))


def test_a_second_signal_during_the_final_checkpoint_keeps_the_previous_set(tmp_path, cfg_file):
    """Ctrl-C at step 15's line; while the final checkpoint (step 15) is being written, a
    SIGTERM: no traceback, one line, step 10's set whole, nothing left over; resume works."""
    run = tmp_path / "run"
    t = Train(tmp_path, ["--config", cfg_file, "--out", run, "--steps", 100000],
              pause="log@3,checkpoint:D.pt@2")
    assert t.wait_paused() == "log"
    t.signal(signal.SIGINT)
    t.release()
    assert t.wait_paused() == "checkpoint:D.pt"
    t.signal(signal.SIGTERM)
    rc, err = t.finish()
    assert rc == 130 and "Traceback" not in err
    assert err.strip() == (
        f"interrupted while the final checkpoint was written, which was abandoned; the last "
        f"good checkpoint (step 10) is in {run / 'checkpoints' / 'last'}; continue with --out "
        f"{run} --resume")
    _assert_consistent_set(run, 10)
    assert _resume_in_process(run, 20) == 0
    assert _steps(run / "metrics.jsonl") == [5, 10, 15, 20]
    _assert_same_run(run, _reference(tmp_path, cfg_file, 20))
