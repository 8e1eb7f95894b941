"""core.runloop.RunLoop driven in this thread, without Qt and without a child process."""

from __future__ import annotations

import dataclasses

import json
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import contract as c
from core.runloop import RunLoop
from helpers import tiny_2d, tiny_image


class Driver:
    """A RunLoop with an in-memory command queue; every report is kept in order."""

    def __init__(self, tmp_path, cfg, **kwargs):
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.cancel = threading.Event()
        self.reports: list = []
        self.run_dir = tmp_path / "run"
        self.loop = RunLoop(cfg, self.run_dir, self.commands, self.cancel, self.reports.append,
                            torch_threads=1, **kwargs)

    def send(self, *commands) -> None:
        for cmd in commands:
            self.commands.put(cmd)

    def tick_until(self, done, limit=2000) -> None:
        for _ in range(limit):
            assert self.loop.tick()
            if done():
                return
        raise AssertionError("condition not reached")

    def of(self, kind) -> list:
        return [r for r in self.reports if isinstance(r, kind)]

    def progress(self) -> c.RunProgress:
        return self.of(c.RunProgress)[-1]


def _metrics(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_step_pause_change_stop(tmp_path):
    d = Driver(tmp_path, tiny_2d(run__steps=100))
    assert d.loop.start()
    info = d.of(c.RunStarted)[0].info
    assert info.run_dir == str(d.run_dir) and info.kind == "2d" and info.device == "cpu"
    assert info.layers == ("fc1", "fc2", "out") and info.mode_centres.shape == (8, 2)

    d.send(c.Step(7))
    d.tick_until(lambda: not d.loop.busy)
    d.loop.tick()
    p = d.progress()
    assert p.step == 7 and not p.running
    # every logged line arrives once, as typed records equal to metrics.jsonl
    records = [r for rep in d.of(c.RunProgress) for r in rep.records]
    assert [r.step for r in records] == [5]
    assert records[0].to_dict() == {**records[0].to_dict(), **_metrics(d.run_dir)[0]}

    # a change while paused is applied at once, at the current step
    d.send(c.Change("constraints.clip.enabled", True))
    d.loop.tick()
    events = [e for rep in d.of(c.RunProgress) for e in rep.events]
    assert [(e.step, e.change) for e in events] == [(7, {"constraints.clip.enabled": True})]

    # a refused change is reported, nothing applied
    d.send(c.Change("optim.lr_d", -1.0))
    d.loop.tick()
    assert "change refused" in d.of(c.RunMessage)[-1].text

    d.send(c.Play())
    d.tick_until(lambda: d.loop.session.trainer.step_count >= 20)
    d.send(c.Pause())
    d.loop.tick()
    paused_at = d.loop.session.trainer.step_count
    for _ in range(5):
        d.loop.tick()
    assert d.loop.session.trainer.step_count == paused_at and not d.progress().running

    d.send(c.Stop())
    assert not d.loop.tick()
    d.loop.close()
    assert isinstance(d.reports[-1], c.RunFinished)
    lines = _metrics(d.run_dir)
    assert lines[-1]["step"] == paused_at  # finish() logs the final step
    assert (d.run_dir / "checkpoints" / "last" / "trainer.pt").is_file()


def test_reports_carry_only_new_snapshot_parts(tmp_path):
    d = Driver(tmp_path, tiny_2d(run__steps=100, run__probe_every=1000))
    d.loop.start()
    d.send(c.Step(5))
    d.tick_until(lambda: not d.loop.busy)
    d.loop.tick()
    snaps = [r.snapshot for r in d.of(c.RunProgress) if r.snapshot is not None]
    first = snaps[-1]
    # forced at the end of the steps: every part of this step is there
    assert first.fast.step == 5 and first.spectra.step == 5 and first.landscape.step == 5
    assert first.fast.arrows.shape[1] == 4 and first.samples is None
    # nothing new: the next state report carries no snapshot
    n = len(d.of(c.RunProgress))
    d.send(c.Pause())
    d.loop.tick()
    assert len(d.of(c.RunProgress)) == n + 1 and d.progress().snapshot is None
    # one more step: new spectra and landscape (measured on demand), but the fast probe of
    # step 5 is unchanged and is not sent again
    d.send(c.Step(1))
    d.tick_until(lambda: not d.loop.busy)
    d.loop.tick()
    update = [r.snapshot for r in d.of(c.RunProgress) if r.snapshot is not None][-1]
    assert update.fast is None and update.spectra.step == 6 and update.landscape.step == 6
    merged = first.merged(update)
    assert merged.fast is first.fast and merged.spectra is update.spectra
    engine = d.loop.session.snapshot()
    assert merged.part_steps() == engine.part_steps()
    np.testing.assert_array_equal(merged.landscape.values, engine.landscape.values)
    d.send(c.Stop())
    d.loop.tick()
    d.loop.close()


def test_image_run_reports_sample_grids(tmp_path):
    d = Driver(tmp_path, tiny_image(run__steps=50))
    assert d.loop.start()
    assert d.of(c.RunStarted)[0].info.kind == "image"
    d.send(c.Step(1))
    d.tick_until(lambda: not d.loop.busy)
    d.loop.tick()
    snap = [r.snapshot for r in d.of(c.RunProgress) if r.snapshot is not None][-1]
    assert snap.samples.step == 1 and snap.samples.pixels.dtype == np.uint8
    assert snap.landscape is None
    d.loop.close()


def test_run_to_the_end_finishes_the_folder_and_keeps_events(tmp_path):
    d = Driver(tmp_path, tiny_2d(run__steps=12))
    d.loop.start()
    d.send(c.Play())
    d.tick_until(lambda: d.loop.session.done)
    d.loop.tick()
    p = d.progress()
    assert p.done and not p.running and p.step == 12
    assert "run finished at step 12" in d.of(c.RunMessage)[-1].text
    assert _metrics(d.run_dir)[-1]["step"] == 12
    d.send(c.Play())  # a finished run does not train on
    d.loop.tick()
    assert not d.loop.busy
    d.send(c.Change("optim.lr_d", 1e-3))  # still recorded
    d.loop.tick()
    assert '"optim.lr_d": 0.001' in (d.run_dir / "events.jsonl").read_text()
    d.loop.close()


def test_divergence_pauses_and_reports(tmp_path, monkeypatch):
    from core.session import TrainingSession
    from core.trainer import Diverged

    real = TrainingSession.advance

    def advance(self):
        if self.trainer.step_count >= 4:
            raise Diverged(f"training diverged at step {self.trainer.step_count}")
        return real(self)

    monkeypatch.setattr(TrainingSession, "advance", advance)
    # no periodic report in between: only the one the fault brings
    d = Driver(tmp_path, tiny_2d(run__steps=100, run__log_every=1), report_interval=60.0)
    d.loop.start()
    d.send(c.Play())
    d.tick_until(lambda: d.of(c.RunDiverged))
    report = d.of(c.RunDiverged)[0]
    assert report.step == 4 and "diverged" in report.text
    # The steps and log lines before the fault reach the front end before the fault does.
    before = d.reports[:d.reports.index(report)]
    progress = [r for r in before if isinstance(r, c.RunProgress)]
    assert progress[-1].step == 4
    assert [rec.step for p in progress for rec in p.records][-1] == 4
    assert report.checkpoint_dir == str(d.run_dir / "checkpoints" / "last")
    assert not d.loop.busy
    d.loop.tick()
    assert not d.progress().running
    d.loop.close()


def test_bad_input_is_reported_and_nothing_is_written(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "something").write_text("x")
    d = Driver(tmp_path, tiny_2d())
    d.loop.run()
    failed = d.of(c.RunFailed)
    assert len(failed) == 1 and "not empty" in failed[0].text
    assert isinstance(d.reports[-1], c.RunFinished) and not d.of(c.RunStarted)


def test_stop_before_start_leaves_no_folder(tmp_path):
    d = Driver(tmp_path, tiny_2d())
    d.cancel.set()
    d.loop.run()
    assert d.reports == [c.RunFinished()] and not d.run_dir.exists()


def test_an_exception_in_training_is_reported_and_the_run_still_finishes(tmp_path):
    d = Driver(tmp_path, tiny_2d())
    d.send(c.Step(2), "not a command")
    d.loop.run()
    assert "training stopped" in d.of(c.RunFailed)[0].text
    assert isinstance(d.reports[-1], c.RunFinished)


def test_metrics_record_refuses_unknown_fields():
    with pytest.raises(KeyError, match="lossd"):
        c.MetricsRecord.from_dict({"step": 1, "time": 0.0, "loss_d": 1.0, "loss_g": 1.0,
                                   "d_real": 0.0, "d_fake": 0.0, "lossd": 2.0})


def test_every_field_the_quality_probe_writes_is_in_the_contract():
    """A run with quality.parzen could not be opened in the app: the record refused the
    probe's parzen_* fields (the probe and the contract listed its fields apart)."""
    from core.quality.metrics import QUALITY_FIELDS, STACKED_FIELDS
    from core.quality.parzen_sets import PARZEN_FIELDS

    written = {*QUALITY_FIELDS, *STACKED_FIELDS, *PARZEN_FIELDS, "quality_n", "modes_n",
               "quality_floor", "quality_ceiling", "quality_scorer"}
    fields = {f.name for f in dataclasses.fields(c.MetricsRecord)}
    assert written <= fields, written - fields
    record = c.MetricsRecord.from_dict({"step": 1, "time": 0.0, "loss_d": 1.0, "loss_g": 1.0,
                                        "d_real": 0.0, "d_fake": 0.0, "parzen_ll": 12.5,
                                        "parzen_se": 0.5, "parzen_sigma": 0.2})
    assert record.parzen_ll == 12.5


def test_live_probes_refresh_spectra_between_slow_probes(tmp_path):
    """The spectrum and histogram panels follow training between the engine's slow probes:
    LiveProbes asks the prober for fresh spectra (on its time budget) and labels them."""
    from core import config
    from core.runloop import LiveProbes
    from core.session import TrainingSession
    from helpers import PRESETS

    cfg = config.load(PRESETS / "ring8.toml")
    cfg.update({"run.log_every": 5, "run.probe_every": 1000, "run.steps": 50})
    session = TrainingSession(tmp_path / "run", cfg)
    live = LiveProbes(session)
    for _ in range(5):
        session.advance()
    first = live.take(force=True)
    assert first.spectra.step == 5
    for _ in range(12):
        session.advance()
    # the spectra's minimum interval and the budget's wait have passed; the landscape was
    # just refreshed (else the two are due together and one waits for the other's budget)
    live._last.update(spectra=-1e9, landscape=time.perf_counter())
    live._next_refresh = -1e9
    snap = live.take()
    assert snap.spectra.step == 17 and snap.slow_step == 5
    assert (set(snap.spectra.singular_values) == set(snap.spectra.histograms)
            == set(first.spectra.singular_values))
    session.close()


PARENT_SCRIPT = '''
import multiprocessing as mp, sys, time
sys.path.insert(0, {root!r})
from core import config, contract
from core.runloop import child_main

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    commands, cancel, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    cfg = config.load({preset!r})
    cfg.update({{"run.log_every": 5, "run.checkpoint_every": 1000}})
    child = ctx.Process(target=child_main, args=(cfg.to_dict(), {run_dir!r}, 1, commands,
                                                 cancel, out), daemon=True)
    child.start()
    commands.put(contract.Play())
    while True:
        report = out.get()
        if isinstance(report, contract.RunProgress) and report.step >= 7:
            break
    print(child.pid, flush=True)
    time.sleep(600)
'''


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # exited, not reaped
    except FileNotFoundError:
        return True


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the process end")
def test_the_training_process_finishes_cleanly_when_the_app_is_killed(tmp_path):
    """A killed front end leaves no training process behind, and the run folder ends on a
    logged and checkpointed step."""
    import signal
    import subprocess
    import sys

    import torch

    from helpers import PRESETS

    root = Path(__file__).resolve().parents[1]
    run_dir = tmp_path / "run"
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT.format(root=str(root), preset=str(PRESETS / "ring8.toml"),
                                           run_dir=str(run_dir)))
    parent = subprocess.Popen([sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE,
                              text=True)
    try:
        child_pid = int(parent.stdout.readline())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20  # well above the 0.5 s check plus a step and finish
        while not _gone(child_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child_pid), "the training process outlived the app"
    finally:
        if parent.poll() is None:
            parent.kill()
        if not _gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)
    last = _metrics(run_dir)[-1]
    state = torch.load(run_dir / "checkpoints" / "last" / "trainer.pt", weights_only=False)
    assert last["step"] == state["step"] >= 7


