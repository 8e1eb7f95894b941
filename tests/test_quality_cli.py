"""``python main.py score``: runs and folders, the table and --json, and bad input (exit 2,
one line naming the file and the problem)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from core.quality.cli import score_main
from core.quality.metrics import QUALITY_FIELDS
from core.session import TrainingSession
from tests.helpers import tiny_image


pytestmark = pytest.mark.slow  # trains runs and scores them (InceptionV3 at 299x299 too)


def train(tmp_path, steps=4, **sets):
    cfg = tiny_image(run__log_every=2, run__probe_every=2, **sets)
    session = TrainingSession(tmp_path / "run", cfg, steps=steps)
    while not session.done:
        session.advance()
    session.finish()
    return tmp_path / "run"


def digits_pngs(folder, count=40, offset=0):
    from core.data.images import digits_uint8

    folder.mkdir(parents=True, exist_ok=True)
    images = digits_uint8(20)[offset:offset + count, 0].numpy()  # other size: resized
    for i, im in enumerate(images):
        Image.fromarray(im).convert("RGB").save(folder / f"d{i:03d}.png")
    return folder


def call(capsys, *argv):
    code = score_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def test_score_run_repeats_the_runs_last_line(tmp_path, capsys):
    run_dir = train(tmp_path)
    last = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()][-1]
    code, out, _ = call(capsys, run_dir, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["step"] == 4 and result["n"] == 32
    for key in QUALITY_FIELDS:
        assert result[key] == pytest.approx(last[key], rel=1e-6, abs=1e-9), key
    assert result["floor"] == pytest.approx(last["quality_floor"])
    assert result["ceiling"] == pytest.approx(last["quality_ceiling"])
    assert result["scorer"]["dataset"] == "digits" and result["scorer"]["accuracy"] >= 0.97
    assert result["scorer"]["kind"] == "classifier" and result["scorer"]["features"] == 128
    # an earlier quality line: as recorded while training
    code, out, _ = call(capsys, run_dir, "--step", 2, "--json")
    assert code == 0 and json.loads(out)["recorded"] is True
    # the table names each metric beside its floor and ceiling
    code, out, _ = call(capsys, run_dir, "--samples", 40)
    assert code == 0
    assert "fd" in out and "floor" in out and "ceiling" in out and "held-out accuracy" in out


def test_score_images_of_any_size_against_digits(tmp_path, capsys):
    folder = digits_pngs(tmp_path / "imgs", 48)
    code, out, err = call(capsys, "--images", folder, "--dataset", "digits", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(QUALITY_FIELDS) <= set(result)
    assert {"scorer", "n", "floor", "ceiling"} <= set(result)
    assert result["n"] == 48
    assert result["classes"] >= 8 and result["fd"] < result["ceiling"]["fd"]


@pytest.mark.parametrize("case", ["empty", "unreadable", "unknown", "no_checkpoint", "missing",
                                  "step", "not_a_run"])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    if case == "empty":
        (tmp_path / "e").mkdir()
        argv, expect = ["--images", tmp_path / "e", "--dataset", "digits"], "no images"
    elif case == "unreadable":
        folder = digits_pngs(tmp_path / "b", 20)
        (folder / "broken.png").write_bytes(b"not a png")
        argv, expect = ["--images", folder, "--dataset", "digits"], "broken.png"
    elif case == "unknown":
        argv, expect = ["--images", tmp_path, "--dataset", "svhn"], "unknown dataset 'svhn'"
    elif case == "no_checkpoint":
        run_dir = tmp_path / "r"
        run_dir.mkdir()
        from core import config as config_mod
        config_mod.save(tiny_image(), run_dir / "config.toml")
        argv, expect = [run_dir], "G.pt"
    elif case == "missing":  # MNIST's files are not on disk, offline
        folder = digits_pngs(tmp_path / "m", 20)
        argv, expect = ["--images", folder, "--dataset", "mnist"], "MNIST"
    elif case == "step":
        argv, expect = [train(tmp_path), "--step", 3], "step 3"
    else:
        argv, expect = [tmp_path / "nothing"], "not a run folder"
    code, out, err = call(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err) == 1 and err[0].startswith("error: ") and expect in err[0], err


def test_inception_features_load_from_a_state_dict_file(tmp_path, capsys):
    from torchvision.models import inception_v3

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = inception_v3(weights=None, aux_logits=True, init_weights=True)
    weights = tmp_path / "inception.pth"
    torch.save(net.state_dict(), weights)
    folder = digits_pngs(tmp_path / "imgs", 20)
    code, out, err = call(capsys, "--images", folder, "--dataset", "digits", "--samples", 20,
                          "--features", "inception", "--inception-weights", weights, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["scorer"]["kind"] == "inception" and result["scorer"]["features"] == 2048
    assert np.isfinite(result["fd"]) and result["classes"] is None
    # without the file: one line saying where to put it
    code, out, err = call(capsys, "--images", folder, "--dataset", "digits", "--features",
                          "inception", "--inception-weights", tmp_path / "none.pth")
    assert code == 2 and len(err) == 1 and "none.pth" in err[0] and "put" in err[0]
