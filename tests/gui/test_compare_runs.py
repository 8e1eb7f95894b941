"""Runs you can reopen, follow, resume and compare side by side (the window's side)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QLabel

from conftest import cli_train, open_window
from core import compare
from core import config as C
from sngan_gui.report.dialog import FigureRequest
from tests.helpers import cli_run_in_background, tiny_2d

pytestmark = pytest.mark.slow  # each test trains runs or follows a CLI run in another process


def _lines(run: Path, name="metrics.jsonl") -> list[dict]:
    return [json.loads(x) for x in (run / name).read_text().splitlines()]


def _data(curve):
    x, y = curve.getOriginalDataset()
    return np.asarray(x), np.asarray(y)


def _col(lines, field):
    head, _, sub = field.partition(".")
    return np.array([(m[head][sub] if sub else m[head]) for m in lines], dtype=float)


def _close(w):
    w.close()
    assert w.controller is None


def test_open_a_finished_run_shows_exactly_its_metrics(qtbot, tmp_path):
    run = cli_train(tmp_path, "sn", tiny_2d(run__steps=40, run__log_every=5),
                 "--change", "20:constraints.spectral.enabled=true")
    lines, events = _lines(run), _lines(run, "events.jsonl")
    w = open_window(qtbot, [run])
    entry, = w.compare.runs
    assert entry.path == run and w.compare.runs.selected == entry.key
    qtbot.waitUntil(lambda: entry.status == "finished", timeout=10000)
    # the snapshot panels get the last checkpoint's landscape (measured in a child process)
    qtbot.waitUntil(lambda: entry.source.model.snapshot.landscape is not None, timeout=60000)
    w.refresh_all()
    steps = _col(lines, "step")
    for key in ("loss_d", "loss_g", "d_real", "d_fake"):
        x, y = _data(w.loss.curves[key])
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_array_equal(y, _col(lines, key))
    for layer in lines[0]["sigma"]:
        x, y = _data(w.sigma.curves[f"sigma.{layer}"])
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_array_equal(y, _col(lines, f"sigma.{layer}"))
    for key in ("lip_bound", "lip_grad", "lip_grad_mean_interp", "lip_grad_mean_perturbed"):
        np.testing.assert_array_equal(_data(w.lipschitz.curves[key])[1], _col(lines, key))
    assert [m.value() for m in w.loss.markers] == [e["step"] for e in events] == [20]
    assert f"step {lines[-1]['step']}" in w.samples.info.text()
    assert w.samples.info.text().startswith(f"modes {lines[-1]['modes']}/8")
    _close(w)


def test_a_folder_that_is_not_a_run_is_refused_in_one_line(qtbot, tmp_path):
    good = cli_train(tmp_path, "good", tiny_2d(run__steps=10))
    (tmp_path / "empty").mkdir()
    w = open_window(qtbot, [tmp_path / "empty", good, tmp_path / "missing"])
    assert [e.path for e in w.compare.runs] == [good]
    assert w.compare.refused == [f"{tmp_path / 'empty'} is not a run folder: it has no config.toml",
                                 f"{tmp_path / 'missing'} is not a run folder: it does not exist"]
    _close(w)


def test_follow_a_cli_run_and_a_line_cut_in_half(qtbot, tmp_path):
    out = tmp_path / "live"
    with cli_run_in_background(tiny_2d(run__log_every=5), out, 600) as proc:
        qtbot.waitUntil(lambda: (out / "config.toml").is_file(), timeout=60000)
        w = open_window(qtbot, [out])
        entry, = w.compare.runs
        model = entry.source.model
        qtbot.waitUntil(lambda: entry.status == "following" and len(model.history) > 0,
                        timeout=30000)
        assert w.statusBar().currentMessage() == f"following: {out}"
        seen = len(model.history)
        qtbot.waitUntil(lambda: len(model.history) > seen, timeout=60000)  # it grows
        qtbot.waitUntil(lambda: entry.status == "finished", timeout=120000)
        assert proc.wait(timeout=60) == 0
    w.refresh_all()
    lines = _lines(out)
    np.testing.assert_array_equal(_data(w.loss.curves["loss_d"])[0], _col(lines, "step"))

    # a run written by hand, its last line cut in half while the app reads it
    run = tmp_path / "hand"
    run.mkdir()
    C.save(tiny_2d(run__steps=30), run / "config.toml")
    full = [{**lines[i], "step": 5 * (i + 1)} for i in range(6)]
    text = "".join(json.dumps(m) + "\n" for m in full)
    cut = text.index("\n", text.index('"step": 15')) - 20
    (run / "metrics.jsonl").write_text(text[:cut])
    key = w.compare.open_run(run)
    hand = w.compare.runs.entry(key)
    qtbot.waitUntil(lambda: len(hand.source.model.history) == 2, timeout=10000)
    qtbot.wait(300)  # several polls over the cut line
    assert list(hand.source.model.history.steps) == [5, 10]
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(text[cut:])
    qtbot.waitUntil(lambda: hand.status == "finished", timeout=10000)
    assert list(hand.source.model.history.steps) == [5, 10, 15, 20, 25, 30]
    _close(w)


def _legend(panel):
    return [label.text for _, label in panel.legend.items]


def test_compare_two_runs_differing_in_one_constraint(qtbot, tmp_path):
    cfg = tiny_2d(run__steps=30, run__log_every=5)
    on = cli_train(tmp_path, "on", cfg, "--set", "constraints.spectral.enabled=true")
    off = cli_train(tmp_path, "off", cfg)
    w = open_window(qtbot, [on, off])
    a, b = w.compare.runs
    assert (a.label, b.label) == ("spectral on", "spectral off")
    qtbot.waitUntil(lambda: a.status == b.status == "finished", timeout=10000)
    w.refresh_all()
    assert w.loss.overlaid
    assert _legend(w.loss) == ["spectral on", "spectral off", "D loss", "G loss", "D(real)",
                               "D(fake)"]
    for entry, run in ((a, on), (b, off)):
        lines = _lines(run)
        curves = w.loss.overlay.curves(entry.key)
        assert curves["loss_d"].name() == f"D loss · {entry.label}"
        np.testing.assert_array_equal(_data(curves["loss_d"])[1], _col(lines, "loss_d"))
        lip = w.lipschitz.overlay.curves(entry.key)["lip_bound"]
        np.testing.assert_array_equal(_data(lip)[1], _col(lines, "lip_bound"))
        assert lip.opts["pen"].color() == entry.pen_color
    title = w.samples.findChild(QLabel, "panelTitle")
    assert title.text() == "Samples · spectral on"  # the selected run
    w.compare.runs.select(b.key)
    assert title.text() == "Samples · spectral off"
    assert {c.name() for c in w.sigma.overlay.curves(a.key).values()} == {
        f"{layer} · spectral on" for layer in _lines(on)[0]["sigma"]}
    # the comparison CSV: one column per run (and series)
    csv_path = w.exports.plot("lipschitz", tmp_path / "lip.csv")
    header = csv_path.read_text().splitlines()[0].split(",")
    series = ("bound", "‖∇ₓD‖", "‖∇D‖ interp", "‖∇D‖ near data")
    assert header == ["step", *(f"{s} · {label}" for label in ("spectral on", "spectral off")
                                for s in series)]
    # removing one leaves the other, drawn alone again
    w.run_list.remove(a.key)
    assert [e.key for e in w.compare.runs] == [b.key]
    w.refresh_all()
    assert not w.loss.overlaid and _legend(w.loss) == ["D loss", "G loss", "D(real)", "D(fake)"]
    assert title.text() == "Samples"
    np.testing.assert_array_equal(_data(w.loss.curves["loss_d"])[1], _col(_lines(off), "loss_d"))
    _close(w)


def test_report_figure_names_the_runs(qtbot, tmp_path):
    cfg = tiny_2d(run__steps=20, run__log_every=5)
    on = cli_train(tmp_path, "on", cfg, "--set", "constraints.spectral.enabled=true")
    off = cli_train(tmp_path, "off", cfg)
    w = open_window(qtbot, [on, off])
    qtbot.waitUntil(lambda: all(e.source.model.snapshot.landscape is not None
                                for e in w.compare.runs), timeout=90000)
    req = FigureRequest(panels=("samples", "loss", "lipschitz", "sigma"),
                        caption=w.exports.caption(), style="report", formats=("png", "pdf"),
                        path=tmp_path / "fig", columns=2)
    png, pdf = w.exports.figure(req)
    img = QImage(str(png))
    assert QColor_light(img) and img.width() > 1500
    caption = img.text("Description")
    assert "spectral on (on)" in caption and "spectral off (off)" in caption
    assert "constraints.spectral.enabled (on / off)" in caption
    assert pdf.read_bytes().startswith(b"%PDF")
    one = w.exports.plot("loss", tmp_path / "loss.png", style="report")
    assert QColor_light(QImage(str(one)))
    _close(w)


def QColor_light(img) -> bool:
    from PySide6.QtGui import QColor

    return all(QColor(img.pixel(x, y)).lightness() > 240
               for x, y in ((1, 1), (img.width() - 2, 1), (1, img.height() - 2)))


def test_duplicate_with_change_trains_beside_the_first(qtbot, tmp_path):
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(run__steps=40, run__log_every=5, run__seed=3), cfg_file)
    w = open_window(qtbot, config=cfg_file)
    key = w.compare.duplicate({"constraints.spectral.enabled": True})
    dup = w.compare.runs.entry(key)
    first = w.compare.runs.entry(w.compare.current_key)
    assert (first.label, dup.label) == ("spectral off", "spectral on")
    qtbot.waitUntil(lambda: w.model.state.value == "finished" and
                    dup.source.model.state.value == "finished", timeout=120000)
    a = C.load(w.run_dir / "config.toml")
    b = C.load(dup.path / "config.toml")
    assert compare.changed_keys(a, b) == ["constraints.spectral.enabled"]
    assert a.run.seed == b.run.seed == 3
    w.refresh_all()
    assert w.loss.overlaid and _legend(w.loss)[:2] == ["spectral off", "spectral on"]
    np.testing.assert_array_equal(_data(w.loss.overlay.curves(key)["loss_d"])[1],
                                  _col(_lines(dup.path), "loss_d"))
    _close(w)


def test_resume_a_stopped_run_in_the_app(qtbot, tmp_path):
    from core.session import TrainingSession

    cfg = tiny_2d(run__steps=20, run__log_every=5)
    full = cli_train(tmp_path, "full", cfg)
    stopped = tmp_path / "stopped"
    session = TrainingSession(stopped, cfg)  # stopped at step 10 of 20, as by Ctrl-C
    for _ in range(10):
        session.advance()
    session.finish()
    # a line after the last checkpoint (as a divergence leaves): the resume drops it
    last = _lines(stopped)[-1]
    with open(stopped / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({**last, "step": 12, "loss_d": 99.0}) + "\n")
    w = open_window(qtbot, [stopped])
    entry, = w.compare.runs
    qtbot.waitUntil(lambda: entry.status == "following" and len(entry.source.model.history) == 3,
                    timeout=10000)
    assert w.compare.can_resume(entry.key) == ""
    w.compare.resume(entry.key)
    qtbot.waitUntil(lambda: entry.source.model.state.value == "finished", timeout=60000)
    qtbot.waitUntil(lambda: entry.status == "finished", timeout=10000)
    keys = ("step", "loss_d", "loss_g", "d_real", "d_fake")
    assert [[m[k] for k in keys] for m in _lines(stopped)] == \
        [[m[k] for k in keys] for m in _lines(full)]
    assert list(entry.source.model.history.steps) == [5, 10, 15, 20]
    assert "finished" in w.compare.can_resume(entry.key)
    _close(w)


def test_drop_recent_and_settings(qtbot, tmp_path):
    run = cli_train(tmp_path, "dropped", tiny_2d(run__steps=10))
    w = open_window(qtbot)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(run))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    w.dropEvent(event)
    assert [e.path for e in w.compare.runs] == [run]
    assert w.settings.recent_runs() == [run]
    w.form.cfg.set("optim.lr_d", 1e-3)
    w.run_list.hide()
    _close(w)
    w2 = open_window(qtbot)  # last config, layout and recent runs come back
    assert w2.cfg.optim.lr_d == 1e-3
    assert w2.run_list.isHidden()
    w2.files.recent_menu.aboutToShow.emit()
    assert [a.text() for a in w2.files.recent_menu.actions()][0] == "dropped"
    _close(w2)


def test_command_line_takes_run_folders():
    from sngan_gui.app import build_parser

    args, rest = build_parser().parse_known_args(["--config", "c.toml", "runs/a", "runs/b"])
    assert args.config == "c.toml" and args.runs == ["runs/a", "runs/b"] and rest == []
    assert build_parser().parse_known_args([])[0].runs == []


def test_a_switch_during_a_run_is_in_its_label_legend_and_caption(qtbot, tmp_path):
    # Labels came from the start configs only: a run whose SN was switched off at step 10
    # was "spectral on" in the overlay and in the report figure's caption.
    cfg = tiny_2d(run__steps=20, run__log_every=5)
    switched = cli_train(tmp_path, "switched", cfg, "--set", "constraints.spectral.enabled=true",
                      "--change", "10:constraints.spectral.enabled=false")
    off = cli_train(tmp_path, "off", cfg)
    w = open_window(qtbot, [switched, off])
    a, b = w.compare.runs
    qtbot.waitUntil(lambda: a.status == b.status == "finished", timeout=10000)
    w.refresh_all()
    assert (a.label, b.label) == ("spectral on -> off @10", "spectral off")
    assert _legend(w.loss)[:2] == ["spectral on -> off @10", "spectral off"]
    assert w.loss.overlay.curves(a.key)["loss_d"].name() == "D loss · spectral on -> off @10"
    caption = w.exports.caption()
    assert "spectral on -> off @10 (switched)" in caption
    assert "constraints.spectral.enabled (on -> off @10 / off)" in caption
    # A long label in the panel titles never makes the window wider than a 1280 px screen.
    w.compare.runs.rename(a.key, "a label that says a great deal about this run " * 3)
    assert w.minimumSizeHint().width() <= 1280
    _close(w)
