"""The A/B (duplicate with change) dialog and the Export figure dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from core import compare
from core.config import Config
from sngan_gui.compare.duplicate import QtDuplicateDialog
from sngan_gui.report.dialog import QtExportFigureDialog


def test_duplicate_dialog_flips_a_switch_and_checks_every_change(qtbot):
    cfg = Config()
    cfg.set("run.seed", 4)
    dlg = QtDuplicateDialog(cfg)
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.Ok)
    key, value = dlg.rows[0]
    assert key.currentText() == "constraints.spectral.enabled" and value.text() == "true"
    assert ok.isEnabled()
    assert dlg.preview.text() == "This run: spectral off\nNew run: spectral on"
    assert dlg.changes() == {"constraints.spectral.enabled": True}
    dup = dlg.duplicate()
    assert compare.changed_keys(cfg, dup) == ["constraints.spectral.enabled"] and dup.run.seed == 4
    # a second change; then a bad value is refused in one line and Start is disabled
    key2, value2 = dlg.add_row("optim.lr_d")
    value2.setText("1e-3")
    assert dlg.changes() == {"constraints.spectral.enabled": True, "optim.lr_d": 1e-3}
    assert "New run: spectral on, lr_d 0.001" in dlg.preview.text()
    value2.setText("-1")
    assert not ok.isEnabled() and dlg.preview.text() == "optim.lr_d must be > 0, got -1"
    value2.setText(" 0.0002 ")
    assert not ok.isEnabled() and "already 0.0002" in dlg.preview.text()
    key2.setCurrentText("optim.nope")
    assert "unknown key 'optim.nope'" in dlg.preview.text()
    key2.setCurrentText("run.seed")
    assert value2.text() == "5" and ok.isEnabled()
    assert cfg.run.seed == 4 and not cfg.constraints.spectral.enabled  # the base is untouched


def test_export_figure_dialog_gives_the_request(qtbot, tmp_path):
    panels = [("losses", "Losses"), ("sigma", "Top σ"), ("samples", "Samples")]
    dlg = QtExportFigureDialog(panels, caption="Runs: a; b.", path=tmp_path / "fig.png",
                             chosen=["losses", "samples"])
    qtbot.addWidget(dlg)
    save = dlg.buttons.button(QDialogButtonBox.Save)
    req = dlg.request()
    assert req.panels == ("losses", "samples") and req.formats == ("png", "pdf")
    assert req.caption == "Runs: a; b." and req.style == "report"
    assert req.path == tmp_path / "fig" and req.columns == 2
    dlg.style.setCurrentIndex(dlg.style.findData("screen"))
    dlg.format_boxes["svg"].setChecked(True)
    assert dlg.request().style == "screen" and dlg.request().formats == ("png", "pdf", "svg")
    for box in dlg.panel_boxes.values():
        box.setChecked(False)
    assert not save.isEnabled()
    dlg.panel_boxes["sigma"].setChecked(True)
    assert save.isEnabled()
    dlg.path.setText("")
    assert not save.isEnabled()
