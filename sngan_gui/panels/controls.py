"""Control panels: experiment settings, constraint toggles and run buttons.

Every editor is generated from the public field specs of ``core.config`` (label, tooltip,
choices or numeric range, liveness), so the GUI offers exactly what the engine accepts. Fields
that only take effect in a new run are marked with ⟳; the rest apply live, between training
steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QFileDialog, QFormLayout,
                               QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QSizePolicy, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from core import config as config_mod
from core.config import Config, ConfigError, FieldSpec

from ..live_text import QtLiveText
from .pause_at import QtPauseAtRow
from .presets import QtPresetPanel
from ..validators import QtConfigValidator, QtFolderValidator, QtStrictSpinBox

RESTART_MARK = " ⟳"
RESTART_TIP = "\n⟳ Needs a new run: takes effect when you press Reset."

# The object names tests and scripts find the constraint editors by (a public contract);
# other editors are named after their key ("optim_lr_d").
OBJECT_NAMES = {
    "constraints.clip.enabled": "clipCheck", "constraints.clip.c": "clipValue",
    "constraints.gp.enabled": "gpCheck", "constraints.gp.weight": "gpWeight",
    "constraints.gp.kind": "gpKind",
    "constraints.spectral.enabled": "spectralCheck",
    "constraints.spectral.power_iters": "spectralIters",
    "constraints.spectral.method": "spectralMethod",
    "constraints.spectral.on_disable": "spectralOnDisable",
    "constraints.rowsum.enabled": "rowsumCheck", "constraints.rowsum.target": "rowsumTarget",
    "constraints.rowsum.on_disable": "rowsumOnDisable",
}
CONSTRAINTS_PREFIX = "constraints."
FOLDER_KEY = "data.root"  # a folder: a text field with a folder picker
# The other stabilizers' keys: their own panel (stabilizers.py), not the experiment's.
STABILIZER_KEYS = ("instance_noise.enabled", "instance_noise.std", "instance_noise.anneal_steps",
                   "loss.label_smoothing")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _tip_html(spec: FieldSpec) -> str:
    return f"<b>{spec.key}</b><br>" + (spec.tip or spec.key).replace("\n", "<br>")


def form_specs(constraints: bool) -> list[FieldSpec]:
    """The settings a panel offers: the constraint sections' keys, or the other form keys
    (less the other stabilizers', which have their own panel)."""
    return [spec for key, spec in config_mod.field_specs().items()
            if spec.form and key.startswith(CONSTRAINTS_PREFIX) == constraints
            and key not in STABILIZER_KEYS]


def switch_group(form: "QtConfigForm", switch: str, keys: list[str], per_row: int = 2) -> QWidget:
    """A switch (bold check box) over its parameters, ``per_row`` label/editor pairs a row."""
    box = QWidget()
    grid = QGridLayout(box)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(6)
    grid.setVerticalSpacing(3)
    check = form.make_editor(switch)
    check.setText(config_mod.field_spec(switch).label)
    check.setStyleSheet("font-weight: 600;")
    grid.addWidget(check, 0, 0, 1, 2 * per_row)
    for i, key in enumerate(keys):
        editor = form.make_editor(key)
        editor.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        row, col = 1 + i // per_row, 2 * (i % per_row)
        grid.addWidget(form.make_label(key), row, col, Qt.AlignRight)
        grid.addWidget(editor, row, col + 1)
    for col in range(per_row):
        grid.setColumnStretch(2 * col + 1, 1)
    return box


class QtConfigForm(QWidget):
    """Holds the config the controls edit, and one editor per key.

    ``changed(key, value)`` fires only for values that passed ``core.config``'s checks;
    ``rejected(key, reason)`` fires when the user's input was refused.
    """

    changed = Signal(str, object)
    rejected = Signal(str, str)

    def __init__(self, cfg: Config, parent: QWidget | None = None):
        super().__init__(parent)
        self.cfg = cfg.copy()
        self.editors: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self.pending: set[str] = set()  # changed keys that wait for a new run

    def mark_pending(self, key: str) -> None:
        """Highlight a changed key that takes effect in a new run."""
        self.pending.add(key)
        if key in self.labels:
            self.labels[key].setStyleSheet("color: #ff9f43; font-weight: 600;")

    def clear_pending(self) -> None:
        for key in self.pending & set(self.labels):
            self.labels[key].setStyleSheet("")
        self.pending.clear()

    # --------------------------------------------------------------- building editors
    def make_label(self, key: str) -> QLabel:
        spec = config_mod.field_spec(key)
        text, tip = spec.label, _tip_html(spec)
        if not spec.live:
            text += RESTART_MARK
            tip += RESTART_TIP.replace("\n", "<br>")
        label = QLabel(text)
        label.setToolTip(tip)
        label.setProperty("restart", not spec.live)
        self.labels[key] = label
        return label

    def make_editor(self, key: str) -> QWidget:
        spec = config_mod.field_spec(key)
        tip = _tip_html(spec)
        if not spec.live:
            tip += "<br><i>⟳ needs a new run (Reset)</i>"
        if spec.choices:
            w = QComboBox()
            w.addItems(list(spec.choices))
            w.currentTextChanged.connect(lambda text, k=key: self._commit(k, text))
        elif spec.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda on, k=key: self._commit(k, bool(on)))
        elif spec.kind == "int":
            w = QtStrictSpinBox()
            lo = spec.ge if spec.ge is not None else (spec.gt or 0) + 1
            hi = spec.le if spec.le is not None else (spec.lt or 2**31) - 1
            w.setRange(int(lo), int(min(hi, 2**31 - 1)))
            w.setKeyboardTracking(False)
            w.setAccelerated(True)
            w.valueChanged.connect(lambda v, k=key: self._commit(k, int(v)))
            w.lineEdit().textEdited.connect(lambda _t, k=key, e=w: self._mark_int(k, e))
            w.editingFinished.connect(lambda e=w: self._set_invalid(e, ""))
        elif spec.kind == "float":
            w = QLineEdit()
            v = QtConfigValidator(key, lambda: self.cfg, w)
            w.setValidator(v)
            w.editingFinished.connect(lambda k=key, e=w: self._commit_text(k, e))
            w.textEdited.connect(lambda _t, k=key, e=w: self._mark(k, e))
            w.setAlignment(Qt.AlignRight)
        elif key == FOLDER_KEY:
            w = QLineEdit()
            w.setValidator(QtFolderValidator(key, lambda: self.cfg, w))
            w.setPlaceholderText("(the app's cache folder)")
            w.editingFinished.connect(lambda k=key, e=w: self._commit_text(k, e))
            w.textEdited.connect(lambda _t, k=key, e=w: self._mark(k, e))
        else:
            w = QLineEdit()
            w.editingFinished.connect(lambda k=key, e=w: self._commit(k, e.text()))
        w.setToolTip(tip)
        w.setProperty("configKey", key)
        w.setObjectName(OBJECT_NAMES.get(key, key.replace(".", "_")))
        self.editors[key] = w
        self._show(key, self.cfg.get(key))
        if key == FOLDER_KEY:
            return self._with_folder_picker(key, w)
        return w

    def _with_folder_picker(self, key: str, edit: QLineEdit) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        browse = QToolButton()
        browse.setText("…")
        browse.setObjectName("dataRootBrowse")
        browse.setToolTip("Choose the folder")

        def pick() -> None:
            folder = QFileDialog.getExistingDirectory(self, "Data folder", edit.text() or "")
            if folder:
                edit.setText(folder)
                self._mark(key, edit)
                self._commit_text(key, edit)

        browse.clicked.connect(pick)
        row.addWidget(edit, 1)
        row.addWidget(browse)
        return box

    # --------------------------------------------------------------- values
    def _show(self, key: str, value: Any) -> None:
        w = self.editors[key]
        w.blockSignals(True)
        try:
            if isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
                self._set_invalid(w, "")
            elif isinstance(w, QLineEdit):
                w.setText(_fmt(value))
                self._set_invalid(w, "")
        finally:
            w.blockSignals(False)

    def load(self, cfg: Config) -> None:
        """Show ``cfg`` in every editor without emitting ``changed``."""
        self.cfg = cfg.copy()
        for key in self.editors:
            self._show(key, self.cfg.get(key))

    def _set_invalid(self, w: QWidget, reason: str) -> None:
        bad = bool(reason)
        if w.property("invalid") != bad:
            w.setProperty("invalid", bad)
            w.style().unpolish(w)
            w.style().polish(w)
        base = w.toolTip().split("<br><font color")[0]
        w.setToolTip(base + (f"<br><font color='#ff8a80'>{reason}</font>" if bad else ""))

    def _mark(self, key: str, w: QLineEdit) -> None:
        validator: QtConfigValidator = w.validator()
        _, error = validator.check(w.text())
        self._set_invalid(w, error or "")
        if error:
            self.rejected.emit(key, error)

    def _mark_int(self, key: str, w: QtStrictSpinBox) -> None:
        error = w.problem()
        self._set_invalid(w, error)
        if error:
            self.rejected.emit(key, error)

    def _commit_text(self, key: str, w: QLineEdit) -> None:
        result, error = w.validator().check(w.text())
        if error:  # cannot happen through Qt (editingFinished needs Acceptable), but be safe
            self._set_invalid(w, error)
            self.rejected.emit(key, error)
            return
        self._set_invalid(w, "")
        if result[1][key] != self.cfg.get(key):
            self._accept(*result)

    def _commit(self, key: str, value: Any) -> None:
        try:
            result = self.cfg.with_change(key, value)
        except ConfigError as exc:
            self.rejected.emit(key, str(exc))
            self._show(key, self.cfg.get(key))  # put the last good value back
            return
        self._accept(*result)

    def set_values(self, values: dict[str, Any]) -> None:
        """Set several keys together (checked on the result, as ``Config.update``; a dataset
        switch brings its architecture, as ``Config.with_change``), then show and announce
        each key that changed. Raises ConfigError (nothing changes)."""
        trial = self.cfg.copy()
        try:
            trial.update(values)
        except ConfigError:
            if "data.dataset" not in values:
                raise
            trial.update({**values, "model.arch": config_mod.suggested_arch(
                values["data.dataset"])})
        changed = {key: trial.get(key) for key in config_mod.field_specs()
                   if trial.get(key) != self.cfg.get(key)}
        self._accept(trial, changed)

    def _accept(self, cfg: Config, changes: dict[str, Any]) -> None:
        """Take a validated change (``Config.with_change``): show and announce every key."""
        self.cfg = cfg
        for key, value in changes.items():
            if key in self.editors:
                self._show(key, value)
            self.changed.emit(key, value)


