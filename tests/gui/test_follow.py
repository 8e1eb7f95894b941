"""Following a run folder another process writes, and computing a snapshot in a child."""

from __future__ import annotations

import json

import pytest

from core import config as C
from core.runreader import RunReadError
from core.runsnapshot import checkpoint_view
from sngan_gui.compare.follow import QtProcessCall, QtRunFollower
from tests.helpers import cli_run_in_background, tiny_2d


def _run_folder(tmp_path, steps=30):
    run = tmp_path / "run"
    run.mkdir()
    C.save(tiny_2d(run__steps=steps), run / "config.toml")
    (run / "metrics.jsonl").write_text("")
    return run


def _append(path, text):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_follower_grows_holds_back_a_half_line_and_finishes(qtbot, tmp_path):
    run = _run_folder(tmp_path, steps=15)
    f = QtRunFollower(run, interval_ms=20)
    got, statuses, problems = [], [], []
    f.updated.connect(lambda u: got.extend(m["step"] for m in u.metrics))
    f.statusChanged.connect(statuses.append)
    f.problem.connect(problems.append)
    assert not f.start() and f.following and statuses == ["following"]
    _append(run / "metrics.jsonl", '{"step": 5, "loss_d": 1.0}\n{"step": 10, "lo')
    qtbot.waitUntil(lambda: got == [5], timeout=3000)
    qtbot.wait(100)  # several polls over the cut line: nothing parsed half, nothing twice
    assert got == [5]
    _append(run / "metrics.jsonl", 'ss_d": 0.5}\nnot json\n')
    qtbot.waitUntil(lambda: got == [5, 10], timeout=3000)
    qtbot.waitUntil(lambda: bool(problems), timeout=3000)
    assert problems == [f"{run / 'metrics.jsonl'} line 3 is not valid JSON (Expecting value)"]
    _append(run / "events.jsonl", json.dumps({"step": 12, "time": 1.0, "change": {"x": 1}}) + "\n")
    _append(run / "metrics.jsonl", '{"step": 15}\n')
    qtbot.waitUntil(lambda: f.status == "finished", timeout=3000)
    assert got == [5, 10, 15] and statuses == ["following", "finished"]
    assert f.following  # still looked at, less often (a resume may extend it)
    assert f.timer.interval() > 20
    f.stop()
    assert not f.following


def test_follower_refuses_a_folder_that_is_not_a_run(qtbot, tmp_path):
    with pytest.raises(RunReadError, match="has no config.toml"):
        QtRunFollower(tmp_path)


@pytest.mark.slow
def test_follow_a_cli_run_writing_in_the_background(qtbot, tmp_path):
    out = tmp_path / "run"
    with cli_run_in_background(tiny_2d(run__log_every=5), out, 400) as proc:
        # the CLI opens metrics.jsonl, then writes config.toml (atomically)
        qtbot.waitUntil(lambda: (out / "config.toml").is_file(), timeout=60000)
        f = QtRunFollower(out, interval_ms=30)
        steps, batches = [], []
        f.updated.connect(lambda u: (steps.extend(m["step"] for m in u.metrics),
                                     batches.append(len(u.metrics))))
        f.start()
        qtbot.waitUntil(lambda: f.status == "finished", timeout=120000)
        assert proc.wait(timeout=60) == 0
    f.stop()
    lines = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == lines == list(range(5, 401, 5))  # every point once, in order
    assert len(batches) > 1  # it grew while being written

    calls = QtProcessCall()
    results, failures = [], []
    calls.finished.connect(lambda tag, snap: results.append((tag, snap)))
    calls.failed.connect(lambda tag, text: failures.append((tag, text)))
    calls.submit("snap", checkpoint_view, out, threads=1)
    calls.submit("bad", checkpoint_view, tmp_path / "nothing")
    try:
        qtbot.waitUntil(lambda: len(results) + len(failures) == 2, timeout=120000)
    finally:
        calls.shutdown()
    (tag, (info, snap)), = results
    assert tag == "snap" and snap.step == 400 and info.run_dir == str(out)
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert (snap.landscape.modes, snap.landscape.hq) == (last["modes"], last["hq"])
    assert failures == [("bad", f"{tmp_path / 'nothing'} is not a run folder: it does not exist")]
