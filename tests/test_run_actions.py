"""What a run can do next (sngan_gui.run_actions, Qt-free: an import contract in
pyproject.toml), without Qt: the same rules for every run, whatever it came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sngan_gui.run_actions import RunFacts, run_actions
from sngan_gui.run_model import Fault, RunState

NEW = RunFacts(state=RunState.IDLE, fault=None, can_continue=False, device=None,
               made_here=True, process=False, playing=False, folder=None, last_step=None,
               steps=100, checkpoint=False, writer=None)


def facts(**changes) -> RunFacts:
    return dataclasses.replace(NEW, **changes)


def test_a_new_run_starts_and_a_training_one_pauses():
    new = run_actions(NEW)
    assert new.play == new.step == "" and not new.pause and not new.continue_run
    assert new.resume == "it has no run folder"
    training = run_actions(facts(state=RunState.RUNNING, process=True, playing=True,
                                 folder=Path("/runs/a"), last_step=40))
    assert training.pause and training.play == "" and training.step == "it is training"
    assert training.resume == "it is training"


@pytest.mark.parametrize("made_here", [True, False])
def test_a_stopped_run_resumes_whatever_it_came_from(made_here):
    stopped = facts(made_here=made_here, folder=Path("/runs/a"), last_step=40, checkpoint=True)
    acts = run_actions(stopped)
    assert acts.play == acts.step == acts.resume == "" and not acts.pause
    assert run_actions(dataclasses.replace(stopped, checkpoint=False)).play == \
        "/runs/a has no checkpoint"
    finished = run_actions(dataclasses.replace(stopped, last_step=100, state=RunState.FINISHED))
    assert finished.play == "it is finished (100 steps)"
    assert run_actions(dataclasses.replace(stopped, last_step=100, steps=200)).play == ""
    written = run_actions(dataclasses.replace(stopped, writer="pid 7 on host (train)"))
    assert written.play == "pid 7 on host (train) is writing it"


@pytest.mark.parametrize("fault,state", [(Fault.DIVERGED, RunState.DIVERGED),
                                         (Fault.DEVICE, RunState.FAILED),
                                         (Fault.CRASHED, RunState.FAILED)])
@pytest.mark.parametrize("made_here", [True, False])
def test_a_fault_halts_any_run_until_it_continues(fault, state, made_here):
    halted = facts(state=state, fault=fault, can_continue=True, device="cuda:0",
                   made_here=made_here, process=fault is not Fault.CRASHED,
                   folder=Path("/runs/b"), last_step=14, checkpoint=True)
    acts = run_actions(halted)
    assert acts.halted and acts.play and acts.step and not acts.pause
    assert acts.continue_run and acts.continue_cpu == (fault is Fault.DEVICE)
    assert not run_actions(dataclasses.replace(halted, device="cpu")).continue_cpu
    assert not run_actions(dataclasses.replace(halted, folder=None)).continue_run


def test_a_run_whose_start_failed_starts_again():
    failed = facts(state=RunState.FAILED, fault=Fault.ERROR, folder=None)
    acts = run_actions(failed)
    assert acts.play == "" and not acts.halted and not acts.continue_run