class QtExperimentPanel(QGroupBox):
    """The experiment's settings (the preset they start from is in :mod:`.presets`)."""

    def __init__(self, form: QtConfigForm, parent=None):
        super().__init__("Experiment", parent)
        lay = QFormLayout(self)
        lay.setLabelAlignment(Qt.AlignRight)
        lay.setHorizontalSpacing(8)
        lay.setVerticalSpacing(4)
        for spec in form_specs(constraints=False):
            lay.addRow(form.make_label(spec.key), form.make_editor(spec.key))
        note = QLabel("⟳ marks settings that take effect in a new run (Reset).")
        note.setProperty("restart", True)
        note.setWordWrap(True)
        lay.addRow(note)


class QtConstraintsPanel(QGroupBox):
    def __init__(self, form: QtConfigForm, parent=None):
        super().__init__("Lipschitz constraints on D", parent)
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        groups: dict[str, list[str]] = {}
        for spec in form_specs(constraints=True):  # constraints.<group>.<field>
            groups.setdefault(spec.key.split(".")[1], []).append(spec.key)
        for group, keys in groups.items():
            switch = f"{CONSTRAINTS_PREFIX}{group}.enabled"
            lay.addWidget(switch_group(form, switch, [k for k in keys if k != switch]))
        hint = QLabel("All four combine and switch while training; changes apply between steps.")
        hint.setWordWrap(True)
        hint.setObjectName("panelInfo")
        lay.addWidget(hint)


