"""A run stopped (or killed) and resumed, any number of times, writes the metrics and events an
uninterrupted run writes: the same lines at the same steps with the same numbers, the
wall-clock fields aside (``time``, ``time_split_ms``, ``probe_time_share``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch

from core.cli import train_main
from core.runlayout import RunPaths
from core.session import TrainingSession
from tests.helpers import tiny_2d, tiny_image

WALL_CLOCK = {"time", "time_split_ms", "probe_time_share"}


@dataclass(frozen=True)
class Case:
    """A run with a scheduled change, and where it is stopped or killed: before the change,
    just past it, between log lines and on one; killed after a periodic checkpoint, leaving
    lines after it behind."""

    make: Callable
    scale: int                      # log every `scale` steps; slow probes, checkpoints ...
    stops: tuple[int, ...]
    kills: tuple[int, ...]

    def config(self):
        k = self.scale
        return self.make(run__steps=6 * k, run__log_every=k, run__probe_every=2 * k,
                         run__checkpoint_every=k * 5 // 2, run__sample_every=3 * k)

    @property
    def change(self) -> tuple[int, str, bool]:
        return (self.scale * 3 // 2, "constraints.spectral.enabled", True)

    @property
    def log_steps(self) -> list[int]:
        return list(range(self.scale, 6 * self.scale + 1, self.scale))


CASES = {"mlp": Case(tiny_2d, 10, stops=(7, 16, 33, 40, 57), kills=(38, 55)),
         "dcgan": Case(tiny_image, 2, stops=(1, 4, 7, 10), kills=(8, 11))}


def _lines(folder: Path, name: str = "metrics") -> list[dict]:
    path = getattr(RunPaths(folder), name)
    return [{k: v for k, v in json.loads(line).items() if k not in WALL_CLOCK}
            for line in path.read_text().splitlines()]


def _train(folder: Path, case: Case, stops=(), *, kill=False) -> None:
    """Train to the end, stopping (finish(), as Ctrl-C or the app's Stop do) or, with
    ``kill``, dropping the session without a word (as kill -9 does) at each step of
    ``stops``, and resuming."""
    session = TrainingSession(folder, case.config(), changes=[case.change])
    for stop in (*stops, None):
        while not session.done and (stop is None or session.trainer.step_count < stop):
            session.advance()
        if stop is None:
            session.finish()
        else:
            session.close() if kill else session.finish()
            session = TrainingSession(folder, resume=True, changes=[case.change])


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "killed"])
@pytest.mark.parametrize("name", ["mlp", pytest.param("dcgan", marks=pytest.mark.slow)])
def test_a_resumed_run_writes_the_lines_of_an_uninterrupted_run(tmp_path, name, kill):
    case = CASES[name]
    _train(tmp_path / "straight", case)
    _train(tmp_path / "resumed", case, case.kills if kill else case.stops, kill=kill)
    straight, resumed = _lines(tmp_path / "straight"), _lines(tmp_path / "resumed")
    assert [m["step"] for m in resumed] == case.log_steps
    assert resumed == straight
    assert _lines(tmp_path / "resumed", "events") == _lines(tmp_path / "straight", "events")
    a = torch.load(RunPaths(tmp_path / "straight").critic_checkpoint, weights_only=True)
    b = torch.load(RunPaths(tmp_path / "resumed").critic_checkpoint, weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_stop_line_stays_until_the_run_is_resumed(tmp_path):
    """A stopped run shows where it stopped; its resume writes the cadence's line instead."""
    folder = tmp_path / "run"
    cfg = CASES["mlp"].config()
    session = TrainingSession(folder, cfg)
    while session.trainer.step_count < 33:
        session.advance()
    session.finish()
    assert [m["step"] for m in _lines(folder)] == [10, 20, 30, 33]
    state = torch.load(RunPaths(folder).trainer_checkpoint, weights_only=True)
    assert state["step"] == 33 and state["session"]["logged_step"] == 30
    TrainingSession(folder, resume=True).close()
    assert [m["step"] for m in _lines(folder)] == [10, 20, 30]


def test_a_checkpoint_of_an_older_build_resumes_as_before(tmp_path):
    """Without the checkpoint's session entry the stop line is kept and the probes start
    their streams again (what every resume did before)."""
    folder = tmp_path / "run"
    session = TrainingSession(folder, CASES["mlp"].config())
    while session.trainer.step_count < 33:
        session.advance()
    session.finish()
    path = RunPaths(folder).trainer_checkpoint
    state = torch.load(path, weights_only=True)
    del state["session"]
    torch.save(state, path)
    session = TrainingSession(folder, resume=True)
    while not session.done:
        session.advance()
    session.finish()
    assert [m["step"] for m in _lines(folder)] == [10, 20, 30, 33, 40, 50, 60]


def test_a_damaged_session_entry_is_one_line_naming_the_file(tmp_path, capsys):
    folder = tmp_path / "run"
    session = TrainingSession(folder, CASES["mlp"].config())
    for _ in range(12):
        session.advance()
    session.finish()
    path = RunPaths(folder).trainer_checkpoint
    state = torch.load(path, weights_only=True)
    state["session"] = {"logged_step": "ten"}
    torch.save(state, path)
    before = RunPaths(folder).metrics.read_bytes()
    assert train_main(["--out", str(folder), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {path} is damaged: its session entry is not "
                   f"{{logged_step, slow_step, probes}}")
    assert RunPaths(folder).metrics.read_bytes() == before  # nothing trimmed
