"""Exports and Save config into a folder that cannot be written: the app says it failed,
naming the path and the reason, and never "exported"."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import sngan_gui.exports as exports_mod


def _unwritable_folder(tmp_path) -> Path:
    """A folder this process cannot create files in (root ignores permission bits: /proc)."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return folder


@pytest.fixture
def dialogs(monkeypatch):
    """Record warning dialogs instead of showing them; answer file dialogs with ``answer``."""
    shown: list[tuple[str, str]] = []
    answer: dict[str, str] = {}
    monkeypatch.setattr(exports_mod.QMessageBox, "warning",
                        lambda parent, title, text: shown.append((title, text)))
    monkeypatch.setattr(exports_mod.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (answer["path"], ""))
    monkeypatch.setattr(exports_mod.QFileDialog, "getExistingDirectory",
                        lambda *a, **k: answer["path"])
    return shown, answer


@pytest.mark.parametrize("fmt", ["png", "svg", "csv"])
def test_plot_export_to_an_unwritable_folder_says_it_failed(qtbot, window, tmp_path, dialogs, fmt):
    shown, answer = dialogs
    target = _unwritable_folder(tmp_path) / f"loss.{fmt}"
    answer["path"] = str(target)
    window.exports.plot_dialog("loss", fmt)
    message = window.statusBar().currentMessage()
    assert "exported" not in message and "export failed" in message and str(target) in message
    assert len(shown) == 1 and shown[0][0] == "Export failed"
    assert str(target) in shown[0][1] and "cannot write" in shown[0][1]
    assert not target.exists()


def test_grid_and_export_all_to_an_unwritable_folder_say_they_failed(qtbot, window, tmp_path,
                                                                       dialogs):
    shown, answer = dialogs
    folder = _unwritable_folder(tmp_path)
    answer["path"] = str(folder / "grid.png")
    window.exports.grid_dialog()
    answer["path"] = str(folder)
    window.exports.everything_dialog()
    assert [title for title, _ in shown] == ["Export failed", "Export failed"]
    assert str(folder) in shown[0][1] and str(folder) in shown[1][1]
    assert "exported" not in window.statusBar().currentMessage()


def test_save_config_to_an_unwritable_place_shows_a_dialog(qtbot, window, tmp_path, dialogs):
    shown, answer = dialogs
    target = _unwritable_folder(tmp_path) / "config.toml"
    answer["path"] = str(target)
    window.files.save_config_dialog()  # no exception escapes to Qt (a traceback)
    assert len(shown) == 1 and shown[0][0] == "Could not save the config"
    assert str(target) in shown[0][1]
    good = tmp_path / "ok" / "config.toml"
    answer["path"] = str(good)
    window.files.save_config_dialog()
    assert len(shown) == 1 and good.is_file() and "saved" in window.statusBar().currentMessage()


def test_a_plot_export_that_writes_nothing_is_an_error(qtbot, window, tmp_path, monkeypatch):
    """pyqtgraph's writers (a plot's CSV; PNG/SVG/PDF are drawn by matplotlib) only return
    False when Qt cannot write: not a success."""
    from sngan_gui import exporters

    monkeypatch.setattr(exporters, "_export_plot", lambda item, path, fmt: None)
    with pytest.raises(exporters.ExportError, match="nothing was written"):
        window.export_plot("loss", tmp_path / "loss.csv")