PLAY_TIP = "Start or continue training (Space); press again to pause."


class QtRunPanel(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Run", parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.play = QPushButton("▶  Play")
        self.play.setObjectName("playButton")
        self.play.setCheckable(True)
        self.play.setToolTip(PLAY_TIP)
        self.step = QPushButton("Step")
        self.step.setObjectName("stepButton")
        self.step.setToolTip("Train exactly one generator step (with its critic steps) (Ctrl+.)")
        self.reset = QPushButton("Reset")
        self.reset.setObjectName("resetButton")
        self.reset.setToolTip("Stop this run and prepare a new one with the current settings "
                              "(Ctrl+R). The finished run folder stays on disk.")
        for b in (self.play, self.step, self.reset):
            row.addWidget(b)
        lay.addLayout(row)
        # GAN Lab's single updates: one network, once, then paused (core.trainer.step_d/_g)
        self.step_d = QPushButton("Step D")
        self.step_d.setObjectName("stepDButton")
        self.step_d.setToolTip("One update of D alone, then paused (Alt+D): G is untouched and "
                               "the step count stays; the plots mark it “D step” and the "
                               "metrics count it in d_updates.")
        self.step_g = QPushButton("Step G")
        self.step_g.setObjectName("stepGButton")
        self.step_g.setToolTip("One update of G alone, then paused (Alt+G): a generator step "
                               "with no critic step; marked “G step”, counted in g_updates.")
        single = QHBoxLayout()
        single.addWidget(self.step_d)
        single.addWidget(self.step_g)
        lay.addLayout(single)
        self.pause_row = QtPauseAtRow()  # pause at / schedule a change at an exact step
        lay.addWidget(self.pause_row)
        # Offered after a divergence, a device failure or the training process's death.
        self.continue_run = QPushButton("Continue from last good checkpoint")
        self.continue_run.setObjectName("continueButton")
        self.continue_run.setToolTip(
            "Go on from the run's last good checkpoint, in the same run folder, with the "
            "settings shown now (e.g. a lower learning rate or a smaller batch).")
        self.continue_cpu = QPushButton("Continue on CPU")
        self.continue_cpu.setObjectName("continueCpuButton")
        self.continue_cpu.setToolTip("Go on from the last good checkpoint on the CPU.")
        lay.addWidget(self.continue_run)
        lay.addWidget(self.continue_cpu)
        self.continue_run.hide()
        self.continue_cpu.hide()
        self.status = QtLiveText("ready", lines=3)  # changes 4 times a second while training
        self.status.setObjectName("runStatus")
        lay.addWidget(self.status)

    def set_running(self, running: bool) -> None:
        self.play.blockSignals(True)
        self.play.setChecked(running)
        self.play.setText("⏸  Pause" if running else "▶  Play")
        self.play.blockSignals(False)
        for b in (self.step, self.step_d, self.step_g):
            b.setEnabled(not running and self.play.isEnabled())

    def show_actions(self, actions, playing: bool) -> None:
        """What the current run can do now (a ``compare.actions.RunActions``): Play, or Pause
        while ``playing``; Step while paused; after a fault the continue buttons. A control
        that does not apply is off, with the reason as its tooltip."""
        self.set_running(playing)
        self.play.setEnabled(playing or not actions.play)
        self.play.setToolTip(PLAY_TIP if playing or not actions.play else
                             f"Cannot train this run: {actions.play}.")
        for b in (self.step, self.step_d, self.step_g):
            b.setEnabled(not playing and not actions.step)
        self.continue_run.setVisible(actions.continue_run)
        self.continue_cpu.setVisible(actions.continue_cpu)


class QtControlsDock(QDockWidget):
    """The run buttons, constraint toggles and experiment settings in one scrolling dock."""

    def __init__(self, form: QtConfigForm, presets: dict[str, Path], parent=None):
        super().__init__("Controls", parent)
        self.setObjectName("controlsDock")
        self.run_panel = QtRunPanel()
        self.constraints_panel = QtConstraintsPanel(form)
        from .stabilizers import QtStabilizersPanel  # it builds on this module's helpers

        self.stabilizers_panel = QtStabilizersPanel(form)
        self.experiment_panel = QtExperimentPanel(form)
        self.preset_panel = QtPresetPanel(presets)  # first: where a new user starts
        self.guide_panel = self.preset_panel.guide
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(8)
        for w in (self.preset_panel, self.run_panel, self.constraints_panel,
                  self.stabilizers_panel, self.experiment_panel):
            lay.addWidget(w)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # never narrower than its controls (a restored layout came back clipping Reset and
        # the drop-downs: the scroll area has no horizontal bar)
        scroll.setMinimumWidth(max(340, body.minimumSizeHint().width()
                                   + scroll.verticalScrollBar().sizeHint().width()
                                   + 2 * scroll.frameWidth()))
        self.setWidget(scroll)
        self.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
