"""The preset's "what to look for" text is shown beside the plots, and follows the preset."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox

from conftest import PRESETS
from core import config as C
from core.presets import preset_guide


def test_guide_follows_the_preset_and_hides_for_a_config_without_one(make_window, tmp_path):
    w = make_window(PRESETS / "d_wins.toml")
    panel = w.findChild(QGroupBox, "guidePanel")
    title, text = preset_guide(PRESETS / "d_wins.toml")
    assert not panel.isHidden()
    assert panel.title.text() == title
    assert "spectral norm" in panel.text.text() and "\n" not in panel.text.text().split("\n\n")[0]

    w.load_preset(str(PRESETS / "wgan_gp.toml"))
    assert panel.title.text() == preset_guide(PRESETS / "wgan_gp.toml")[0]

    plain = tmp_path / "plain.toml"
    C.save(C.load(PRESETS / "ring8.toml"), plain)  # a saved config carries no guide
    assert preset_guide(plain) is None
    w.load_preset(str(plain))
    assert panel.isHidden()
