"""Scorers beyond digits: stacked digits (1,000 modes by the per-channel scorer), a folder of
images (a fixed random embedding, distance metrics only), and MNIST / CIFAR-10 trained from
small files in torchvision's raw layouts (their real accuracies need the real files)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from core.config import Config, ConfigError
from core.data import prepare_dataset
from core.quality import prepare_scorer, scorer as scorer_mod
from core.quality.metrics import QUALITY_FIELDS
from core.session import TrainingSession
from tests.helpers import tiny_image
from tests.test_datasets import idx_bytes


pytestmark = pytest.mark.slow  # trains scorers and runs on several datasets


def run(tmp_path, cfg, steps, name="run"):
    session = TrainingSession(tmp_path / name, cfg, steps=steps)
    while not session.done:
        session.advance()
    session.finish()
    return [json.loads(x) for x in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]


def test_stacked_digits_is_three_digits_as_colour_channels():
    cfg = tiny_image(data__dataset="stacked_digits")
    images = prepare_dataset(cfg).images
    assert images.shape == (25_600, 3, 28, 28)
    from core.data.images import digits_uint8

    digits = digits_uint8(28)
    for i in (0, 1234, 25_599):  # every channel is one of the digits
        for c in range(3):
            assert (images[i, c] == digits[:, 0]).all(-1).all(-1).any()
    with pytest.raises(ConfigError, match="channels must be 0 or 3"):
        tiny_image(data__dataset="stacked_digits", data__channels=1)


def test_stacked_run_counts_modes_on_its_last_line(tmp_path):
    lines = run(tmp_path, tiny_image(data__dataset="stacked_digits", run__log_every=2,
                                     run__probe_every=2, quality__final_mode_samples=600), 4)
    first, last = lines[0], lines[-1]
    assert first["modes_n"] == 32 and last["modes_n"] == 600
    assert 1 <= first["modes"] <= 32 and 1 <= last["modes"] <= 600
    assert last["mode_kl"] >= 0 and last["classes"] is None
    assert "per channel" in last["quality_scorer"]
    assert last["quality_floor"]["modes"] > 25  # 32 real stacks: nearly all distinct modes


def test_stacked_scorer_reads_each_channel_as_a_digit():
    cfg = tiny_image(data__dataset="stacked_digits")
    stacked = prepare_scorer(cfg)
    held = stacked.splits.held_x[:200]
    _, probs = stacked.run(held)
    truth = stacked.splits.held_y[:200]
    found = probs.argmax(-1)
    modes = found[:, 0] * 100 + found[:, 1] * 10 + found[:, 2]
    assert (modes == truth).double().mean() > 0.9  # 0.99^3 per stack


def test_folder_runs_are_scored_in_a_random_embedding_without_classes(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(100):
        Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(
            folder / f"{i}.png")
    lines = run(tmp_path, tiny_image(data__dataset="folder", data__root=str(folder),
                                     run__log_every=2), 2)
    last = lines[-1]
    assert last["fd"] > 0 and last["precision"] is not None
    assert last["classes"] is None and last["confidence"] is None
    assert "random CNN embedding" in last["quality_scorer"]
    assert "distance metrics only" in last["quality_scorer"]


def write_labelled_mnist(root, n_train=256, n_test=64, folder="MNIST"):
    """MNIST's raw layout with learnable images: "digit" k is a centred square of grey level
    30 + 22 k on faint noise (the scorer's random shifts and rotations keep the level)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 20, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 8:20, 8:20] = 30 + 22 * int(k)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))


@pytest.mark.parametrize("dataset,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_kinds_train_their_scorer_from_the_raw_files(tmp_path, monkeypatch, dataset,
                                                           folder):
    monkeypatch.setitem(scorer_mod.RECIPES, dataset, scorer_mod.RECIPES[dataset].__class__(
        epochs=6, batch=32))
    write_labelled_mnist(tmp_path / "data", folder=folder)
    lines = run(tmp_path, tiny_image(data__dataset=dataset, data__root=str(tmp_path / "data"),
                                     run__log_every=2), 2)
    last = lines[-1]
    assert all(last[k] is not None for k in QUALITY_FIELDS)
    scorer = prepare_scorer(tiny_image(data__dataset=dataset, data__root=str(tmp_path / "data")))
    assert scorer.splits.train_x.shape == (256, 1, 28, 28)
    assert scorer.splits.held_x.shape == (64, 1, 28, 28)
    # trained from the files (48 steps here): far above chance (10 %); MNIST's own accuracy
    # needs its real files, which this offline machine does not have
    assert scorer.accuracy > 0.4


def write_labelled_cifar10(root, per_batch=40, test=40, with_test=True):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + (["test_batch"] if with_test else [])
    for name in names:
        n = test if name == "test_batch" else per_batch
        labels = rng.integers(0, 10, n)
        data = rng.integers(0, 20, (n, 3, 32, 32)).astype(np.uint8)
        for i, k in enumerate(labels):
            data[i, int(k) % 3, 8:24, 8:24] = 40 + 20 * int(k)
        with open(folder / name, "wb") as fh:
            pickle.dump({"labels": labels.tolist(), "data": data.reshape(n, -1)}, fh, protocol=2)


def test_cifar10_scorer_trains_from_the_python_batches_and_needs_the_test_batch(tmp_path,
                                                                                monkeypatch):
    monkeypatch.setitem(scorer_mod.RECIPES, "cifar10", scorer_mod.RECIPES["cifar10"].__class__(
        epochs=6, batch=32, width=8))
    write_labelled_cifar10(tmp_path / "c")
    cfg = Config()
    cfg.update({"data.dataset": "cifar10", "data.root": str(tmp_path / "c"),
                "model.arch": "sngan_cnn"})
    scorer = prepare_scorer(cfg)
    assert scorer.splits.train_x.shape == (200, 3, 32, 32)
    assert scorer.splits.held_x.shape == (40, 3, 32, 32)
    assert scorer.accuracy > 0.3  # chance: 10 %
    write_labelled_cifar10(tmp_path / "d", with_test=False)
    cfg.set("data.root", str(tmp_path / "d"))
    from core.data import DatasetError

    with pytest.raises(DatasetError, match="test_batch is missing"):
        prepare_scorer(cfg)
