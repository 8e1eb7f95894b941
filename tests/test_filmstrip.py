"""The filmstrip's Qt-free part (core/filmstrip.py): nearest steps, the quality lines of a
metrics.jsonl read incrementally, what the labels say, and the report figure's panels."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from core import filmstrip as film
from core.contract import Landscape
from core.filmstrip import FilmFrame, QualityLog


def test_nearest_step_prefers_the_exact_then_the_earlier_of_two_as_near():
    steps = [100, 200, 400]
    assert film.nearest_step(steps, 200) == 200
    assert film.nearest_step(steps, 249) == 200
    assert film.nearest_step(steps, 251) == 200  # 400 is farther
    assert film.nearest_step(steps, 300) == 200  # as near as 400: the earlier
    assert film.nearest_step(steps, 301) == 400
    assert film.nearest_step(steps, 5) == 100 and film.nearest_step(steps, 10**6) == 400
    assert film.nearest_step([], 7) is None
    assert film.latest_common([[2, 4, 6], [3, 6, 9], []]) == 6
    assert film.latest_common([[], []]) is None


def test_saved_sample_steps_reads_the_grids_names_only(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("step_0000300.png", "step_0000020.png", "step_0000040.png.tmp", "notes.txt"):
        (samples / name).write_bytes(b"x")
    assert film.saved_sample_steps(tmp_path) == [20, 300]
    assert film.saved_sample_steps(tmp_path / "missing") == []


def _line(step, **quality):
    base = {"step": step, "time": 0.1 * step, "loss_d": 0.5, "fd": None, "classes": None,
            "modes": None, "hq": None}
    base.update(quality)
    return json.dumps(base) + "\n"


def test_quality_log_keeps_only_quality_lines_read_incrementally(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(_line(2) + _line(4, fd=310.5, classes=3) + _line(6))
    log = QualityLog(tmp_path)
    assert log.refresh() and log.steps == [4]
    assert log.lines[4]["fd"] == 310.5 and log.lines[4]["classes"] == 3
    assert not log.refresh()  # nothing new
    with open(path, "a") as fh:
        fh.write(_line(8, fd=12.25, classes=9) + '{"step": 10, "fd": 3')  # a line being written
    assert log.refresh() and log.steps == [4, 8]
    assert log.nearest(5)["step"] == 4 and log.nearest(7)["step"] == 8
    assert log.nearest(6)["step"] == 4  # as near: the earlier
    with open(path, "a") as fh:
        fh.write('.5, "classes": 10}\n')
    assert log.refresh() and log.steps == [4, 8, 10] and log.lines[10]["fd"] == 3.5
    # a resume cut the file after its checkpoint (rewritten): read again from the start
    tmp = tmp_path / "metrics.tmp"
    tmp.write_text(_line(2) + _line(4, fd=300.0, classes=2))
    os.replace(tmp, path)
    assert log.refresh() and log.steps == [4] and log.lines[4]["fd"] == 300.0


def test_2d_quality_lines_are_read_too(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(_line(5) + _line(10, modes=7, hq=0.8125))
    log = QualityLog(tmp_path)
    log.refresh()
    assert log.steps == [10]
    frame = FilmFrame("ring", 10, 10, two_d=True, quality=log.lines[10], modes_total=8)
    assert frame.figures() == "modes 7/8 · hq 81 %"


def test_the_labels_say_which_step_is_shown_and_where_the_figures_come_from():
    q = {"step": 500, "fd": 12.345, "classes": 9, "modes": None}
    same = FilmFrame("SN on", 500, 500, quality=q)
    assert same.step_note() == "step 500" and same.figures() == "fd 12.3 · classes 9"
    off = FilmFrame("SN off", 800, 750, quality=q)
    assert off.step_note() == "step 750 (nearest to 800)"
    assert off.figures() == "fd 12.3 · classes 9 (at step 500)"
    big = FilmFrame("b", 1000, 1000, quality={"step": 1000, "fd": 1234.5, "classes": 1})
    assert big.figures() == "fd 1234 · classes 1"  # 1234.5 rounds half to even
    none = FilmFrame("new", 10, None)
    assert none.step_note() == "no samples yet" and none.figures() == "no quality figures yet"
    off = FilmFrame("q off", 10, 10, unmeasured="quality not measured (quality.enabled off)")
    assert off.figures() == "quality not measured (quality.enabled off)"
    stacked = FilmFrame("s", 4, 4, quality={"step": 4, "fd": 50.0, "classes": 10, "modes": 412})
    assert stacked.figures() == "fd 50 · classes 10 · modes 412"


def _landscape(step):
    x = np.linspace(-2, 2, 5)
    return Landscape(step=step, x=x, y=x, values=np.arange(25.0).reshape(5, 5),
                     extent=(-2.0, 2.0, -2.0, 2.0), samples=np.zeros((30, 2)), modes=3,
                     hq=0.5, mode_counts=np.ones(8))


def test_long_labels_wrap_above_the_grid_keeping_their_end():
    assert film._title("spectral on, loss bce, lr_d 0.0002 (2)", 30) == \
        "spectral on, loss bce, lr_d\n0.0002 (2)"
    long = film._title("spectral on, loss bce, lr_d 0.0002, seed 1, batch 64, steps 900 (2)", 30)
    first, second = long.split("\n")
    assert first == "spectral on, loss bce, lr_d" and second.endswith("(2)") and len(second) == 30


def test_frame_specs_and_caption():
    grid = np.full((10, 10, 1), 128, np.uint8)
    frames = [FilmFrame("SN on", 6, 6, pixels=grid, quality={"step": 6, "fd": 40.0,
                                                                "classes": 7}),
              FilmFrame("SN off", 6, 4, pixels=grid, quality={"step": 4, "fd": 80.0,
                                                                 "classes": 5})]
    specs = film.frame_specs(frames, heat_stops=((0, "#000000"), (1, "#ffffff")),
                             real_color="#0000ff", fake_color="#ff8800")
    assert [s.title for s in specs] == ["SN on", "SN off"]
    assert specs[0].image.shape == (10, 10) and not specs[0].axes
    assert specs[1].xlabel == "step 4 (nearest to 6)\nfd 80 · classes 5"
    text = film.filmstrip_caption(frames, 6, "Runs: SN on; SN off.")
    assert text.startswith("Samples at step 6. A run without samples at that step shows its "
                           "nearest, its step under it.")
    assert "fd: Fréchet distance" in text and text.endswith("Runs: SN on; SN off.")
    assert film.frame_columns(frames) == 2 and film.frame_columns(frames * 3) == 3
    assert film.frame_columns(frames * 2) == 2  # four runs: two rows of two
    flat = [FilmFrame("ring", 10, 10, two_d=True, landscape=_landscape(10),
                      real=np.ones((4, 2)), quality={"step": 10, "modes": 3, "hq": 0.5})]
    specs = film.frame_specs(flat, heat_stops=((0, "#000000"), (1, "#ffffff")),
                             real_color="#0000ff", fake_color="#ff8800")
    assert [s.title for s in specs] == ["ring\nsamples", "ring\ncritic D(x)"]
    assert [p.name for p in specs[0].points] == ["real", "generated"]
    assert specs[1].heatmap.levels == pytest.approx(tuple(np.percentile(np.arange(25.0),
                                                                         [2, 98])))
    assert film.frame_columns(flat) == 2
    assert film.figure_style(flat).panel_width_in == film.PANEL_2D_IN[0]


def test_a_tail_reading_only_matching_lines_counts_every_line(tmp_path):
    """JsonlTail(only=...) parses the matching lines alone, yet names a bad one by its line
    number in the file, and holds a half-written line back as a full read does."""
    import re

    from core.runreader import JsonlTail

    path = tmp_path / "m.jsonl"
    path.write_text(_line(1) + _line(2, fd=5.0) + '{"step": 3, "fd": 7, oops}\n' + _line(4)
                    + '{"step": 5, "fd": 1.5, "classes": 2, "note": "\\"fd\\": 9"}\n')
    tail = JsonlTail(path, require_step=True, only=re.compile(rb'"fd": ?-?[0-9]'))
    assert [m["step"] for m in tail.read_new()] == [2, 5]  # one line found twice: once
    assert [p.line for p in tail.problems] == [3] and tail.lines == 5
    with open(path, "a") as fh:
        fh.write(_line(6, fd=2.0)[:20])
    assert tail.read_new() == [] and tail.incomplete_tail
    with open(path, "a") as fh:
        fh.write(_line(6, fd=2.0)[20:] + _line(7))
    assert [m["step"] for m in tail.read_new()] == [6] and tail.lines == 7
