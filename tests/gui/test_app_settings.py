"""Settings remembered between sessions, in a file a test can point anywhere."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from core.config import Config
from sngan_gui.app_settings import MAX_RECENT_RUNS, AppSettings, settings_path


def _window():
    w = QMainWindow()
    w.setCentralWidget(QLabel("plots"))
    dock = QDockWidget("Runs")
    dock.setObjectName("runListDock")
    dock.setWidget(QLabel("runs"))
    w.addDockWidget(Qt.LeftDockWidgetArea, dock)
    return w, dock


def test_default_file_is_in_the_app_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SNGAN_GUI_HOME", str(tmp_path / "home"))
    assert settings_path() == tmp_path / "home" / "settings.ini"
    s = AppSettings()
    s.export_style = "screen"
    assert (tmp_path / "home" / "settings.ini").is_file()


def test_window_layout_comes_back(qtbot, tmp_path):
    path = tmp_path / "s.ini"
    w, dock = _window()
    qtbot.addWidget(w)
    w.resize(640, 450)  # inside the offscreen screen (800 x 600), which restoring clamps to
    w.show()
    qtbot.waitExposed(w)
    dock.hide()
    AppSettings(path).save_window(w)
    w2, dock2 = _window()
    qtbot.addWidget(w2)
    assert AppSettings(path).restore_window(w2)
    w2.show()
    qtbot.waitExposed(w2)
    assert w2.size() == w.size()
    assert dock2.isHidden()
    assert not AppSettings(tmp_path / "empty.ini").restore_window(w2)


def test_last_config_recent_runs_and_export_style(tmp_path):
    path = tmp_path / "s.ini"
    s = AppSettings(path)
    assert s.last_config() is None and s.recent_runs() == [] and s.export_style == "report"
    cfg = Config()
    cfg.update({"constraints.spectral.enabled": True, "optim.lr_d": 1e-3})
    s.set_last_config(cfg, tmp_path / "ring8.toml")
    runs = []
    for i in range(MAX_RECENT_RUNS + 2):
        runs.append(tmp_path / f"run{i}")
        runs[-1].mkdir()
        s.add_recent_run(runs[-1])
    s.add_recent_run(runs[3])  # reopened: first again, not twice
    runs[5].rmdir()  # gone since
    s.export_style = "report"
    with pytest.raises(ValueError, match="export style"):
        s.export_style = "neon"

    again = AppSettings(path)
    assert again.last_config().to_dict() == cfg.to_dict()
    assert again.last_config_path() == tmp_path / "ring8.toml"
    recent = again.recent_runs(existing_only=False)
    assert recent[0] == runs[3] and len(recent) == MAX_RECENT_RUNS
    assert recent.count(runs[3]) == 1 and runs[0] not in recent and runs[1] not in recent
    assert runs[5] in recent and runs[5] not in again.recent_runs()
    assert again.export_style == "report"
    # one run only still reads back as a list
    again.clear_recent_runs()
    again.add_recent_run(runs[4])
    assert AppSettings(path).recent_runs() == [runs[4]]


def test_unreadable_values_fall_back_to_defaults(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text('[config]\nlast="[data]\\ndataset = \\"nope\\"\\n"\n[export]\nstyle=neon\n'
                    '[runs]\nrecent=not json\n')
    s = AppSettings(path)
    assert s.last_config() is None
    assert s.export_style == "report"
    assert s.recent_runs() == []
