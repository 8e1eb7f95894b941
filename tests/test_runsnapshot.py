import json

import numpy as np
import pytest
from PIL import Image

from core import config as C
from core.cli import train_main
from core.runreader import RunReadError
from core.runsnapshot import checkpoint_view, has_checkpoint
from tests.helpers import tiny_2d, tiny_image


def _train(tmp_path, cfg, *args):
    path = tmp_path / "cfg.toml"
    C.save(cfg, path)
    out = tmp_path / "run"
    assert train_main(["--config", str(path), "--out", str(out), "--no-progress", *args]) == 0
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return out, lines


def test_2d_snapshot_matches_the_run_s_last_slow_probe(tmp_path):
    out, lines = _train(tmp_path, tiny_2d(), "--steps", "20", "--set", "run.probe_every=10")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    info, snap = checkpoint_view(out)
    last = lines[-1]
    assert snap.step == last["step"] == 20
    assert info.kind == "2d" and list(info.layers) == list(last["sigma"])
    assert info.run_dir == str(out) and len(info.mode_centres) == 8
    # weights and the held-out noise are the run's: coverage and exact spectra agree
    assert (snap.landscape.modes, snap.landscape.hq) == (last["modes"], last["hq"])
    for layer, sigma in last["sigma"].items():
        assert snap.spectra.singular_values[layer][0] == pytest.approx(sigma, rel=1e-6)
    assert snap.landscape.values.shape[0] == len(snap.landscape.y)
    assert snap.fast.arrows.shape[1] == 4
    assert set(snap.spectra.histograms) == set(last["sigma"])
    # nothing in the folder was written
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_image_snapshot_grid_is_the_last_sample_png(tmp_path):
    out, _ = _train(tmp_path, tiny_image(), "--steps", "4", "--set", "run.sample_every=2")
    info, snap = checkpoint_view(out, threads=1)
    png = np.asarray(Image.open(out / "samples" / "step_0000004.png"))
    grid = snap.samples.pixels
    assert snap.samples.step == 4 and info.kind == "image" and info.mode_centres is None
    np.testing.assert_array_equal(grid.reshape(png.shape), png)


def test_no_checkpoint_or_not_a_run_is_one_line(tmp_path):
    with pytest.raises(RunReadError, match="does not exist"):
        checkpoint_view(tmp_path / "nothing")
    run = tmp_path / "run"
    run.mkdir()
    C.save(tiny_2d(), run / "config.toml")
    assert not has_checkpoint(run)
    with pytest.raises(RunReadError, match="has no checkpoint yet") as err:
        checkpoint_view(run)
    assert str(run) in str(err.value)
    (run / "checkpoints" / "last").mkdir(parents=True)
    (run / "checkpoints" / "last" / "trainer.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RunReadError, match="cannot read its checkpoint") as err:
        checkpoint_view(run)
    assert "\n" not in str(err.value)
