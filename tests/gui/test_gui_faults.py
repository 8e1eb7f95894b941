"""The app after a fault: a divergence, a device failure, a dead or orphaned
training process. Each test provokes the fault for real (or through a test-only hook of
``core.pause_points``) and checks what the user sees and what the run folder holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from conftest import PRESETS, ROOT, diverge_while_lr_d_high, type_into, wait_paused

pytestmark = pytest.mark.slow  # each test trains in the app's training process and breaks it

SCREENS = os.environ.get("SNGAN_GUI_SCREENS")  # a folder: save the window after each fault


def _screen(w, name: str) -> None:
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        w.refresh_all()
        w.grab().save(str(Path(SCREENS) / name))


def _button(w, name) -> QPushButton:
    b = w.findChild(QPushButton, name)
    assert b is not None, name
    return b




def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_divergence_then_continue_from_the_last_good_checkpoint(qtbot, window, monkeypatch):
    """After a divergence Play is off (it would train NaN weights); "Continue from last good
    checkpoint" goes on in the same run folder from the checkpoint, with the learning rate
    the user lowered meanwhile."""
    diverge_while_lr_d_high(monkeypatch, step=14, lr_d=0.01)
    w = window
    w.form.cfg.update({"run.checkpoint_every": 10, "optim.lr_d": 0.05})
    w.play()
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=20000)
    text = w.banner.text()
    assert "diverged at step 14" in text and "at step 10" in text and str(w.run_dir) in text
    assert "Continue from last good checkpoint" in text
    play, cont = _button(w, "playButton"), _button(w, "continueButton")
    assert not play.isChecked() and not play.isEnabled() and not _button(w, "stepButton").isEnabled()
    assert cont.isVisible() and not _button(w, "continueCpuButton").isVisible()
    assert "diverged" in w.status_line.text()
    _screen(w, "after_divergence.png")

    type_into(qtbot, w.form.editors["optim.lr_d"], "0.001")
    assert w.cfg.optim.lr_d == 0.001
    run_dir = w.run_dir
    cont.click()
    qtbot.waitUntil(lambda: not w.banner.isVisible() and w.model.fault is None, timeout=10000)
    assert w.run_dir == run_dir and w.step == 10 and play.isEnabled() and not cont.isVisible()
    w.play()
    qtbot.waitUntil(lambda: w.step >= 35, timeout=20000)
    w.pause()
    wait_paused(qtbot, w)
    assert w.model.fault is None
    steps = [r["step"] for r in _lines(run_dir / "metrics.jsonl")]
    assert steps == sorted(set(steps)) and steps[:2] == [10, 20]  # nothing after 10 kept
    events = _lines(run_dir / "events.jsonl")
    assert [e["change"] for e in events] == [{"optim.lr_d": 0.001}] and events[0]["step"] == 10
    assert [e.change for e in w.model.events] == [{"optim.lr_d": 0.001}]
    assert w.metrics.steps[0] == 10 and list(w.metrics.steps) == steps[: w.metrics.n]


def test_device_failure_in_the_training_process_then_continue_with_a_smaller_batch(
        qtbot, window, monkeypatch):
    """An out-of-memory error in the child (injected at step 13 through the test hook) shows
    the engine's line; the user lowers the batch size and continues, same process and folder."""
    monkeypatch.setenv("SNGAN_GUI_TEST_DEVICE_FAULT", "oom@13")  # the spawned child inherits it
    w = window
    w.form.cfg.update({"run.checkpoint_every": 10})
    w.play()
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=30000)
    text = w.banner.text()
    assert "out of memory on cpu in step 13" in text and "CUDA out of memory" in text
    assert "at step 10" in text and str(w.run_dir) in text
    assert "device failed" in w.status_line.text()
    cont = _button(w, "continueButton")
    assert cont.isVisible() and not _button(w, "playButton").isEnabled()
    proc = w.controller.worker.process
    assert proc.is_alive()
    _screen(w, "after_device_failure.png")

    # On a GPU the app also offers the CPU (this machine has none: the run's identity says
    # "cuda:0" from here on, as a GPU run's would; the child gets device="cpu" either way).
    import dataclasses

    sent = []
    worker = w.controller.worker
    real_continue = worker.continue_run
    worker.continue_run = lambda device, settings: (sent.append(device),
                                                    real_continue(device, settings))
    w.model.info = dataclasses.replace(w.model.info, device="cuda:0")
    w._update_status()
    cpu = _button(w, "continueCpuButton")
    assert cpu.isVisible() and cont.isVisible()
    assert "Continue on CPU" in __import__("sngan_gui.run_model", fromlist=["x"]).fault_text(
        w.model, w.run_dir)
    _screen(w, "after_device_failure_gpu_offer.png")

    w.form.editors["data.batch_size"].setValue(64)
    cpu.click()
    assert sent == ["cpu"]
    qtbot.waitUntil(lambda: w.model.fault is None and w.step == 10, timeout=15000)
    assert w.controller.worker.process is proc  # continued in the same training process
    assert w.model.info.device == "cpu" and not cpu.isVisible()
    w.step_once()
    qtbot.waitUntil(lambda: w.step == 11, timeout=10000)
    events = _lines(w.run_dir / "events.jsonl")
    assert [(e["step"], e["change"]) for e in events] == [(10, {"data.batch_size": 64})]


