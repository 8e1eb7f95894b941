"""The image-quality scorer and probe on real digits: the scorer's accuracy and cache, every
metric's behaviour on real and corrupted images, the floor and ceiling, and the fields of a
training run (docs/image-quality.md)."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from core.config import Config
from core.quality import prepare_scorer, scorer as scorer_mod
from core.quality.measure import REAL_SEED, _select, fields_of, real_set, references
from core.quality.metrics import QUALITY_FIELDS
from core.session import TrainingSession
from tests.helpers import tiny_2d, tiny_image


pytestmark = pytest.mark.slow  # trains the digits scorer on first use and runs training sessions


def digits_cfg(**sets) -> Config:
    return tiny_image(**sets)


@pytest.fixture
def scorer():
    return prepare_scorer(digits_cfg())


def test_digits_scorer_reaches_97_percent_and_is_cached(scorer, monkeypatch):
    assert scorer.kind == "classifier" and scorer.classes == 10
    assert scorer.accuracy >= 0.97
    assert scorer.num_features == 128
    assert scorer.splits.held_x.shape == (500, 1, 28, 28)
    assert scorer.splits.train_x.shape == (1297, 1, 28, 28)
    state = torch.load(scorer.path, weights_only=True)
    assert scorer.path.parent == scorer_mod.scorers_dir()
    assert state["fingerprint"] == scorer.splits.fingerprint() == scorer.fingerprint
    assert state["accuracy"] == scorer.accuracy and state["features"] == 128
    # a new process (nothing in memory) loads it and never trains
    monkeypatch.setattr(scorer_mod, "_loaded", {})
    monkeypatch.setattr(scorer_mod, "train_classifier",
                        lambda *a, **k: pytest.fail("trained although cached"))
    again = prepare_scorer(digits_cfg())
    assert again is not scorer and again.accuracy == scorer.accuracy
    for k, v in scorer.net.state_dict().items():
        assert torch.equal(v, again.net.state_dict()[k]), k


def test_scorer_training_is_deterministic_shows_progress_and_keeps_the_global_rng(
        tmp_path, monkeypatch):
    monkeypatch.setenv("SNGAN_GUI_HOME", str(tmp_path / "home"))  # no shared cache here
    monkeypatch.setattr(scorer_mod, "_loaded", {})
    recipe = scorer_mod.RECIPES["digits"]
    monkeypatch.setitem(scorer_mod.RECIPES, "digits", type(recipe)(epochs=1))
    seen = []
    rng = torch.get_rng_state()
    first = prepare_scorer(digits_cfg(), progress=lambda d, t, m: seen.append((d, t, m)))
    assert torch.equal(rng, torch.get_rng_state())
    assert seen and seen[-1][0] == seen[-1][1] == 21 and "digits scorer" in seen[-1][2]
    assert [d for d, _, _ in seen] == list(range(1, 22))
    first.path.unlink()
    monkeypatch.setattr(scorer_mod, "_loaded", {})
    second = prepare_scorer(digits_cfg())
    for k, v in first.net.state_dict().items():
        assert torch.equal(v, second.net.state_dict()[k]), k


def train_images(scorer, seed: int, n: int = 500, exclude=None) -> torch.Tensor:
    x = scorer.splits.train_x
    idx = torch.arange(x.shape[0])
    if exclude is not None:
        keep = torch.ones(x.shape[0], dtype=torch.bool)
        keep[exclude] = False
        idx = idx[keep]
    pick = torch.randperm(idx.numel(), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx[pick]]


def test_real_images_score_at_the_floor_and_untrained_g_at_the_ceiling(scorer):
    real = real_set(scorer, 500)
    refs = references(scorer, 500, real)
    floor, ceiling = refs["floor"], refs["ceiling"]
    assert floor["classes"] == 10 and floor["class_kl"] < 0.05
    assert ceiling["fd"] > 100 * floor["fd"] and ceiling["precision"] < 0.05
    assert ceiling["confidence"] < floor["confidence"]
    # other real digits (none of the floor's) score like the floor
    used = _select(scorer.splits.train_x.shape[0], 500, REAL_SEED + 1)
    other = fields_of(scorer, real, *scorer.run(train_images(scorer, 7, 500, exclude=used)))
    assert other["fd"] < 1.5 * floor["fd"]
    assert abs(other["kid"]) < 0.05 * ceiling["kid"]
    assert other["classes"] == 10
    for key in ("precision", "recall", "coverage"):
        assert other[key] > 0.9 * floor[key], key
    assert refs == scorer.refs[500]  # stored with the scorer
    assert json.loads(json.dumps(refs)) == refs


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = (k / k.sum()).view(1, 1, 1, -1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.transpose(2, 3))


def test_fd_and_kid_rise_with_noise_and_with_blur(scorer):
    """Heusel et al. 2017, Fig. 1: the distance grows with the disturbance level."""
    real = real_set(scorer, 500)
    base = train_images(scorer, 3).float() / 127.5 - 1
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(base.shape, generator=gen)
    for corrupt, levels in ((lambda x, s: (x + s * noise).clamp(-1, 1), (0, 0.15, 0.3, 0.6, 1.2)),
                            (lambda x, s: blur(x, s) if s else x, (0, 0.6, 1.0, 1.5, 2.5))):
        fds, kids = [], []
        for level in levels:
            out = fields_of(scorer, real, *scorer.run(corrupt(base, level)))
            fds.append(out["fd"])
            kids.append(out["kid"])
        assert fds == sorted(fds) and len(set(fds)) == len(fds), fds
        assert kids == sorted(kids) and len(set(kids)) == len(kids), kids


def test_one_digit_repeated_gives_one_class_and_a_large_class_kl(scorer):
    real = real_set(scorer, 500)
    held = scorer.splits.held_x[scorer.splits.held_y == 3]
    out = fields_of(scorer, real, *scorer.run(held.repeat(10, 1, 1, 1)))
    assert out["classes"] == 1
    assert out["class_kl"] > 2.0  # log 10 = 2.30 when every sample is a 3
    assert out["recall"] < 0.3


def read_lines(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def run(tmp_path, cfg, steps, name="run"):
    session = TrainingSession(tmp_path / name, cfg, steps=steps)
    while not session.done:
        session.advance()
    session.finish()
    return session


def test_quality_fields_on_slow_lines_and_the_last_line_absent_for_2d(tmp_path):
    run(tmp_path, digits_cfg(run__log_every=2, run__probe_every=10), 6)
    lines = read_lines(tmp_path / "run")
    assert [r["step"] for r in lines] == [2, 4, 6]
    first, middle, last = lines
    for line in (first, last):  # the first line and the last one are slow-probe lines
        for key in QUALITY_FIELDS:
            assert key in line
        assert line["fd"] > 0 and line["quality_n"] == 32
        assert line["quality_floor"]["fd"] < line["quality_ceiling"]["fd"]
        assert 1 <= line["classes"] <= 10 and 0 <= line["precision"] <= 1
        assert "digits: CNN classifier" in line["quality_scorer"]
    assert all(middle[key] is None for key in QUALITY_FIELDS)
    assert "quality_floor" not in middle
    run(tmp_path, tiny_2d(run__probe_every=5), 10, name="2d")
    for line in read_lines(tmp_path / "2d"):
        assert not set(QUALITY_FIELDS) & set(line) and "quality_n" not in line


def test_training_with_the_quality_probe_is_bit_identical_to_training_without(tmp_path):
    states = []
    for enabled in (True, False):
        torch.manual_seed(5)
        cfg = digits_cfg(run__log_every=1, run__probe_every=2, quality__enabled=enabled,
                         constraints__spectral__enabled=True)
        session = run(tmp_path, cfg, 4, name=f"q{enabled}")
        assert (session.prober.quality is not None) == enabled
        states.append({**{f"G.{k}": v for k, v in session.trainer.G.state_dict().items()},
                       **{f"D.{k}": v for k, v in session.trainer.D.state_dict().items()},
                       "gen": session.trainer.generator.get_state(),
                       "global": torch.get_rng_state()})
    assert states[0].keys() == states[1].keys()
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    assert read_lines(tmp_path / "qTrue")[-1]["fd"] is not None
    assert "fd" not in read_lines(tmp_path / "qFalse")[-1]


def test_the_app_loop_trains_a_missing_scorer_with_progress_before_the_run_starts(
        tmp_path, monkeypatch):
    """The app's child (core.runloop) trains the scorer in its preparation, reporting it as
    DownloadProgress (the status bar's bar and Cancel); cancelling stops it."""
    import queue
    import threading

    from core import contract as c
    from core.runloop import RunLoop

    monkeypatch.setenv("SNGAN_GUI_HOME", str(tmp_path / "home"))  # nothing cached here
    monkeypatch.setattr(scorer_mod, "_loaded", {})
    recipe = scorer_mod.RECIPES["digits"]
    monkeypatch.setitem(scorer_mod.RECIPES, "digits", type(recipe)(epochs=1))
    reports = []
    loop = RunLoop(digits_cfg(), tmp_path / "run", queue.SimpleQueue(), threading.Event(),
                   reports.append, torch_threads=1, report_interval=0.0)
    assert loop.start()
    labels = [r.label for r in reports if isinstance(r, c.DownloadProgress) and r.done]
    assert any("training the digits scorer" in label for label in labels)
    started = next(i for i, r in enumerate(reports) if isinstance(r, c.RunStarted))
    last_progress = max(i for i, r in enumerate(reports) if isinstance(r, c.DownloadProgress))
    assert last_progress < started and reports[last_progress].done is None
    assert loop.session.prober.quality is not None
    loop.close()
    # cancelled while training: no run starts
    monkeypatch.setattr(scorer_mod, "_loaded", {})
    for f in scorer_mod.scorers_dir().glob("*.pt"):
        f.unlink()
    cancel = threading.Event()
    reports.clear()

    def emit(report):
        reports.append(report)
        if isinstance(report, c.DownloadProgress) and report.done and "scorer" in report.label:
            cancel.set()

    loop = RunLoop(digits_cfg(), tmp_path / "run2", queue.SimpleQueue(), cancel, emit,
                   torch_threads=1, report_interval=0.0)
    assert not loop.start()
    assert not any(isinstance(r, c.RunStarted) for r in reports)
