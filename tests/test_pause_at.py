"""Pause at step N and a change scheduled from a running loop (issue 21: "step 750" is hard to
catch at 80 steps/s): the loop stops exactly at N, and a scheduled change writes the event a
``train --change`` writes, at the same step, and lands in schedule.json."""

from __future__ import annotations

import json

from core import contract as c
from core.cli import train_main
from core import config as C
from helpers import tiny_2d
from test_runloop import Driver


def test_the_loop_pauses_exactly_at_the_step_asked(tmp_path):
    d = Driver(tmp_path, tiny_2d(run__steps=100))
    assert d.loop.start()
    d.send(c.PauseAt(23), c.Play())
    d.tick_until(lambda: not d.loop.busy)
    d.loop.tick()
    assert d.progress().step == 23 and not d.progress().running
    assert "paused at step 23" in d.of(c.RunMessage)[-1].text
    d.send(c.PauseAt(10))  # passed already: refused, nothing else changes
    d.loop.tick()
    assert "already" in d.of(c.RunMessage)[-1].text and d.loop.pause_at is None
    d.loop.close()


def _events(run_dir) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "time"}
            for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_a_scheduled_change_writes_what_train_change_writes(tmp_path):
    cfg = tiny_2d(run__steps=30)
    d = Driver(tmp_path, cfg)
    assert d.loop.start()
    d.send(c.ScheduleChange(12, "constraints.spectral.enabled", True), c.Play())
    d.tick_until(lambda: d.loop.session.done)
    d.loop.close()
    schedule = json.loads((d.run_dir / "schedule.json").read_text())
    assert schedule["changes"] == [{"step": 12, "change": {"constraints.spectral.enabled": True}}]

    path = tmp_path / "cfg.toml"
    C.save(cfg, path)
    out = tmp_path / "cli"
    assert train_main(["--config", str(path), "--out", str(out), "--no-progress",
                       "--change", "12:constraints.spectral.enabled=true"]) == 0
    assert _events(d.run_dir) == _events(out) and _events(out)[0]["step"] == 12


def test_a_scheduled_change_is_checked_when_asked(tmp_path):
    d = Driver(tmp_path, tiny_2d(run__steps=30))
    assert d.loop.start()
    d.send(c.Step(5))
    d.tick_until(lambda: not d.loop.busy)
    for cmd, why in ((c.ScheduleChange(3, "optim.lr_d", 1e-3), "at step 5 already"),
                     (c.ScheduleChange(9, "model.depth", 4), "cannot change during a run"),
                     (c.ScheduleChange(9, "optim.lr_d", "-1"), "optim.lr_d")):
        d.send(cmd)
        d.loop.tick()
        assert why in d.of(c.RunMessage)[-1].text, d.of(c.RunMessage)[-1].text
    assert d.loop.session.schedule == {} or not any(d.loop.session.schedule.values())
    d.loop.close()
