"""Step D / Step G: one update of one network alone, in the trainer, the session and the run
loop (no Qt); the counters, metrics and events stay true."""

import json
import queue
import threading

import pytest
import torch

from core import contract as c
from core.runloop import RunLoop
from core.session import TrainingSession
from core.trainer import Trainer
from tests.helpers import tiny_2d, tiny_image


def _copy(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("make", [tiny_2d, tiny_image])
def test_d_step_leaves_g_bit_identical_and_g_step_leaves_d(make):
    t = Trainer(make(optim__n_critic=2))
    t.step()
    g, d = _copy(t.G), _copy(t.D)
    t.step_d()
    assert _same(g, _copy(t.G)) and not _same(d, _copy(t.D))
    assert (t.step_count, t.d_updates, t.g_updates) == (1, 3, 1)
    d = _copy(t.D)
    t.step_g()  # D's forward runs in train mode, its BatchNorm statistics are put back
    assert _same(d, _copy(t.D)) and not _same(g, _copy(t.G))
    assert (t.step_count, t.d_updates, t.g_updates) == (2, 3, 2)
    assert [(e["step"], e["change"]) for e in t.drain_events()] == [
        (1, {"update": "D"}), (1, {"update": "G"})]


def test_log_line_means_count_each_update_once():
    t = Trainer(tiny_2d())
    t.step()
    t.log_record()
    t.step_d()
    t.step_d()
    t.step_g()
    rec = t.log_record()
    assert rec["step"] == 2 and rec["d_updates"] == 3 and rec["g_updates"] == 2
    assert rec["loss_d"] is not None and rec["loss_g"] is not None
    t.step_g()
    rec = t.log_record()  # only a G update since the last line: no D loss to average
    assert rec["loss_d"] is None and rec["d_real"] is None and rec["loss_g"] is not None


def test_d_only_updates_are_kept_by_a_checkpoint_of_a_later_step(tmp_path):
    cfg = tiny_2d(run__steps=4, run__checkpoint_every=2, run__log_every=2)
    s = TrainingSession(tmp_path / "run", cfg)
    s.advance()
    assert s.advance("D") is None  # no generator step: no line
    s.advance()  # step 2: line and checkpoint
    s.finish()
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(m["step"], m["d_updates"], m["g_updates"]) for m in lines] == [(2, 3, 2)]
    resumed = TrainingSession(tmp_path / "run", resume=True)
    assert (resumed.trainer.d_updates, resumed.trainer.g_updates) == (3, 2)
    resumed.close()


def _driver(tmp_path, cfg):
    commands, reports = queue.SimpleQueue(), []
    loop = RunLoop(cfg, tmp_path / "run", commands, threading.Event(), reports.append,
                   torch_threads=1)
    return loop, commands, reports


def test_run_loop_steps_d_and_g_alone_then_pauses(tmp_path):
    loop, commands, reports = _driver(tmp_path, tiny_2d(run__steps=50))
    assert loop.start()
    commands.put(c.Step(3))
    for _ in range(50):
        loop.tick()
    g = _copy(loop.session.trainer.G)
    progress = [r for r in reports if isinstance(r, c.RunProgress)]
    landscape = progress[-1].snapshot.landscape if progress[-1].snapshot else None
    commands.put(c.StepD())
    loop.tick()
    loop.tick()
    p = [r for r in reports if isinstance(r, c.RunProgress)][-1]
    assert not loop.busy and not p.running
    assert (p.step, p.d_updates, p.g_updates) == (3, 4, 3)
    assert _same(g, _copy(loop.session.trainer.G))
    assert [e.change for e in p.events] == [{"update": "D"}]
    # the drawn arrays are measured again at the same step: D moved
    assert p.snapshot is not None and p.snapshot.landscape is not None
    assert p.snapshot.landscape is not landscape and p.snapshot.landscape.step == 3
    commands.put(c.Play())
    loop.tick()
    commands.put(c.StepG())  # while playing: pause, then G alone
    loop.tick()
    loop.tick()
    assert not loop.busy
    assert loop.session.trainer.g_updates == loop.session.trainer.step_count
    loop.close()


def test_step_d_is_refused_while_halted_and_after_the_end(tmp_path):
    loop, commands, reports = _driver(tmp_path, tiny_2d(run__steps=2))
    assert loop.start()
    commands.put(c.Step(2))
    for _ in range(5):
        loop.tick()
    commands.put(c.StepD())
    loop.tick()
    assert "finished" in [r for r in reports if isinstance(r, c.RunMessage)][-1].text
    assert loop.session.trainer.d_updates == 2
    loop.close()
