"""GUI test fixtures: an offscreen main window on the small ring8 preset."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "resources" / "presets"


@pytest.fixture(autouse=True, scope="session")
def _scorer_ready(digits_scorer):
    """Image runs of the app train in a child process within a deadline: the digits scorer
    is ready in the session's shared cache before any of them starts."""
    return digits_scorer


@pytest.fixture
def gui_home(tmp_path, monkeypatch):
    home = Path(os.environ.get("SNGAN_GUI_HOME") or tmp_path / "home")
    monkeypatch.setenv("SNGAN_GUI_HOME", str(home))
    return home


def _make(qtbot, config):
    import sngan_gui

    w = sngan_gui.create_window(config)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, gui_home):
    w = _make(qtbot, PRESETS / "ring8.toml")
    # The tests count logged lines after a few dozen steps: log every 10 whatever the preset says.
    w.form.cfg.set("run.log_every", 10)
    yield w
    w.close()
    assert w.controller is None


@pytest.fixture
def make_window(qtbot, gui_home):
    made = []

    def make(config=None):
        w = _make(qtbot, config)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def wait_paused(qtbot, w, timeout=5000):
    """Wait until the worker reports it is not training and the step is final."""
    qtbot.waitUntil(lambda: w.controller is not None and not w.worker_running, timeout=timeout)
    qtbot.wait(100)  # drain any queued progress signal


def type_into(qtbot, edit, text: str) -> None:
    """Type ``text`` into a line edit as a person would: select all, erase, type, Return."""
    from PySide6.QtCore import Qt

    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key_Backspace)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key_Return)


def cli_train(tmp_path, name, cfg, *args) -> Path:
    """A run trained by ``train`` (as a user's CLI run) into ``tmp_path/name`` from ``cfg``
    saved as ``tmp_path/name.toml``, with extra command-line ``args``."""
    from core import config as C
    from core.cli import train_main

    path = tmp_path / f"{name}.toml"
    C.save(cfg, path)
    out = tmp_path / name
    assert train_main(["--config", str(path), "--out", str(out), "--no-progress", *args]) == 0
    return out


def open_window(qtbot, runs=(), config=None):
    """A shown window with these run folders open (``sngan_gui.create_window``)."""
    import sngan_gui

    w = sngan_gui.create_window(config, runs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def diverge_while_lr_d_high(monkeypatch, step: int = 14, lr_d: float = 0.01) -> None:
    """Training diverges (as on NaN losses) from ``step`` on while ``optim.lr_d`` is above
    ``lr_d``; runs train in the worker's thread, where the patch lives."""
    from core.session import TrainingSession
    from core.trainer import Diverged

    real = TrainingSession.advance

    def advance(self):
        if self.cfg.optim.lr_d > lr_d and self.trainer.step_count >= step:
            self.diverged = True
            raise Diverged(f"training diverged at step {self.trainer.step_count}: loss_d "
                           f"became nan")
        return real(self)

    monkeypatch.setattr(TrainingSession, "advance", advance)
    monkeypatch.setenv("SNGAN_GUI_INPROCESS", "1")