def _diverge_above(monkeypatch, lr: float, step: int):
    """Make TrainingSession.advance diverge from ``step`` on while optim.lr_d > ``lr``."""
    from core.session import TrainingSession
    from core.trainer import Diverged

    real = TrainingSession.advance

    def advance(self):
        if self.cfg.optim.lr_d > lr and self.trainer.step_count >= step:
            self.diverged = True
            raise Diverged(f"training diverged at step {self.trainer.step_count}")
        return real(self)

    monkeypatch.setattr(TrainingSession, "advance", advance)


def test_continue_after_divergence_from_the_last_good_checkpoint(tmp_path, monkeypatch):
    """After a divergence Play is refused (it would train the NaN weights); Continue goes on
    from the last good checkpoint in the same run folder, with the settings changed since."""
    _diverge_above(monkeypatch, lr=0.01, step=14)
    d = Driver(tmp_path, tiny_2d(run__steps=100, optim__lr_d=0.05))
    d.loop.start()
    d.send(c.Play())
    d.tick_until(lambda: d.of(c.RunDiverged))
    diverged = d.of(c.RunDiverged)[0]
    assert diverged.step == 14 and diverged.checkpoint_step == 10
    d.send(c.Play(), c.Step(3))
    for _ in range(5):
        d.loop.tick()
    assert d.loop.session.trainer.step_count == 14 and not d.loop.busy
    assert sum("continue from its last good checkpoint" in m.text
               for m in d.of(c.RunMessage)) == 2
    d.send(c.Change("optim.lr_d", 1e-3))  # held while halted, applied by Continue
    d.send(c.Continue(settings={"optim.lr_g": 2e-4, "run.steps": 100}))
    d.tick_until(lambda: d.of(c.RunContinued))
    cont = d.of(c.RunContinued)[0]
    assert cont.step == 10 and cont.info.run_dir == str(d.run_dir)
    d.send(c.Step(10))
    d.tick_until(lambda: d.progress().step == 20 and not d.progress().running)
    d.loop.close()
    steps = [r["step"] for r in _metrics(d.run_dir)]
    assert steps == [5, 10, 15, 20]  # the lines after the checkpoint were dropped
    events = [json.loads(l) for l in (d.run_dir / "events.jsonl").read_text().splitlines()]
    # only what differs from the checkpoint's config became a change (lr_g, steps were equal)
    assert events == [{**events[0], "step": 10, "change": {"optim.lr_d": 1e-3}}]


