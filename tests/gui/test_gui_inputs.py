"""Invalid input is refused in place and never reaches the trainer."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit, QSpinBox

from conftest import type_into, wait_paused




@pytest.mark.slow
def test_invalid_values_are_refused_in_place(qtbot, window):
    window.step_once()
    qtbot.waitUntil(lambda: window.step == 1, timeout=10000)
    submitted = []
    worker = window.controller.worker
    orig = worker.submit
    worker.submit = lambda k, v: (submitted.append((k, v)), orig(k, v))

    clip = window.findChild(QLineEdit, "clipValue")
    gp = window.findChild(QLineEdit, "gpWeight")
    type_into(qtbot, clip, "-1")                 # out of range: c must be > 0
    assert clip.property("invalid") is True
    assert "must be > 0" in clip.toolTip()
    assert window.cfg.constraints.clip.c == 0.01
    type_into(qtbot, clip, "abc")                # letters are not even accepted as keystrokes
    assert not any(ch.isalpha() for ch in clip.text())
    type_into(qtbot, gp, "-5")
    assert gp.property("invalid") is True and window.cfg.constraints.gp.weight == 10.0
    lr = window.form.editors["optim.lr_d"]
    type_into(qtbot, lr, "0")                    # lr must be > 0
    assert lr.property("invalid") is True and window.cfg.optim.lr_d == 1e-3
    qtbot.wait(200)
    assert submitted == [] and window.events == []

    type_into(qtbot, clip, "0.05")               # a good value goes through, live
    assert clip.property("invalid") is False
    assert window.cfg.constraints.clip.c == 0.05
    assert submitted == [("constraints.clip.c", 0.05)]
    qtbot.waitUntil(lambda: len(window.events) == 1, timeout=5000)
    assert window.events[0]["change"] == {"constraints.clip.c": 0.05}


def test_spin_boxes_keep_values_in_range(window):
    n_critic = window.form.editors["optim.n_critic"]
    assert isinstance(n_critic, QSpinBox)
    n_critic.setValue(0)
    assert n_critic.value() == 1 and window.cfg.optim.n_critic == 1


@pytest.mark.slow
def test_restart_fields_are_marked_and_wait_for_reset(qtbot, window):
    assert "⟳" in window.form.labels["model.d_width"].text()
    assert "⟳" not in window.form.labels["optim.lr_d"].text()
    window.step_once()
    qtbot.waitUntil(lambda: window.step == 1, timeout=10000)
    window.form.editors["model.d_width"].setValue(32)
    assert "model.d_width" in window.restart_pending
    qtbot.wait(200)
    assert window.events == []  # never sent to the running trainer
    wait_paused(qtbot, window)


def test_switching_dataset_picks_a_fitting_architecture(window):
    dataset = window.form.editors["data.dataset"]
    dataset.setCurrentText("cifar10")
    assert window.form.cfg.model.arch == "sngan_cnn"
    dataset.setCurrentText("digits")  # digits also fit sngan_cnn (resized to 32): kept
    assert window.form.cfg.model.arch == "sngan_cnn"
    dataset.setCurrentText("mnist")  # 28x28 does not fit sngan_cnn: switched
    assert window.form.cfg.model.arch == "dcgan"
    dataset.setCurrentText("grid25")
    assert window.form.cfg.model.arch == "mlp"
    assert window.form.editors["model.arch"].currentText() == "mlp"
