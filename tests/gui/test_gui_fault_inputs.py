"""Small input faults in the app: integer fields commit only what was typed,
the data.root field with its folder picker, engine warnings shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QSpinBox, QToolButton

import sngan_gui.panels.controls as controls_mod


def _type(qtbot, widget, text: str, enter: bool = True) -> None:
    edit = widget.lineEdit() if isinstance(widget, QSpinBox) else widget
    widget.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key_Backspace)
    qtbot.keyClicks(edit, text)
    if enter:
        qtbot.keyClick(edit, Qt.Key_Return)


@pytest.mark.slow
def test_integer_fields_never_commit_what_was_not_typed(qtbot, window):
    window.step_once()
    qtbot.waitUntil(lambda: window.step == 1, timeout=20000)
    n_critic = window.form.editors["optim.n_critic"]
    for text, reason in (("3.5", "whole number"), ("-5", "between 1 and 100")):
        _type(qtbot, n_critic, text, enter=False)
        assert n_critic.lineEdit().text() == text  # kept as typed, not "35" / "5"
        assert n_critic.property("invalid") is True and reason in n_critic.toolTip()
        assert reason in window.statusBar().currentMessage()
        qtbot.keyClick(n_critic.lineEdit(), Qt.Key_Return)
        assert window.cfg.optim.n_critic == 1 and n_critic.value() == 1
    _type(qtbot, n_critic, "3")
    assert window.cfg.optim.n_critic == 3 and n_critic.property("invalid") is False
    qtbot.waitUntil(lambda: len(window.events) == 1, timeout=10000)
    assert [e["change"] for e in window.events] == [{"optim.n_critic": 3}]  # never 35
    _type(qtbot, n_critic, "abc", enter=False)
    assert not any(ch.isalpha() for ch in n_critic.lineEdit().text())


def test_data_root_field_with_folder_picker(qtbot, window, tmp_path, monkeypatch):
    root = window.findChild(QLineEdit, "data_root")
    browse = window.findChild(QToolButton, "dataRootBrowse")
    assert root is not None and browse is not None and "⟳" in window.form.labels["data.root"].text()
    window.form.editors["data.dataset"].setCurrentText("folder")
    _type(qtbot, root, str(tmp_path / "missing"))  # the folder dataset needs a real folder
    assert root.property("invalid") is True and "is not a folder" in root.toolTip()
    assert window.cfg.data.root == ""
    images = tmp_path / "images"
    images.mkdir()
    monkeypatch.setattr(controls_mod.QFileDialog, "getExistingDirectory",
                        lambda *a, **k: str(images))
    browse.click()
    assert window.cfg.data.root == str(images) and root.text() == str(images)
    assert root.property("invalid") is False


def test_exploding_loss_warnings_reach_the_status_bar(qtbot, window, monkeypatch):
    from core import session as session_mod

    monkeypatch.setattr(session_mod, "LOSS_WARNING_LEVEL", 1e-6)  # every loss "explodes"
    monkeypatch.setenv("SNGAN_GUI_INPROCESS", "1")  # the patch lives in this process
    window.form.cfg.set("run.log_every", 2)
    window.controller or window.ensure_run().step(3)
    qtbot.waitUntil(lambda: any("losses are exploding" in t for _, t in window.model.messages),
                    timeout=20000)
    assert "losses are exploding" in window.statusBar().currentMessage()