def test_device_failure_then_continue_on_cpu_with_a_smaller_batch(tmp_path, monkeypatch):
    """An out-of-memory error in the training step (injected through the test hook) is
    reported with the engine's line; Continue with a smaller batch goes on from the
    checkpoint in the same process and run folder."""
    monkeypatch.setenv("SNGAN_GUI_TEST_DEVICE_FAULT", "oom@13")
    monkeypatch.setattr("core.pause_points._device_faults_fired", set())
    d = Driver(tmp_path, tiny_2d(run__steps=100))
    d.loop.start()
    d.send(c.Play())
    d.tick_until(lambda: d.of(c.RunDeviceFailed))
    failed = d.of(c.RunDeviceFailed)[0]
    assert failed.reason == "out of memory" and failed.device == "cpu" and failed.step == 12
    assert failed.checkpoint_step == 10 and "out of memory on cpu in step 13" in failed.text
    assert "injected" in failed.text
    d.send(c.Continue(device="cpu", settings={"data.batch_size": 32}))
    d.tick_until(lambda: d.of(c.RunContinued))
    assert d.of(c.RunContinued)[0].step == 10
    assert d.loop.session.cfg.data.batch_size == 32
    d.send(c.Step(6))
    d.tick_until(lambda: d.progress().step == 16 and not d.progress().running)
    d.loop.close()
    assert [r["step"] for r in _metrics(d.run_dir)] == [5, 10, 15, 16]
    assert '"data.batch_size": 32' in (d.run_dir / "events.jsonl").read_text()


