"""The app's runs write the live TensorBoard log too (its "TensorBoard log" box, run.tensorboard):
the run's training process writes every metrics line and switch into RUN_DIR/tensorboard/."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from core.tensorboard_log import LIVE_FOLDER

pytestmark = pytest.mark.slow  # trains in the app's training process


def test_app_run_writes_the_live_log(qtbot, window):
    box = window.form.editors["run.tensorboard"]
    assert isinstance(box, QCheckBox) and not box.isChecked()
    box.click()
    assert window.form.cfg.run.tensorboard
    window.play()
    qtbot.waitUntil(lambda: window.step >= 15, timeout=30000)
    window.findChild(QCheckBox, "spectralCheck").click()
    qtbot.waitUntil(lambda: len(window.events) >= 1 and window.metrics.n >= 3, timeout=30000)
    run_dir = window.run_dir
    window.close()  # the training process finishes the run folder and closes the log
    qtbot.waitUntil(lambda: window.controller is None, timeout=30000)

    acc = EventAccumulator(str(run_dir / LIVE_FOLDER), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [(e.step, e.value) for e in acc.Scalars("loss_d")] == \
        [(x["step"], float(np.float32(x["loss_d"]))) for x in lines]
    assert [(e.step, e.value) for e in acc.Scalars("sigma/fc1")] == \
        [(x["step"], float(np.float32(x["sigma"]["fc1"]))) for x in lines]
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e.step for e in acc.Tensors("events")] == [e["step"] for e in events]
    assert "constraints.spectral.enabled" in acc.Tensors("events")[0].tensor_proto.string_val[0].decode()
    assert "_hparams_/session_end_info" in acc.Tags()["tensors"]
