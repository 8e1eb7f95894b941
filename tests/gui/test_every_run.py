"""One owner for every run: whichever run is selected, the panels show only that run (its
layers, its numbers), the controls act on it, and every run gets the same actions (pause an
A/B duplicate, continue one that diverged); a new run leaves the one it replaces listed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton

from conftest import diverge_while_lr_d_high, open_window, type_into
from core import config as C
from core import contract
from tests.helpers import tiny_2d


def _legend(panel) -> list[str]:
    return [label.text for _, label in panel.legend.items]


def _folder(tmp_path: Path, name: str, layers: tuple[str, ...], steps=(5, 10, 15)) -> Path:
    """A run folder written by hand (config and metrics, no checkpoint): finished, nothing to
    measure, so only what a test gives its model is drawn."""
    run = tmp_path / name
    run.mkdir()
    C.save(tiny_2d(run__steps=steps[-1]), run / "config.toml")
    lines = [{"step": s, "time": 0.1 * s, "loss_d": 1.0 + i, "loss_g": 2.0, "d_real": 0.5,
              "d_fake": -0.5, "sigma": {layer: 1.0 + 0.1 * j for j, layer in enumerate(layers)},
              "lip_bound": 3.0, "lip_grad": 1.0} for i, s in enumerate(steps)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in lines))
    return run


def _spectra(step: int, layers: dict[str, float]) -> contract.ProbeSnapshot:
    """A snapshot whose spectra and weight histograms name ``layers`` (name -> weight scale)."""
    hist = {}
    for name, scale in layers.items():
        counts, edges = np.histogram(np.linspace(-scale, scale, 101), bins=10)
        hist[name] = contract.Histogram(counts, edges)
    return contract.ProbeSnapshot(spectra=contract.Spectra(
        step, {name: np.array([2.0, 1.0, 0.5]) for name in layers}, hist))


def test_selecting_another_run_shows_only_its_layers(qtbot, gui_home, tmp_path):
    """The histogram's layer list came from RunStarted/RunContinued only: selecting a run whose
    D has as many layers under other names kept the old names (and the old run's counts); the
    spectrum panel kept the first run's layers beside the second's (a followed ring8 run beside
    a DCGAN)."""
    mlp = _folder(tmp_path, "mlp", ("fc1", "fc2"))
    cnn = _folder(tmp_path, "cnn", ("main.0", "main.2"))
    w = open_window(qtbot, [mlp, cnn])
    a, b = w.compare.runs
    qtbot.waitUntil(lambda: a.status == b.status == "finished", timeout=10000)
    a.source.model.replace_snapshot(_spectra(15, {"fc1": 0.1, "fc2": 0.2}))
    b.source.model.replace_snapshot(_spectra(15, {"main.0": 3.0, "main.2": 5.0}))
    w.compare.runs.select(a.key)
    w.refresh_all()
    combo = w.histogram.layer
    assert [combo.itemText(i) for i in range(combo.count())] == ["fc1", "fc2"]
    assert _legend(w.spectrum) == ["fc1", "fc2"]

    w.compare.runs.select(b.key)
    w.refresh_all()
    assert [combo.itemText(i) for i in range(combo.count())] == ["main.0", "main.2"]
    edges, counts = w.histogram.curve.getData()
    hist = b.source.model.snapshot.spectra.histograms["main.0"]
    np.testing.assert_array_equal(edges, hist.edges)
    np.testing.assert_array_equal(counts, hist.counts)
    assert _legend(w.spectrum) == ["main.0", "main.2"]  # not fc1, fc2 beside them
    assert w.histogram.info.text() == "step 15"
    w.close()


def test_a_new_run_shows_nothing_of_the_one_before(qtbot, window):
    """After switching preset the σ and spectrum legends listed the 2D run's layers, and the
    headers kept its values ("now: 1.03…", "step 1500") before the first step."""
    w = window
    w.form.cfg.update({"run.steps": 30, "run.probe_every": 10})
    w.play()
    qtbot.waitUntil(lambda: w.model.state.value == "finished"
                    and w.model.snapshot.spectra is not None, timeout=60000)
    w.refresh_all()
    assert any(name.startswith("fc") for name in _legend(w.sigma))
    assert w.sigma.info.text().startswith("now:") and w.histogram.info.text()
    finished = w.run_dir

    combo = w.preset_panel.preset
    i = w.preset_panel.index_of("dcgan_notebook")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    w.refresh_all()
    assert w.cfg.model.arch == "dcgan" and w.run_dir is None and w.step == 0
    for panel in (w.loss, w.sigma, w.lipschitz):
        assert not [name for name in _legend(panel) if name.startswith("fc")], _legend(panel)
    assert _legend(w.spectrum) == [] and w.histogram.layer.count() == 0
    for panel in w.panels.values():
        assert panel.info.text() == "", (panel.name, panel.info.text())

    # what the new run measures is all the spectrum panel shows
    w.model.replace_snapshot(_spectra(1, {"main.0": 1.0, "main.2": 1.0, "main.5": 1.0}))
    w.refresh_all()
    assert _legend(w.spectrum) == ["main.0", "main.2", "main.5"]
    # the finished run stays in the list (unticked), its folder on disk
    entry, = w.compare.runs
    assert entry.path == finished and entry.status == "finished" and not entry.visible


def test_choosing_a_preset_keeps_the_finished_run(qtbot, window):
    w = window
    w.form.cfg.update({"run.steps": 12})
    w.play()
    qtbot.waitUntil(lambda: w.model.state.value == "finished", timeout=60000)
    run_dir = w.run_dir
    combo = w.preset_panel.preset
    i = w.preset_panel.index_of("grid25")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert [e.path for e in w.compare.runs] == [run_dir] and run_dir.is_dir()
    assert "stays in the run list" in w.statusBar().currentMessage()
    # ticked again, it is drawn beside the new run's (empty) plots, named
    key = w.compare.runs.keys()[0]
    w.compare.runs.set_visible(key, True)
    w.refresh_all()
    assert w.loss.overlaid and w.loss.overlay.curves(key)["loss_d"].name().startswith("D loss · ")
    # selected, it is the current run again: the controls show its settings
    w.compare.runs.select(key)
    assert w.run_dir == run_dir and w.cfg.data.dataset == "ring8" and w.cfg.run.steps == 12


def _training(model) -> bool:
    return model.state.value == "running"


def test_the_ab_run_pauses_from_the_controls_and_the_run_list(qtbot, window):
    """Play/Pause acted on the first run even with the A/B run selected, and the run list
    offered no pause."""
    w = window
    w.form.cfg.update({"run.steps": 100000})
    key = w.compare.duplicate({"constraints.spectral.enabled": True})  # starts both
    first_key = w.compare.current_key
    first, dup = w.compare.runs.entry(first_key).source, w.compare.runs.entry(key).source
    qtbot.waitUntil(lambda: _training(first.model) and _training(dup.model), timeout=90000)

    w.compare.runs.select(key)
    assert w.model is dup.model and w.cfg.constraints.spectral.enabled
    play = w.findChild(QPushButton, "playButton")
    assert play.isChecked() and play.text().endswith("Pause")
    play.click()  # pauses the selected run
    qtbot.waitUntil(lambda: dup.model.state.value == "paused", timeout=20000)
    step = first.model.step
    qtbot.waitUntil(lambda: first.model.step > step + 5, timeout=20000)  # the first trains on
    assert _training(first.model) and not play.isChecked()

    # the run list: the first run's menu pauses it; the dock's button plays the selected one
    menu = w.run_list.context_menu(first_key)
    pause = [a for a in menu.actions() if a.objectName() == "runAction_pause"]
    assert pause and pause[0].isEnabled()
    pause[0].trigger()
    qtbot.waitUntil(lambda: first.model.state.value == "paused", timeout=20000)
    w.run_list.play_button.click()  # the selected run: the A/B duplicate
    qtbot.waitUntil(lambda: _training(dup.model), timeout=20000)
    assert first.model.state.value == "paused"
    w.run_list.play_button.click()
    qtbot.waitUntil(lambda: dup.model.state.value == "paused", timeout=20000)


def test_an_ab_run_that_diverges_continues_from_its_last_good_checkpoint(qtbot, window,
                                                                        monkeypatch):
    """An A/B duplicate that diverged only got a status-bar line: no banner, no Continue."""
    diverge_while_lr_d_high(monkeypatch, step=14, lr_d=0.01)
    w = window
    w.form.cfg.update({"run.checkpoint_every": 10, "run.steps": 40})
    key = w.compare.duplicate({"optim.lr_d": 0.05})
    first = w.compare.runs.entry(w.compare.current_key).source
    dup, dup_dir = w.compare.runs.entry(key).source, w.compare.runs.entry(key).path
    qtbot.waitUntil(lambda: dup.model.fault is not None, timeout=60000)
    assert w.compare.runs.entry(key).status == "diverged"
    w.compare.runs.select(key)
    text = w.banner.text()
    assert w.banner.isVisible() and "diverged at step 14" in text and "at step 10" in text
    assert str(dup_dir) in text
    play, cont = w.findChild(QPushButton, "playButton"), w.findChild(QPushButton, "continueButton")
    assert not play.isEnabled() and cont.isVisible()
    menu = w.run_list.context_menu(key)
    assert {a.objectName(): a.isEnabled() for a in menu.actions()
            if a.objectName().startswith("runAction_")} == {
        "runAction_play": False, "runAction_step": False, "runAction_continue": True,
        "runAction_duplicate": True}

    type_into(qtbot, w.form.editors["optim.lr_d"], "0.001")
    cont.click()
    qtbot.waitUntil(lambda: dup.model.fault is None and dup.model.step == 10, timeout=20000)
    assert not w.banner.isVisible() and play.isEnabled() and w.run_dir == dup_dir
    w.play()
    qtbot.waitUntil(lambda: dup.model.state.value == "finished", timeout=60000)
    events = [json.loads(x) for x in (dup_dir / "events.jsonl").read_text().splitlines()]
    assert [(e["step"], e["change"]) for e in events] == [(10, {"optim.lr_d": 0.001})]
    steps = [json.loads(x)["step"] for x in (dup_dir / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 40
    qtbot.waitUntil(lambda: first.model.state.value == "finished", timeout=60000)
    assert first.model.fault is None  # the first run never diverged
    assert not w.findChild(QCheckBox, "spectralCheck").isChecked()


def test_long_run_labels_do_not_widen_theopen_window(qtbot, gui_home, tmp_path):
    """Three runs that differ in several settings have long labels; the snapshot panels'
    titles name the selected one, cut to their width, and the legends shorten them."""
    folders = []
    for name, sets in (("a", {}), ("b", {"constraints.spectral.enabled": True,
                                         "loss.kind": "hinge", "optim.lr_d": 1e-3}),
                       ("c", {"constraints.gp.enabled": True, "loss.kind": "wasserstein",
                              "optim.lr_d": 5e-4, "run.seed": 1})):
        run = _folder(tmp_path, name, ("fc1", "fc2"))
        cfg = C.load(run / "config.toml")
        cfg.update(sets)
        C.save(cfg, run / "config.toml")
        folders.append(run)
    w = open_window(qtbot)
    width = w.minimumSizeHint().width()
    w.compare.open_runs(folders)
    labels = [e.label for e in w.compare.runs]
    assert max(len(label) for label in labels) > 40, labels
    for key in w.compare.runs.keys():
        w.compare.runs.select(key)
        w.refresh_all()
        qtbot.wait(50)  # the layouts take the new titles
        assert w.minimumSizeHint().width() <= width and w.width() <= 1440
    title = w.spectrum.findChild(QLabel, "panelTitle")
    assert title.text().endswith(labels[-1])  # the whole label, drawn cut to the width
    assert all(len(t) <= 28 for t in _legend(w.loss)), _legend(w.loss)
    w.close()