def test_device_fault_hook_is_inert_without_its_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("SNGAN_GUI_TEST_DEVICE_FAULT", raising=False)
    d = Driver(tmp_path, tiny_2d(run__steps=30))
    d.loop.start()
    d.send(c.Step(20))
    d.tick_until(lambda: d.progress().step == 20 and not d.progress().running)
    d.loop.close()
    assert not d.of(c.RunDeviceFailed)


def test_exploding_loss_warnings_and_notes_are_reported(tmp_path, monkeypatch):
    from core import session as session_mod

    monkeypatch.setattr(session_mod, "LOSS_WARNING_LEVEL", 1e-6)  # every loss "explodes"
    d = Driver(tmp_path, tiny_2d(run__steps=30))
    d.loop.start()
    d.send(c.Step(6))
    d.tick_until(lambda: d.progress().step == 6 and not d.progress().running)
    d.loop.close()
    warnings = [m.text for m in d.of(c.RunMessage) if m.level == "warning"]
    assert warnings and "losses are exploding" in warnings[0]
    # a loop started on a run folder stopped before its first checkpoint: the session's note
    (tmp_path / "run2").mkdir()
    from core import config
    config.save(tiny_2d(), tmp_path / "run2" / "config.toml")
    d2 = Driver(tmp_path, tiny_2d(), resume=True)
    d2.run_dir = tmp_path / "run2"
    d2.loop.run_dir = d2.run_dir
    d2.send(c.Stop())
    d2.loop.run()
    assert d2.of(c.RunContinued)[0].step == 0
    assert any("no checkpoint yet" in m.text for m in d2.of(c.RunMessage))


