"""The run list dock: every run the window holds, to show or hide, rename, re-colour, remove,
select (the controls, the status line and the snapshot panels show the selected run), and to
play, pause, step or continue (the same actions for every run, from its context menu; the
Play/Pause button acts on the selected run). A last, muted row stands for the new run while one
waits to start.

It is a view of a :class:`QtRunCollection` and changes nothing itself: a tick, an edited name or
a chosen colour calls the collection, whose signals then update the list (and the plots); a
run's action is asked for with ``actionRequested`` and what applies comes from ``actions_of``.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QColorDialog, QDockWidget, QHBoxLayout,
                               QHeaderView, QLabel, QMenu, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from ..run_actions import RunActions
from .runs import QtRunCollection, RunEntry

KEY_ROLE = Qt.UserRole + 1
SWATCH = QSize(28, 14)
NEW_RUN_KEY = -1  # the new run's row (not in the collection until it starts)
# (action name, menu text): asked for with actionRequested(key, name)
RUN_ACTIONS = (("play", "Play"), ("pause", "Pause"), ("step", "Step"),
               ("continue", "Continue from last good checkpoint"),
               ("continue_cpu", "Continue on CPU"), ("duplicate", "Duplicate with change…"))


def swatch(color: QColor, dash: Qt.PenStyle = Qt.SolidLine, size: QSize = SWATCH) -> QIcon:
    """A small picture of a run's line: its colour and dash pattern."""
    pix = QPixmap(size)
    pix.fill(Qt.transparent)
    painter = QPainter(pix)
    try:
        painter.setRenderHint(QPainter.Antialiasing)
        pen = QPen(color, 3)
        pen.setStyle(dash)
        painter.setPen(pen)
        y = size.height() / 2
        painter.drawLine(2, int(y), size.width() - 2, int(y))
    finally:
        painter.end()
    return QIcon(pix)


