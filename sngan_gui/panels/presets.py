"""The first thing in the controls: which preset to start from, listed by title, with its
guide ("what to look for") folding out under it.

A new user looked for the preset picker at the bottom of a scrolling form, under a twenty-line
guide, among file names. Here it comes first, each preset by the title of its ``[guide]``
(the file name in its tooltip), and the guide can be folded away once read. The File menu's
"New from preset" lists the same titles (:func:`preset_titles`).

The box also says when the settings shown are no longer the preset's: after a relaunch with an
edited config (``custom``, edited from the preset; see :func:`matching_preset`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFrame, QGroupBox, QScrollArea, QToolButton,
                               QVBoxLayout)

from core import config as config_mod
from core.config import Config, ConfigError
from core.presets import preset_guide

from .guide import QtGuidePanel

NAME_ROLE = Qt.UserRole + 1  # an entry's preset name ("d_wins"); Qt.UserRole: its path
CUSTOM = "custom"
GUIDE_HEIGHT_PX = 150


def preset_title(path: str | Path) -> str:
    """A preset's title: its guide's, else its file name."""
    guide = preset_guide(path)
    return guide[0] if guide else Path(path).stem


def preset_titles(presets: dict[str, Path]) -> list[tuple[str, str, Path]]:
    """(name, title, path) of each preset, in the order given."""
    return [(name, preset_title(path), path) for name, path in presets.items()]


def same_config(a: Config, b: Config) -> bool:
    return config_mod.dumps(a) == config_mod.dumps(b)


def matching_preset(cfg: Config, path: str | Path | None) -> bool:
    """Whether ``cfg`` is still the preset (or config file) at ``path``, as it is on disk."""
    if not path or not Path(path).is_file():
        return False
    try:
        return same_config(config_mod.load(path), cfg)
    except ConfigError:
        return False


class QtPresetPanel(QGroupBox):
    """The preset box: its combo (``preset``, object name ``presetCombo``) and the guide.

    ``presetChosen(path)`` when the user picks one; ``presetShown(path)`` when the box shows
    another preset ("" for none).
    """

    presetChosen = Signal(str)
    presetShown = Signal(str)

    def __init__(self, presets: dict[str, Path], parent=None):
        super().__init__("Start from a preset", parent)
        self.setObjectName("presetPanel")
        lay = QVBoxLayout(self)
        lay.setSpacing(4)
        self.preset = QComboBox()
        self.preset.setObjectName("presetCombo")
        self.preset.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(20)
        self.preset.setToolTip("Load a preset (starts a new run on Play); each is listed by "
                               "the title of its guide.")
        for name, title, path in preset_titles(presets):
            self._add(name, title, path)
        self.preset.activated.connect(self._chosen)
        lay.addWidget(self.preset)
        self.fold = QToolButton()
        self.fold.setObjectName("guideFold")
        self.fold.setCheckable(True)
        self.fold.setChecked(True)
        self.fold.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.fold.setAutoRaise(True)
        self.fold.toggled.connect(self._fold)
        lay.addWidget(self.fold)
        self.guide = QtGuidePanel()
        self.guide.setTitle("")
        self.guide.setFlat(True)
        # a few lines high, scrolling: the run buttons under it stay in view
        self.guide_scroll = QScrollArea()
        self.guide_scroll.setObjectName("guideScroll")
        self.guide_scroll.setWidgetResizable(True)
        self.guide_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.guide_scroll.setFrameShape(QFrame.NoFrame)
        self.guide_scroll.setMaximumHeight(GUIDE_HEIGHT_PX)
        self.guide_scroll.setWidget(self.guide)
        lay.addWidget(self.guide_scroll)
        self._guide_path = ""
        self.guide_scroll.hide()
        self.fold.hide()

    def _add(self, name: str, title: str, path: str | Path) -> int:
        self.preset.addItem(title, str(path))
        i = self.preset.count() - 1
        self.preset.setItemData(i, name, NAME_ROLE)
        self.preset.setItemData(i, f"{name} ({Path(path).name})" if path else name,
                                Qt.ToolTipRole)
        return i

    def _chosen(self, i: int) -> None:
        if self.preset.itemData(i, NAME_ROLE) != CUSTOM:  # the edited settings stay
            self.presetChosen.emit(self.preset.itemData(i) or "")

    def index_of(self, name: str) -> int:
        """The entry of the preset named ``name`` (-1 for none)."""
        return self.preset.findData(name, NAME_ROLE)

    def shown_name(self) -> str:
        """The name of the entry shown ("custom" for an edited config)."""
        return self.preset.currentData(NAME_ROLE) or ""

    def shown_path(self) -> str:
        """The preset file the settings came from ("" for none)."""
        return self._guide_path

    def _fold(self, open_: bool) -> None:
        self.fold.setArrowType(Qt.DownArrow if open_ else Qt.RightArrow)
        self.fold.setText("What to look for" if open_ else "What to look for (click to unfold)")
        self.guide_scroll.setVisible(open_ and bool(self._guide_path and
                                                    preset_guide(self._guide_path)))

    # ------------------------------------------------------------------ what is shown
    def show_config(self, cfg: Config, path: str | Path | None) -> None:
        """Show the preset ``cfg`` came from: by its name while ``cfg`` is still that
        preset, else as "custom" (edited from it, its guide kept)."""
        self.set_preset(path, edited=not matching_preset(cfg, path))

    def follow_edits(self, cfg: Config) -> None:
        """After a change in the form: "custom" once the settings leave the preset, its name
        again when they come back to it."""
        path = self._guide_path
        if path:
            edited = not matching_preset(cfg, path)
            if edited != (self.shown_name() == CUSTOM):
                self.set_preset(path, edited=edited)

    def set_preset(self, path: str | Path | None, *, edited: bool = False) -> None:
        """Show the preset at ``path`` (a config file outside the presets gets its own entry);
        ``edited``: the settings came from it but differ now ("custom", its guide kept)."""
        path = str(Path(path).resolve()) if path else ""
        self._guide_path = path
        self.presetShown.emit(path)
        self.guide.show_guide(path)
        has_guide = bool(path and preset_guide(path))
        self.fold.setVisible(has_guide)
        self._fold(self.fold.isChecked())
        custom = self.index_of(CUSTOM)
        if custom >= 0 and not edited:
            self.preset.removeItem(custom)
        if edited:
            title = f"{CUSTOM}: edited from {preset_title(path)}" if path else CUSTOM
            if custom < 0:
                custom = self._add(CUSTOM, title, "")
            self.preset.setItemText(custom, title)
            self.preset.setItemData(custom, path, Qt.UserRole)
            self.preset.setCurrentIndex(custom)
            return
        for i in range(self.preset.count()):
            data = self.preset.itemData(i)
            if data and str(Path(data).resolve()) == path:
                self.preset.setCurrentIndex(i)
                return
        if path:
            i = self._add(Path(path).stem, preset_title(path) + " (file)", path)
            self.preset.setCurrentIndex(i)