def test_a_killed_training_process_can_be_continued_from_its_folder(qtbot, window):
    w = window
    w.form.cfg.update({"run.checkpoint_every": 10})
    w.play()
    qtbot.waitUntil(lambda: w.step >= 25, timeout=30000)
    run_dir = w.run_dir
    w.controller.worker.process.kill()
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=10000)
    text = w.banner.text()
    assert "ended unexpectedly" in text and "SIGKILL" in text and str(run_dir) in text
    play, cont = _button(w, "playButton"), _button(w, "continueButton")
    assert not play.isChecked() and not play.isEnabled()  # nothing trains: Play is not pressed
    assert cont.isVisible()
    ckpt = json.loads(json.dumps(__import__("torch").load(
        run_dir / "checkpoints" / "last" / "trainer.pt", weights_only=False)["step"]))
    cont.click()
    qtbot.waitUntil(lambda: w.model.fault is None and w.step == ckpt and not w.banner.isVisible(),
                    timeout=30000)
    assert w.run_dir == run_dir
    w.step_once()
    qtbot.waitUntil(lambda: w.step == ckpt + 1, timeout=10000)
    steps = [r["step"] for r in _lines(run_dir / "metrics.jsonl")]
    assert steps == sorted(set(steps)) and max(steps) <= ckpt + 1


def test_a_dataset_error_does_not_stay_starting(qtbot, window, tmp_path):
    w = window
    w.form.editors["data.dataset"].setCurrentText("folder")
    w.form.cfg.set("data.root", str(tmp_path / "no-such-folder"))
    w.play()
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=30000)
    assert "no-such-folder" in w.banner.text()
    qtbot.wait(300)
    assert "starting" not in w.status_line.text() and "stopped" in w.status_line.text()
    assert "starting" not in w.run_panel.status.text()
    assert w.controller is None and _button(w, "playButton").isEnabled()
    assert not _button(w, "playButton").isChecked()


# ----------------------------------------------------------------- a killed app
APP_SCRIPT = '''
import os, sys
sys.path.insert(0, {root!r})
os.environ["QT_QPA_PLATFORM"] = "offscreen"

if __name__ == "__main__":
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import sngan_gui

    app = QApplication([])
    w = sngan_gui.create_window({preset!r})
    w.form.cfg.update({{"run.log_every": 5, "run.checkpoint_every": 1000}})
    w.show()
    w.play()
    wait_step = int(sys.argv[1])

    def check():
        proc = w.controller.worker.process
        if proc is not None and proc.pid and w.step >= wait_step:
            print(proc.pid, w.run_dir, flush=True)
            timer.stop()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(50)
    app.exec()
'''


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _wait_gone(pid: int, limit: float) -> float:
    t0 = time.monotonic()
    while not _gone(pid) and time.monotonic() - t0 < limit:
        time.sleep(0.05)
    return time.monotonic() - t0


def _start_app(tmp_path, wait_step: int, env: dict) -> subprocess.Popen:
    script = tmp_path / "app.py"
    script.write_text(APP_SCRIPT.format(root=str(ROOT), preset=str(PRESETS / "ring8.toml")))
    return subprocess.Popen([sys.executable, str(script), str(wait_step)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, **env})


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the process end")
def test_killing_the_app_while_training_leaves_no_orphan(tmp_path):
    """SIGKILL of a real app (window open, training in its child): the child finishes the
    run folder (final line and checkpoint, resumable) and exits."""
    import torch

    app = _start_app(tmp_path, 12, {"SNGAN_GUI_HOME": str(tmp_path / "home")})
    child = None
    try:
        pid, run_dir = app.stdout.readline().split(maxsplit=1)
        child, run_dir = int(pid), Path(run_dir.strip())
        app.send_signal(signal.SIGKILL)
        app.wait()
        took = _wait_gone(child, 20)
        assert _gone(child), "the training process outlived the app"
        print(f"training process ended {took:.2f} s after the app was killed")
    finally:
        if app.poll() is None:
            app.kill()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)
    last = _lines(run_dir / "metrics.jsonl")[-1]
    state = torch.load(run_dir / "checkpoints" / "last" / "trainer.pt", weights_only=False)
    assert last["step"] == state["step"] >= 12
    resumed = subprocess.run([sys.executable, "main.py", "train", "--out", str(run_dir),
                              "--resume", "--steps", str(state["step"] + 5), "--no-progress"],
                             cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert _lines(run_dir / "metrics.jsonl")[-1]["step"] == state["step"] + 5


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to see the process end")
def test_killing_the_app_while_its_child_prepares_the_dataset(tmp_path):
    """The child notices a dead app also before training starts (here held at the moment it
    prepares its dataset): it stops there and writes no run folder."""
    marker = tmp_path / "paused"
    home = tmp_path / "home"
    app = _start_app(tmp_path, 0, {"SNGAN_GUI_HOME": str(home),
                                   "SNGAN_GUI_TEST_PAUSE": "prepare",
                                   "SNGAN_GUI_TEST_PAUSE_FILE": str(marker)})
    child = None
    try:
        child = int(app.stdout.readline().split()[0])
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.read_text() == "prepare"
        app.send_signal(signal.SIGKILL)
        app.wait()
        time.sleep(1.5)  # the child's watcher checks every 0.5 s
        marker.unlink()  # let it go on: it must find itself cancelled
        _wait_gone(child, 20)
        assert _gone(child), "the training process outlived the app"
    finally:
        if app.poll() is None:
            app.kill()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)
    runs = home / "runs"
    assert not runs.exists() or not any(runs.iterdir())
