"""The Parzen-window estimator (core/quality/parzen.py) against a brute-force computation, its
stability where a naive sum underflows, the bandwidth choice, and its fields in a training run
(``quality.parzen``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from core.quality.parzen import (SIGMAS, flatten01, log_likelihoods, parzen_estimate,
                                 squared_distances)


def brute_log_p(x: np.ndarray, centres: np.ndarray, sigma: float) -> float:
    """log p(x) summed kernel by kernel in float64: log((1/K) Σ_i N(x; μ_i, σ² I))."""
    d = x.size
    total = 0.0
    for mu in centres:
        sq = float(((x - mu) ** 2).sum())
        total += math.exp(-sq / (2 * sigma ** 2)) / (2 * math.pi * sigma ** 2) ** (d / 2)
    return math.log(total / len(centres))


def _images(rng, n, shape=(1, 3, 3)):
    return torch.from_numpy(rng.integers(0, 256, size=(n, *shape), dtype=np.uint8))


def test_log_likelihood_equals_the_brute_force_sum_on_small_data():
    rng = np.random.default_rng(0)
    centres, xs = _images(rng, 7), _images(rng, 5)
    mu, x = flatten01(centres).numpy(), flatten01(xs).numpy()
    for sigma in (0.3, 0.7, 2.0):
        ours = log_likelihoods(squared_distances(flatten01(xs), flatten01(centres)), sigma,
                               mu.shape[1])
        want = [brute_log_p(row, mu, sigma) for row in x]
        np.testing.assert_allclose(ours.numpy(), want, rtol=1e-10, atol=1e-10)


def test_the_estimate_is_stable_where_a_naive_sum_underflows():
    # d = 784 and a small sigma: every kernel's exp(...) is 0 in float64, so the naive sum
    # gives log 0 = -inf; the log-sum-exp keeps the nearest kernel's term exactly.
    gen = torch.Generator().manual_seed(1)
    centres = torch.rand(20, 784, generator=gen, dtype=torch.float64) * 2 - 1
    x = centres[:3] + 0.05
    sigma = 0.01
    dist2 = squared_distances(flatten01(x), flatten01(centres))
    assert torch.all(torch.exp(-dist2 / (2 * sigma ** 2)).sum(1) == 0)  # the naive sum is 0
    ours = log_likelihoods(dist2, sigma, 784)
    assert torch.isfinite(ours).all()
    # the other kernels are far: log p is the nearest kernel's own term, to rounding
    nearest = dist2.min(1).values
    want = -nearest / (2 * sigma ** 2) - math.log(20) - 392 * math.log(2 * math.pi * sigma ** 2)
    torch.testing.assert_close(ours, want, rtol=1e-12, atol=1e-9)


def test_squared_distances_against_direct_differences():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.rand(300, 50, generator=gen), torch.rand(40, 50, generator=gen)
    want = ((a.double()[:, None, :] - b.double()[None]) ** 2).sum(-1)
    torch.testing.assert_close(squared_distances(a, b), want, rtol=1e-9, atol=1e-9)


def test_flatten01_maps_uint8_and_minus1_1_images_alike():
    u8 = torch.tensor([[[[0, 255], [51, 102]]]], dtype=torch.uint8)
    f = u8.float() / 127.5 - 1
    torch.testing.assert_close(flatten01(u8), flatten01(f), rtol=0, atol=1e-7)
    assert flatten01(u8).tolist() == [[0.0, 1.0, 0.2, 0.4]]


def test_sigma_is_the_grid_value_best_on_validation_and_the_estimate_is_on_test():
    rng = np.random.default_rng(3)
    centres, val, test = _images(rng, 30), _images(rng, 12), _images(rng, 9)
    grid = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
    result = parzen_estimate(centres, val, test, sigmas=grid)
    mu = flatten01(centres).numpy()
    val_scores = [np.mean([brute_log_p(x, mu, s) for x in flatten01(val).numpy()])
                  for s in grid]
    assert result.sigma == grid[int(np.argmax(val_scores))]
    test_ll = [brute_log_p(x, mu, result.sigma) for x in flatten01(test).numpy()]
    assert result.ll == pytest.approx(np.mean(test_ll), rel=1e-10)
    assert result.se == pytest.approx(np.std(test_ll, ddof=1) / math.sqrt(9), rel=1e-9)
    assert result.at_grid_edge == (result.sigma in (grid[0], grid[-1]))


def test_kernels_on_the_test_images_themselves_score_higher_than_noise():
    rng = np.random.default_rng(4)
    real = _images(rng, 40, (1, 8, 8))
    noise = torch.full_like(real, 128)
    val, test = real[:20], real[20:]
    near = parzen_estimate(torch.cat([test, val]), val, test)
    grey = parzen_estimate(noise, val, test)
    assert near.ll > grey.ll
    assert SIGMAS[0] == pytest.approx(0.01) and SIGMAS[-1] == pytest.approx(10.0)


@pytest.mark.slow  # a training session with the quality probe (the digits scorer)
def test_quality_parzen_adds_its_fields_and_never_changes_training(tmp_path, digits_scorer):
    from core.session import TrainingSession
    from tests.helpers import tiny_image

    states = []
    for on in (True, False):
        torch.manual_seed(5)
        cfg = tiny_image(run__log_every=2, run__probe_every=4, quality__parzen=on)
        session = TrainingSession(tmp_path / f"p{on}", cfg, steps=10)
        while not session.done:
            session.advance()
        session.finish()
        states.append([v.clone() for v in session.trainer.G.state_dict().values()]
                      + [torch.get_rng_state()])
        lines = [json.loads(x) for x in (tmp_path / f"p{on}" / "metrics.jsonl")
                 .read_text().splitlines()]
        if on:
            # lines at steps 2..10; the first, every 4th and the last measure quality
            probed = [m for m in lines if m["fd"] is not None]
            assert [m["step"] for m in probed] == [2, 4, 8, 10]
            for line in probed:
                assert line["parzen_ll"] < line["quality_floor"]["parzen_ll"]
                assert line["parzen_se"] > 0 and line["parzen_sigma"] in SIGMAS
                assert line["quality_ceiling"]["parzen_ll"] < line["quality_floor"]["parzen_ll"]
            middle, = (m for m in lines if m["fd"] is None)
            assert middle["step"] == 6 and middle["parzen_ll"] is None
        else:
            assert all("parzen_ll" not in line for line in lines)
    for a, b in zip(*states):
        assert torch.equal(a, b)
