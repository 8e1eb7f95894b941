"""Control panels: experiment settings, constraint toggles and run buttons.

Every editor is generated from ``core.config`` field metadata (choices, numeric ranges, live
flag), so the GUI offers exactly what the engine accepts. Fields that only take effect in a new
run are marked with ⟳; the rest apply live, between training steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy,
                               QSpinBox, QVBoxLayout, QWidget)

from core import config as config_mod
from core.config import Config, ConfigError, is_live

from .validators import QtConfigValidator

RESTART_MARK = " ⟳"
RESTART_TIP = "\n⟳ Needs a new run: takes effect when you press Reset."

TIPS: dict[str, str] = {
    "data.dataset": "Training data: 2D Gaussian mixtures (ring8, grid25, swissroll) or images.",
    "data.batch_size": "Samples per batch for both D and G updates.",
    "model.arch": "mlp for 2D data; dcgan (the notebook's 28x28 conv net) or sngan_cnn (the "
                  "SN-GAN paper's standard CNN, 32x32) for images.",
    "model.z_dim": "Dimension of the noise z ~ N(0, I) fed to G.",
    "model.g_width": "Width (units / base channels) of the generator.",
    "model.d_width": "Width (units / base channels) of the discriminator.",
    "model.depth": "Hidden layers of the MLPs (2D data).",
    "model.d_norm": "Normalization inside D. BatchNorm changes D's Lipschitz constant: the layer "
                    "constraints do not cover it.",
    "loss.kind": "bce: D max log D(x)+log(1−D(G(z))), G max log D(G(z)).\n"
                 "hinge: D min E[max(0,1−D(x))]+E[max(0,1+D(G(z)))].  wasserstein: D max E[D(x)]−E[D(G(z))].",
    "optim.name": "Optimizer for both networks.",
    "optim.lr_g": "Generator learning rate.",
    "optim.lr_d": "Discriminator learning rate.",
    "optim.beta1": "Adam β₁ (momentum), m ← β₁m + (1−β₁)g.",
    "optim.beta2": "Adam β₂, v ← β₂v + (1−β₂)g².",
    "optim.n_critic": "Discriminator updates per generator update.",
    "run.seed": "Random seed of models, data and noise.",
    "run.device": "auto picks cuda, then mps, then cpu.",
    "run.steps": "Total generator steps of the run.",
    "run.log_every": "Write a metrics line every N steps.",
    "run.checkpoint_every": "Save checkpoints/last every N steps.",
    "constraints.clip.enabled": "Weight clipping (WGAN): after every D update,\n"
                                "w ← clamp(w, −c, c) for every D parameter.",
    "constraints.clip.c": "Clip bound c: parameters stay in [−c, c].",
    "constraints.gp.enabled": "Gradient penalty added to the D loss, e.g. WGAN-GP:\n"
                              "λ·(‖∇ₓD(x̂)‖ − 1)², x̂ = εx + (1−ε)G(z).",
    "constraints.gp.weight": "Penalty weight λ.",
    "constraints.gp.kind": "two_sided: λ(‖∇D(x̂)‖−1)² (WGAN-GP); one_sided: λ·max(0,‖∇D(x̂)‖−1)² "
                           "(WGAN-LP);\nr1: (λ/2)‖∇D(x_real)‖².",
    "constraints.spectral.enabled": "Spectral normalization (SN-GAN): W ← W / σ(W), σ by power "
                                    "iteration\n(u ← Wv/‖Wv‖, v ← Wᵀu/‖Wᵀu‖), so every layer has "
                                    "operator norm 1.",
    "constraints.spectral.power_iters": "Power iterations per training step for σ(W).",
    "constraints.spectral.on_disable": "When switched off: keep = write W/σ into the weights (D "
                                       "does not jump);\nrestore = go back to the raw weights "
                                       "(D jumps).",
    "constraints.rowsum.enabled": "Row-sum normalization: W ← W·t / ‖W‖∞, ‖W‖∞ = maxᵢ Σⱼ |Wᵢⱼ| "
                                  "(l∞ operator norm),\nexact and cheap, no iteration.",
    "constraints.rowsum.target": "Target t of the l∞ operator norm of each layer.",
    "constraints.rowsum.on_disable": "When switched off: keep the normalized weights or restore "
                                     "the raw ones.",
}

LABELS = {
    "data.dataset": "Dataset", "data.batch_size": "Batch size", "model.arch": "Architecture",
    "model.z_dim": "Noise dim", "model.g_width": "G width", "model.d_width": "D width",
    "model.depth": "MLP depth", "model.d_norm": "D normalization", "loss.kind": "Loss",
    "optim.name": "Optimizer", "optim.lr_g": "LR G", "optim.lr_d": "LR D", "optim.beta1": "β₁",
    "optim.beta2": "β₂", "optim.n_critic": "n_critic", "run.seed": "Seed",
    "run.device": "Device", "run.steps": "Steps",
    "constraints.clip.c": "c", "constraints.gp.weight": "λ", "constraints.gp.kind": "kind",
    "constraints.spectral.power_iters": "power iters", "constraints.spectral.on_disable": "on disable",
    "constraints.rowsum.target": "target", "constraints.rowsum.on_disable": "on disable",
}

OBJECT_NAMES = {
    "constraints.clip.enabled": "clipCheck", "constraints.clip.c": "clipValue",
    "constraints.gp.enabled": "gpCheck", "constraints.gp.weight": "gpWeight",
    "constraints.gp.kind": "gpKind",
    "constraints.spectral.enabled": "spectralCheck",
    "constraints.spectral.power_iters": "spectralIters",
    "constraints.spectral.on_disable": "spectralOnDisable",
    "constraints.rowsum.enabled": "rowsumCheck", "constraints.rowsum.target": "rowsumTarget",
    "constraints.rowsum.on_disable": "rowsumOnDisable",
}

EXPERIMENT_KEYS = [
    "data.dataset", "model.arch", "model.d_norm", "loss.kind", "optim.name", "optim.lr_g",
    "optim.lr_d", "optim.beta1", "optim.beta2", "optim.n_critic", "data.batch_size",
    "model.z_dim", "model.g_width", "model.d_width", "model.depth", "run.seed", "run.device",
    "run.steps",
]

CONSTRAINTS = [
    ("clip", "Weight clipping", ["constraints.clip.c"]),
    ("gp", "Gradient penalty", ["constraints.gp.weight", "constraints.gp.kind"]),
    ("spectral", "Spectral norm", ["constraints.spectral.power_iters",
                                   "constraints.spectral.on_disable"]),
    ("rowsum", "Row-sum (l∞) norm", ["constraints.rowsum.target",
                                      "constraints.rowsum.on_disable"]),
]


def _field(key: str):
    node, name = config_mod._resolve(Config(), key)
    return config_mod._field(node, name)


def _kind(key: str) -> str:
    return config_mod._type_name(_field(key))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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

    # --------------------------------------------------------------- building editors
    def make_label(self, key: str) -> QLabel:
        text = LABELS.get(key, key.rsplit(".", 1)[-1])
        tip = TIPS.get(key, key)
        if not is_live(key):
            text += RESTART_MARK
            tip += RESTART_TIP
        label = QLabel(text)
        label.setToolTip(f"<b>{key}</b><br>" + tip.replace("\n", "<br>"))
        label.setProperty("restart", not is_live(key))
        self.labels[key] = label
        return label

    def make_editor(self, key: str) -> QWidget:
        f = _field(key)
        meta, kind = f.metadata, _kind(key)
        tip = f"<b>{key}</b><br>" + TIPS.get(key, key).replace("\n", "<br>")
        if not is_live(key):
            tip += "<br><i>⟳ needs a new run (Reset)</i>"
        if meta.get("choices"):
            w = QComboBox()
            w.addItems(list(meta["choices"]))
            w.currentTextChanged.connect(lambda text, k=key: self._commit(k, text))
        elif kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda on, k=key: self._commit(k, bool(on)))
        elif kind == "int":
            w = QSpinBox()
            lo = meta.get("ge") if meta.get("ge") is not None else (meta.get("gt") or 0) + 1
            hi = meta.get("le") if meta.get("le") is not None else (meta.get("lt") or 2**31) - 1
            w.setRange(int(lo), int(min(hi, 2**31 - 1)))
            w.setKeyboardTracking(False)
            w.setAccelerated(True)
            w.valueChanged.connect(lambda v, k=key: self._commit(k, int(v)))
        elif kind == "float":
            w = QLineEdit()
            v = QtConfigValidator(key, lambda: self.cfg, w)
            w.setValidator(v)
            w.editingFinished.connect(lambda k=key, e=w: self._commit_text(k, e))
            w.textEdited.connect(lambda _t, k=key, e=w: self._mark(k, e))
            w.setAlignment(Qt.AlignRight)
        else:
            w = QLineEdit()
            w.editingFinished.connect(lambda k=key, e=w: self._commit(k, e.text()))
        w.setToolTip(tip)
        w.setProperty("configKey", key)
        w.setObjectName(OBJECT_NAMES.get(key, key.replace(".", "_")))
        self.editors[key] = w
        self._show(key, self.cfg.get(key))
        return w

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

    def _set_invalid(self, w: QLineEdit, reason: str) -> None:
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

    def _commit_text(self, key: str, w: QLineEdit) -> None:
        value, error = w.validator().check(w.text())
        if error:  # cannot happen through Qt (editingFinished needs Acceptable), but be safe
            self._set_invalid(w, error)
            self.rejected.emit(key, error)
            return
        self._set_invalid(w, "")
        if value != self.cfg.get(key):
            self._commit(key, value)

    def _commit(self, key: str, value: Any) -> None:
        probe = self.cfg.copy()
        try:
            probe.set(key, value)
        except ConfigError as exc:
            # A dataset switch between 2D and images also switches the architecture.
            if key == "data.dataset":
                try:
                    probe.update({key: value, "model.arch": config_mod.suggested_arch(value)})
                except ConfigError:
                    pass
                else:
                    self.cfg = probe
                    self._show("model.arch", probe.model.arch)
                    self.changed.emit("model.arch", probe.model.arch)
                    self.changed.emit(key, value)
                    return
            self.rejected.emit(key, str(exc))
            self._show(key, self.cfg.get(key))  # put the last good value back
            return
        self.cfg = probe
        self.changed.emit(key, probe.get(key))


class QtExperimentPanel(QGroupBox):
    presetChosen = Signal(str)

    def __init__(self, form: QtConfigForm, presets: dict[str, Path], parent=None):
        super().__init__("Experiment", parent)
        lay = QFormLayout(self)
        lay.setLabelAlignment(Qt.AlignRight)
        lay.setHorizontalSpacing(8)
        lay.setVerticalSpacing(4)
        self.preset = QComboBox()
        self.preset.setObjectName("presetCombo")
        self.preset.setToolTip("Load a preset from resources/presets/ (starts a new run on Play).")
        self.presets = dict(presets)
        for name, path in self.presets.items():
            self.preset.addItem(name, str(path))
        self.preset.activated.connect(lambda i: self.presetChosen.emit(self.preset.itemData(i)))
        lay.addRow("Preset", self.preset)
        for key in EXPERIMENT_KEYS:
            lay.addRow(form.make_label(key), form.make_editor(key))
        note = QLabel("⟳ marks settings that take effect in a new run (Reset).")
        note.setProperty("restart", True)
        note.setWordWrap(True)
        lay.addRow(note)

    def set_preset(self, path: str | Path | None) -> None:
        path = str(Path(path).resolve()) if path else ""
        for i in range(self.preset.count()):
            if str(Path(self.preset.itemData(i)).resolve()) == path:
                self.preset.setCurrentIndex(i)
                return
        if path:
            self.preset.addItem(Path(path).stem + " (file)", path)
            self.preset.setCurrentIndex(self.preset.count() - 1)


class QtConstraintsPanel(QGroupBox):
    def __init__(self, form: QtConfigForm, parent=None):
        super().__init__("Lipschitz constraints on D", parent)
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        for short, title, keys in CONSTRAINTS:
            box = QWidget()
            grid = QGridLayout(box)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(6)
            grid.setVerticalSpacing(3)
            check = form.make_editor(f"constraints.{short}.enabled")
            check.setText(title)
            check.setStyleSheet("font-weight: 600;")
            grid.addWidget(check, 0, 0, 1, 4)
            for i, key in enumerate(keys):
                label = form.make_label(key)
                editor = form.make_editor(key)
                editor.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
                grid.addWidget(label, 1, 2 * i, Qt.AlignRight)
                grid.addWidget(editor, 1, 2 * i + 1)
            grid.setColumnStretch(1, 1)
            grid.setColumnStretch(3, 1)
            lay.addWidget(box)
        hint = QLabel("All four combine and switch while training; changes apply between steps.")
        hint.setWordWrap(True)
        hint.setObjectName("panelInfo")
        lay.addWidget(hint)


class QtRunPanel(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Run", parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.play = QPushButton("▶  Play")
        self.play.setObjectName("playButton")
        self.play.setCheckable(True)
        self.play.setToolTip("Start or continue training (Space); press again to pause.")
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
        self.status = QLabel("ready")
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

    def set_running(self, running: bool) -> None:
        self.play.blockSignals(True)
        self.play.setChecked(running)
        self.play.setText("⏸  Pause" if running else "▶  Play")
        self.play.blockSignals(False)
        self.step.setEnabled(not running)
