"""The other stabilizers people reach for besides the Lipschitz constraints: instance noise and
one-sided label smoothing (AdamW is an optimizer in the experiment settings; DRAGAN is a kind of
gradient penalty among the constraints). Every editor comes from ``core.config``'s field specs,
so each one switches live and its tooltip names its source."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout

from .controls import QtConfigForm, switch_group


class QtStabilizersPanel(QGroupBox):
    def __init__(self, form: QtConfigForm, parent=None):
        super().__init__("Other stabilizers", parent)
        self.setObjectName("stabilizersPanel")
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        lay.addWidget(switch_group(form, "instance_noise.enabled",
                                   ["instance_noise.std", "instance_noise.anneal_steps"]))
        rows = QFormLayout()
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addRow(form.make_label("loss.label_smoothing"),
                    form.make_editor("loss.label_smoothing"))
        lay.addLayout(rows)
        hint = QLabel("Switch while training, like the constraints. DRAGAN: gradient penalty "
                      "kind; AdamW: the optimizer (Experiment).")
        hint.setWordWrap(True)
        hint.setObjectName("panelInfo")
        lay.addWidget(hint)