class QtRunListDock(QDockWidget):
    """Dock listing a collection's runs: a tick shows or hides a run, a double click (or F2)
    renames it, the context menu and the buttons re-colour and remove it."""

    #: the user asked for this run to be removed; emitted before the collection removes it, so
    #: the owner can stop or close the run's source (``remove_requested`` does the removal
    #: when nobody handles it: see :attr:`remove_runs_itself`).
    removeRequested = Signal(int)
    #: (key, action name of RUN_ACTIONS): the user asked for this action on this run
    actionRequested = Signal(int, str)

    def __init__(self, runs: QtRunCollection, parent: QWidget | None = None,
                 actions_of: Callable[[int], RunActions] | None = None):
        super().__init__("Runs", parent)
        self.setObjectName("runListDock")
        self.runs = runs
        self.actions_of = actions_of
        self.remove_runs_itself = True
        self._updating = False
        self.new_run_item: QTreeWidgetItem | None = None

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        self.tree = QTreeWidget()
        self.tree.setObjectName("runListTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["run", "status"])
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(SWATCH)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.setToolTip("Tick to show a run in the plots; double-click to rename it; the "
                             "selected run is the one the sample, spectrum and histogram "
                             "panels show.")
        lay.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.play_button = QPushButton("▶  Play")
        self.play_button.setObjectName("runPlayButton")
        self.play_button.setToolTip("Play or pause the selected run")
        self.play_button.clicked.connect(self._play_clicked)
        buttons.addWidget(self.play_button)
        self.colour_button = QPushButton("Colour…")
        self.colour_button.setObjectName("runColourButton")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("runRemoveButton")
        buttons.addWidget(self.colour_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.message = QLabel("")
        self.message.setObjectName("runListMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        lay.addWidget(self.message)
        self.setWidget(body)

        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.colour_button.clicked.connect(lambda: self.choose_colour())
        self.remove_button.clicked.connect(lambda: self.remove_selected())
        runs.added.connect(self._added)
        runs.removed.connect(self._removed)
        runs.changed.connect(self._changed)
        runs.selectionChanged.connect(self._selection)
        for entry in runs:
            self._added(entry.key)
        self._selection(runs.selected)
        self._update_buttons()

    # ----------------------------------------------------------------- items
    def item(self, key: int) -> QTreeWidgetItem | None:
        if key == NEW_RUN_KEY:
            return self.new_run_item
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, KEY_ROLE) == key:
                return it
        return None

    def _fill(self, it: QTreeWidgetItem, entry: RunEntry) -> None:
        self._updating = True
        try:
            it.setData(0, KEY_ROLE, entry.key)
            it.setText(0, entry.label)
            it.setIcon(0, swatch(entry.pen_color, entry.dash))
            it.setCheckState(0, Qt.Checked if entry.visible else Qt.Unchecked)
            it.setText(1, entry.status)
            tip = entry.label + (f"\n{entry.path}" if entry.path else "")
            it.setToolTip(0, tip)
            it.setToolTip(1, tip)
        finally:
            self._updating = False

    def _added(self, key: int) -> None:
        it = QTreeWidgetItem()
        it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable
                    | Qt.ItemIsEditable)
        at = self.tree.topLevelItemCount() - (self.new_run_item is not None)
        self._updating = True
        try:
            self.tree.insertTopLevelItem(at, it)
        finally:
            self._updating = False
        self._fill(it, self.runs.entry(key))
        self._update_buttons()

    def _removed(self, key: int) -> None:
        it = self.item(key)
        if it is not None:
            self._updating = True
            try:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(it))
            finally:
                self._updating = False
        self._update_buttons()

    def _changed(self, key: int) -> None:
        it = self.item(key)
        if it is not None:
            self._fill(it, self.runs.entry(key))

    def _selection(self, key: int) -> None:
        it = self.item(key)
        if it is not self.tree.currentItem():
            self._updating = True
            try:
                self.tree.setCurrentItem(it)
            finally:
                self._updating = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.runs.selected_entry() is not None
        self.colour_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.update_actions()

    def update_actions(self) -> None:
        """Show what the selected run can do now (its state changed)."""
        acts = self._actions(self.runs.selected)
        pause = acts is not None and acts.pause
        self.play_button.setText("⏸  Pause" if pause else "▶  Play")
        self.play_button.setEnabled(acts is not None and (pause or not acts.play))
        self.play_button.setToolTip("Pause the selected run" if pause else
                                    (acts.play if acts is not None and acts.play else
                                     "Play the selected run"))

    def _actions(self, key: int) -> RunActions | None:
        if self.actions_of is None or (key < 0 and self.new_run_item is None):
            return None
        return self.actions_of(key)

    def _play_clicked(self) -> None:
        acts = self._actions(self.runs.selected)
        if acts is not None:
            self.actionRequested.emit(self.runs.selected, "pause" if acts.pause else "play")

    # ----------------------------------------------------------------- the new run's row
    def show_new_run(self, shown: bool) -> None:
        """Show (or take away) the row of the new run that waits to start."""
        if shown == (self.new_run_item is not None):
            return
        self._updating = True
        try:
            if shown:
                it = QTreeWidgetItem(["new run", "ready"])
                it.setData(0, KEY_ROLE, NEW_RUN_KEY)
                it.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                it.setToolTip(0, "The run the controls prepare: Play starts it")
                font = it.font(0)
                font.setItalic(True)
                it.setFont(0, font)
                self.tree.addTopLevelItem(it)
                self.new_run_item = it
            else:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(self.new_run_item))
                self.new_run_item = None
        finally:
            self._updating = False
        self._selection(self.runs.selected)

    # ----------------------------------------------------------------- user actions
    def _item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0 or it is self.new_run_item:
            return
        key = it.data(0, KEY_ROLE)
        entry = self.runs.entry(key)
        visible = it.checkState(0) == Qt.Checked
        if visible != entry.visible:
            self.runs.set_visible(key, visible)
        if it.text(0) != entry.label:
            self.rename(key, it.text(0))

    def _current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if self._updating or current is None:
            return
        self.runs.select(current.data(0, KEY_ROLE))

    def add_run_actions(self, menu: QMenu, key: int) -> None:
        """The run's actions (those that apply now enabled, the others with their reason)."""
        acts = self._actions(key)
        if acts is None:
            return
        why = {"play": acts.play, "pause": "" if acts.pause else "it is not training",
               "step": acts.step,
               "continue": "" if acts.continue_run else "nothing to continue from",
               "continue_cpu": "" if acts.continue_cpu else "it did not fail on a GPU",
               "duplicate": ""}
        for name, text in RUN_ACTIONS:
            if name in ("pause", "play") and (name == "pause") != acts.pause:
                continue
            if name == "continue_cpu" and not acts.continue_cpu:
                continue
            act = menu.addAction(text, lambda n=name: self.actionRequested.emit(key, n))
            act.setObjectName(f"runAction_{name}")
            act.setEnabled(not why[name])
            act.setToolTip(why[name])
        menu.setToolTipsVisible(True)

    def _context_menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None:
            return
        key = it.data(0, KEY_ROLE)
        menu = self.context_menu(key)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, key: int) -> QMenu:
        """The menu of a run's row: its actions, then show, rename, colour and remove."""
        menu = QMenu(self)
        self.add_run_actions(menu, key)
        if key == NEW_RUN_KEY:
            return menu
        menu.addSeparator()
        entry = self.runs.entry(key)
        show = QAction("Show", menu, checkable=True, checked=entry.visible)
        show.toggled.connect(lambda on: self.runs.set_visible(key, on))
        menu.addAction(show)
        menu.addAction("Rename", lambda: self.tree.editItem(self.item(key), 0))
        menu.addAction("Colour…", lambda: self.choose_colour(key))
        if entry.color is not None:
            menu.addAction("Default colour", lambda: self.runs.recolour(key, None))
        menu.addSeparator()
        menu.addAction("Remove", lambda: self.remove(key))
        return menu

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def rename(self, key: int, text: str) -> bool:
        """Rename a run; a refused name is shown under the list and the old one restored."""
        try:
            self.runs.rename(key, text)
        except ValueError as exc:
            self.show_message(str(exc))
            self._changed(key)
            return False
        self.show_message("")
        return True

    def choose_colour(self, key: int | None = None, color: QColor | str | None = None) -> None:
        """Re-colour a run (default: the selected one); without ``color`` a colour dialog asks."""
        key = self.runs.selected if key is None else key
        if key < 0:
            return
        if color is None:
            picked = QColorDialog.getColor(self.runs.entry(key).pen_color, self, "Run colour")
            if not picked.isValid():
                return
            color = picked
        self.runs.recolour(key, color)

    def remove(self, key: int) -> None:
        self.removeRequested.emit(key)
        if self.remove_runs_itself and key in self.runs:
            self.runs.remove(key)

    def remove_selected(self) -> None:
        if self.runs.selected >= 0:
            self.remove(self.runs.selected)
