"""The drawn 2D dataset: points through CSV, TOML and --set, its modes, and a CLI run."""

import json

import numpy as np
import pytest
import torch

from core import config as C
from core.cli import train_main
from core.config import Config, ConfigError
from core.data import make_sampler
from core.points import (PointsError, mode_labels, parse_points_csv, read_points_csv,
                         write_points_csv)
from core.probes.coverage import mode_coverage
from tests.helpers import tiny_2d

# two strokes (sampled every 0.1) and a lone dot
STROKE_A = [[-2.0 + 0.1 * i, 1.0] for i in range(11)]
STROKE_B = [[1.5, -1.5 + 0.1 * i] for i in range(8)]
DOT = [[2.5, 2.5]]
DRAWING = STROKE_A + DOT + STROKE_B


def test_points_round_trip_through_csv(tmp_path):
    pts = [[0.1, -0.2], [1 / 3, 2.0e-7], [-1234.5 / 1000, 5.0]]
    path = write_points_csv(tmp_path / "p.csv", pts)
    assert path.read_text().splitlines()[0] == "x,y"
    assert read_points_csv(path) == pts  # exact: repr precision
    assert parse_points_csv("1,2\n\n3.5, -4\n", "text") == [[1.0, 2.0], [3.5, -4.0]]


@pytest.mark.parametrize("text,message", [
    ("x,y\n1,2,3\n", "line 2: expected two columns"),
    ("1,2\nfoo,3\n", "line 2: not two numbers"),
    ("1,nan\n", "must be finite"),
    ("1,5000\n", "outside"),
])
def test_bad_csv_is_one_line_naming_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(PointsError, match=message) as err:
        read_points_csv(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_drawn_config_round_trips_through_toml_and_set(tmp_path):
    cfg = tiny_2d()
    cfg.update({"data.dataset": "drawn", "data.drawn.points": DRAWING, "data.drawn.std": 0.05})
    path = tmp_path / "drawn.toml"
    C.save(cfg, path)
    back = C.load(path)
    assert back == cfg and back.data.drawn.points == DRAWING
    csv_path = write_points_csv(tmp_path / "d.csv", DRAWING)
    other = Config()
    assert other.set_text("data.drawn.points", str(csv_path)) == DRAWING
    assert Config().set_text("data.drawn.points", "0,1; 2,3") == [[0.0, 1.0], [2.0, 3.0]]
    with pytest.raises(ConfigError, match="needs points"):
        Config().set("data.dataset", "drawn")
    with pytest.raises(ConfigError, match="points file not found"):
        Config().set_text("data.drawn.points", str(tmp_path / "missing.csv"))


def test_modes_of_a_drawing_are_its_connected_pieces():
    labels = mode_labels(DRAWING, 0.05)  # links points closer than 6 sigma = 0.3
    assert labels.tolist() == [0] * 11 + [1] + [2] * 8
    assert mode_labels(DRAWING, 0.01).max() == len(DRAWING) - 1  # 0.06: every point alone
    sampler = make_sampler(tiny_2d(data__dataset="ring8"), torch.device("cpu"))
    assert sampler.mode_of.tolist() == list(range(8))  # built-in layouts: a mode per centre


def test_coverage_on_a_drawing_counts_pieces():
    centres = np.asarray(DRAWING)
    labels = mode_labels(centres, 0.05)
    # samples on stroke A's middle and on the dot, one far away
    samples = np.array([[-1.5, 1.02], [-1.4, 0.98], [2.51, 2.49], [0.0, -3.0]])
    cov = mode_coverage(samples, centres, 0.05, mode_of=labels)
    assert cov["modes"] == 2 and cov["hq"] == pytest.approx(0.75)
    assert cov["mode_counts"].tolist() == [2, 1, 0]


def test_drawn_sampler_draws_around_the_points():
    cfg = tiny_2d()
    cfg.update({"data.dataset": "drawn", "data.drawn.points": DOT + [[-1.0, 0.0]],
                "data.drawn.std": 0.1})
    sampler = make_sampler(cfg, torch.device("cpu"))
    x = sampler.sample(4000, torch.Generator().manual_seed(0)).numpy()
    near_dot = np.linalg.norm(x - np.array([2.5, 2.5]), axis=1) < 0.5
    assert 0.45 < near_dot.mean() < 0.55
    assert x[near_dot].std(0) == pytest.approx([0.1, 0.1], rel=0.1)


@pytest.mark.slow
def test_drawn_dataset_trains_from_the_cli_and_its_folder_holds_the_points(tmp_path):
    csv_path = write_points_csv(tmp_path / "drawing.csv", DRAWING)
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(run__probe_every=5), cfg_file)
    out = tmp_path / "run"
    rc = train_main(["--config", str(cfg_file), "--out", str(out), "--steps", "10",
                     "--no-progress", "--set", "data.dataset=drawn",
                     "--set", f"data.drawn.points={csv_path}"])
    assert rc == 0
    csv_path.unlink()  # the run folder does not need the CSV
    saved = C.load(out / "config.toml")
    assert saved.data.dataset == "drawn" and saved.data.drawn.points == DRAWING
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["modes"] is not None and 0 <= metrics[-1]["modes"] <= 3
    assert train_main(["--out", str(out), "--resume", "--steps", "15", "--no-progress"]) == 0
    # the folder alone reproduces the run: its config.toml trains it again
    assert train_main(["--config", str(out / "config.toml"), "--out", str(tmp_path / "again"),
                       "--steps", "10", "--no-progress"]) == 0
    again = [json.loads(x) for x in (tmp_path / "again" / "metrics.jsonl").read_text()
             .splitlines()]
    assert [m["loss_d"] for m in again] == [m["loss_d"] for m in metrics[:len(again)]]


def test_bad_points_file_on_the_command_line_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nhello\n")
    cfg_file = tmp_path / "cfg.toml"
    C.save(tiny_2d(), cfg_file)
    rc = train_main(["--config", str(cfg_file), "--out", str(tmp_path / "run"), "--no-progress",
                     "--set", "data.dataset=drawn", "--set", f"data.drawn.points={bad}"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "line 2" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_tensorboard_hparams_name_the_points_by_their_count():
    from core.tensorboard_log import hparams

    cfg = tiny_2d()
    cfg.update({"data.dataset": "drawn", "data.drawn.points": DRAWING})
    params = hparams(cfg)
    assert params["data.drawn.points"] == f"{len(DRAWING)} points"
    assert params["data.drawn.std"] == 0.05