def test_resume_goes_on_from_the_checkpoint_bit_for_bit(tmp_path):
    """A run stopped at step 10 and resumed by the loop up to 20 writes the lines of an
    uninterrupted 20-step run (the app's Resume)."""
    full = Driver(tmp_path / "full", tiny_2d(run__steps=20))
    assert full.loop.start()
    full.send(c.Play())
    full.tick_until(lambda: full.progress().done)
    full.loop.close()

    first = Driver(tmp_path / "part", tiny_2d(run__steps=10))
    assert first.loop.start()
    first.send(c.Play())
    first.tick_until(lambda: first.progress().done)
    first.loop.close()
    again = RunLoop(tiny_2d(run__steps=10), first.run_dir, first.commands, first.cancel,
                    first.reports.append, torch_threads=1, resume=True,
                    settings={"run.steps": 20})
    assert again.start()
    assert first.progress().step == 10
    first.send(c.Play())
    first.loop = again
    first.tick_until(lambda: first.progress().done)
    again.close()
    assert first.progress().step == 20

    # the same weights, and the same training numbers on the lines after the resume (the
    # probes of the stopped run's last line are a slow probe's, the full run's a fast one's)
    import torch

    for name in ("G.pt", "D.pt"):
        a = torch.load(first.run_dir / "checkpoints/last" / name, weights_only=True)
        b = torch.load(full.run_dir / "checkpoints/last" / name, weights_only=True)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    keys = ("step", "loss_d", "loss_g", "d_real", "d_fake")
    resumed, whole = _metrics(first.run_dir), _metrics(full.run_dir)
    assert [m["step"] for m in resumed] == [m["step"] for m in whole] == [5, 10, 15, 20]
    assert [[m[k] for k in keys] for m in resumed] == [[m[k] for k in keys] for m in whole]
