"""The quality metrics against independent computations: closed-form Fréchet distances,
brute-force MMD, brute-force precision / recall / density / coverage, class counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import linalg

from core.quality.metrics import (class_fields, frechet_distance, kernel_distance,
                                  kl_divergence, mode_fields)
from core.quality.prdc import precision_recall_density_coverage


def exact_gaussian_set(n: int, mean: np.ndarray, cov: np.ndarray, seed: int) -> torch.Tensor:
    """n points whose sample mean and (unbiased) sample covariance are exactly mean, cov."""
    d = mean.size
    x = np.random.default_rng(seed).standard_normal((n, d))
    x -= x.mean(0)
    white = np.linalg.cholesky(np.cov(x, rowvar=False))
    x = x @ np.linalg.inv(white).T           # sample covariance exactly I
    x = x @ np.linalg.cholesky(cov).T + mean  # exactly cov, exactly mean
    return torch.from_numpy(x)


def closed_form_fd(m1, c1, m2, c2) -> float:
    root = linalg.sqrtm(c1 @ c2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(c1 + c2 - 2 * root))


def test_fd_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    d = 8
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    a = exact_gaussian_set(400, m1, np.diag(s1 ** 2), 1)
    b = exact_gaussian_set(300, m2, np.diag(s2 ** 2), 2)
    # commuting covariances: sum of squared mean and standard deviation differences
    expected = float(((m1 - m2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_fd_matches_the_closed_form_for_full_covariances():
    rng = np.random.default_rng(1)
    d = 12
    m1, m2 = rng.normal(size=d), rng.normal(size=d) * 0.3
    q1, q2 = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    c1, c2 = q1 @ q1.T / d + 0.1 * np.eye(d), q2 @ q2.T / d + 0.1 * np.eye(d)
    a = exact_gaussian_set(500, m1, c1, 3)
    b = exact_gaussian_set(500, m2, c2, 4)
    assert frechet_distance(a, b) == pytest.approx(closed_form_fd(m1, c1, m2, c2), rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def brute_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (a·b / d + 1)^3, by loops."""
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2 * kxy


def test_kid_on_one_whole_subset_is_the_brute_force_unbiased_mmd():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 5)), rng.normal(0.5, 1.2, size=(20, 5))
    mean, std = kernel_distance(torch.from_numpy(x), torch.from_numpy(y), subset_size=20,
                                subsets=3)
    assert mean == pytest.approx(brute_mmd(x, y), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set


def test_kid_is_repeatable_and_leaves_the_global_random_state_alone():
    rng = np.random.default_rng(3)
    x, y = torch.from_numpy(rng.normal(size=(60, 4))), torch.from_numpy(rng.normal(size=(60, 4)))
    state = torch.get_rng_state()
    first = kernel_distance(x, y)
    assert torch.equal(state, torch.get_rng_state())
    assert kernel_distance(x, y) == first and first[1] > 0


def brute_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict:
    dist = lambda a, b: math.sqrt(((a - b) ** 2).sum())  # noqa: E731

    def radius(points, i, k):
        ds = sorted(dist(points[i], points[j]) for j in range(len(points)) if j != i)
        return ds[k - 1]

    rr_pr = [radius(real, i, k_pr) for i in range(len(real))]
    rf_pr = [radius(fake, j, k_pr) for j in range(len(fake))]
    rr_dc = [radius(real, i, k_dc) for i in range(len(real))]
    precision = np.mean([any(dist(f, r) <= rr_pr[i] for i, r in enumerate(real)) for f in fake])
    recall = np.mean([any(dist(r, f) <= rf_pr[j] for j, f in enumerate(fake)) for r in real])
    density = sum(dist(f, r) <= rr_dc[i] for f in fake for i, r in enumerate(real)) \
        / (k_dc * len(fake))
    coverage = np.mean([any(dist(f, r) <= rr_dc[i] for f in fake) for i, r in enumerate(real)])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_recall_density_coverage_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(30, 3))
    fake = rng.normal(0.7, 0.6, size=(25, 3))
    got = precision_recall_density_coverage(torch.from_numpy(real), torch.from_numpy(fake))
    want = brute_prdc(real, fake, 3, 5)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_prdc_of_identical_sets_and_of_far_away_fakes():
    real = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
    same = precision_recall_density_coverage(real, real.clone())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = precision_recall_density_coverage(real, real + 100)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0


def test_one_class_repeated_gives_one_class_and_a_large_kl():
    data = torch.arange(10).repeat(50)
    probs = torch.zeros(200, 10)
    probs[:, 7] = 1.0
    out = class_fields(probs, data, 10)
    assert out["classes"] == 1 and out["class_kl"] == pytest.approx(math.log(10))
    assert out["confidence"] == 1.0
    uniform = torch.eye(10).repeat(20, 1)
    out = class_fields(uniform, data, 10)
    assert out["classes"] == 10 and out["class_kl"] == pytest.approx(0.0, abs=1e-12)


def test_class_share_threshold_is_half_the_balanced_share():
    # 10 classes: a class counts from 5 % of the samples
    labels = [0] * 45 + [1] * 5 + [2] * 4 + [3] * 46  # 5 % of 100 = 5 samples
    probs = torch.nn.functional.one_hot(torch.tensor(labels), 10).float()
    assert class_fields(probs, torch.arange(10), 10)["classes"] == 3


def test_stacked_modes_and_their_kl_against_uniform():
    triples = torch.tensor(list(itertools.product(range(10), repeat=3)))
    out = mode_fields(triples)
    assert out["modes"] == 1000 and out["mode_kl"] == pytest.approx(0.0, abs=1e-12)
    out = mode_fields(torch.tensor([[1, 2, 3]] * 50 + [[4, 5, 6]] * 50))
    assert out["modes"] == 2 and out["mode_kl"] == pytest.approx(math.log(500))
    assert kl_divergence(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])) == math.inf
