"""Unit tests of core.probes: spectra, true conv norms, Lipschitz bounds, coverage, images."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from core.config import ConstraintsConfig, ModelConfig
from core.constraints import ConstraintSet
from core.data.toy2d import mode_centres, mode_std
from core.models import build_models
from core.probes import (PhaseTimer, conv_operator_norm, evaluating, grid_to_uint8,
                         im2col_bound, input_grad_norms, layer_input_shapes, layer_spectra,
                         lipschitz_bound, matrix_sigma, mode_coverage, operator_matrix,
                         sample_grid, weight_histograms)
from core.probes.convnorm import is_conv
from core.probes.lipschitz import leaf_modules


def _explicit_sigma(layer, shape):
    return torch.linalg.matrix_norm(operator_matrix(layer, layer.weight, shape), ord=2).item()


def _reshaped_sigma(layer):
    w = layer.weight.detach().double()
    if isinstance(layer, nn.modules.conv._ConvTransposeNd):
        w = w.transpose(0, 1)
    return torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2).item()


CONV_CASES = [
    (lambda: nn.Conv2d(3, 4, 3, stride=1, padding=1), (3, 8, 8)),
    (lambda: nn.Conv2d(3, 4, 4, stride=2, padding=0), (3, 9, 9)),
    (lambda: nn.Conv2d(2, 5, 4, stride=2, padding=1), (2, 10, 7)),
    (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=2, dilation=2), (2, 7, 6)),
    (lambda: nn.Conv2d(4, 4, 3, stride=1, padding=1, groups=2), (4, 5, 5)),
    (lambda: nn.Conv2d(1, 16, 4, stride=2), (1, 28, 28)),  # the notebook D's first layer
    (lambda: nn.Conv1d(2, 3, 3, stride=2), (2, 11)),
    (lambda: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (3, 4, 4)),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=0, output_padding=1), (3, 3, 3)),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_true_conv_norm_matches_explicit_operator_matrix(case):
    torch.manual_seed(case)
    make, shape = CONV_CASES[case]
    layer = make()
    sigma, v = conv_operator_norm(layer, layer.weight, shape,
                                  generator=torch.Generator().manual_seed(0), tol=0.0,
                                  max_iters=400)
    ref = _explicit_sigma(layer, shape)
    assert sigma == pytest.approx(ref, rel=1e-2)
    assert sigma <= ref * (1 + 1e-5)  # power iteration approaches from below
    # never above the im2col bound, which holds for every input size
    assert sigma <= im2col_bound(layer, layer.weight) * (1 + 1e-5)
    # warm start: the returned vector is (nearly) a top singular vector already
    again, _ = conv_operator_norm(layer, layer.weight, shape, v, max_iters=4, tol=0.0)
    assert again == pytest.approx(ref, rel=1e-2)


def test_reshaped_sigma_and_true_norm_differ_as_theory_says():
    torch.manual_seed(0)
    # Stride 1, "same" padding, a large input: one kernel applied at every pixel. For a
    # single-channel kernel of ones the true norm is the kernel sum (DC gain), 9, while the
    # reshaped kernel [1, 9] has sigma = 3: the ratio is sqrt(kh * kw).
    layer = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    true, _ = conv_operator_norm(layer, layer.weight, (1, 32, 32), tol=1e-6, max_iters=1500,
                                 generator=torch.Generator().manual_seed(0))
    assert _reshaped_sigma(layer) == pytest.approx(3.0)
    assert 8.5 < true <= 9.0 + 1e-4  # -> 9 as the image grows (border effects)
    small = _explicit_sigma(layer, (1, 12, 12))  # smaller input: larger border share
    assert 8.0 < small < true
    # With stride = kernel the windows do not overlap: the conv is the reshaped matrix applied
    # block-wise, so both norms agree.
    layer = nn.Conv2d(3, 5, 2, stride=2, bias=False)
    true, _ = conv_operator_norm(layer, layer.weight, (3, 8, 8), tol=1e-6, max_iters=500,
                                 generator=torch.Generator().manual_seed(0))
    assert true == pytest.approx(_reshaped_sigma(layer), rel=1e-3)
    # A kernel larger than the (unpadded) input: only part of it is ever used, so the true
    # norm is below the reshaped sigma.
    layer = nn.Conv2d(2, 2, 5, padding=0, bias=False)
    true, _ = conv_operator_norm(layer, layer.weight, (2, 5, 5), tol=1e-6, max_iters=500,
                                 generator=torch.Generator().manual_seed(0))
    assert true == pytest.approx(_reshaped_sigma(layer), rel=1e-3)
    layer = nn.Conv2d(2, 2, 5, padding=2, bias=False)
    true, _ = conv_operator_norm(layer, layer.weight, (2, 1, 1), tol=1e-6, max_iters=500,
                                 generator=torch.Generator().manual_seed(0))
    assert true < 0.9 * _reshaped_sigma(layer)
    assert true == pytest.approx(_explicit_sigma(layer, (2, 1, 1)), rel=1e-3)


def test_matrix_power_sigma_matches_svd_and_warm_starts():
    torch.manual_seed(0)
    m = torch.randn(64, 40)
    ref = torch.linalg.svdvals(m.double())[0].item()
    s, v = matrix_sigma(m, generator=torch.Generator().manual_seed(1), max_iters=2000, tol=1e-8)
    assert s == pytest.approx(ref, rel=1e-4)
    s2, _ = matrix_sigma(m * 1.01, v, max_iters=4, tol=0.0)
    assert s2 == pytest.approx(1.01 * ref, rel=1e-3)


def _constraint_set(D, spectral=False, rowsum=False):
    cfg = ConstraintsConfig()
    cfg.spectral.enabled = spectral
    cfg.rowsum.enabled = rowsum
    return ConstraintSet(D, cfg, torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))


@pytest.mark.parametrize("spectral,rowsum", [(False, False), (True, False), (False, True),
                                             (True, True)])
def test_layer_spectra_of_effective_and_raw_weights(spectral, rowsum):
    torch.manual_seed(0)
    _, D = build_models(ModelConfig(arch="dcgan", d_width=8, d_norm="none"), (1, 28, 28))
    cons = _constraint_set(D, spectral, rowsum)
    spectra = layer_spectra(cons)
    assert list(spectra) == ["block1.conv", "block2.conv", "out"]
    for name, layer in cons.layers:
        eff = layer.weight.detach().double().reshape(layer.weight.shape[0], -1)
        raw = cons.raw_weight(layer).detach().double().reshape(eff.shape[0], -1)
        np.testing.assert_allclose(spectra[name]["svdvals"],
                                   np.linalg.svd(eff.numpy(), compute_uv=False), rtol=1e-6)
        assert spectra[name]["sigma_raw"] == pytest.approx(
            np.linalg.svd(raw.numpy(), compute_uv=False)[0], rel=1e-6)
        assert spectra[name]["linf"] == pytest.approx(eff.abs().sum(1).max().item(), rel=1e-5)
        if spectral and not rowsum:
            assert spectra[name]["sigma"] == pytest.approx(1.0, abs=0.02)
        if rowsum and not spectral:
            assert spectra[name]["linf"] == pytest.approx(1.0, rel=1e-5)


def _randomize_norms(D, gen):
    with torch.no_grad():
        for m in D.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 1.5)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 2 + 0.05)
            if isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))


def _bound_and_grad(D, cons, sample_shape, x):
    shapes = layer_input_shapes(D, sample_shape, "cpu")
    norms = {}
    for name, layer in cons.layers:
        if is_conv(layer):
            norms[name], _ = conv_operator_norm(layer, layer.weight, shapes[name],
                                                tol=1e-6, max_iters=300,
                                                generator=torch.Generator().manual_seed(0))
        else:
            norms[name] = torch.linalg.matrix_norm(layer.weight.detach().double(), 2).item()
    bound, factors, note = lipschitz_bound(D, norms)
    with evaluating(D):
        g, _ = input_grad_norms(D, x)
    return bound, g.max().item(), note, factors


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("constraint", ["none", "spectral"])
def test_lip_grad_never_exceeds_lip_bound(arch, norm, constraint):
    gen = torch.Generator().manual_seed(hash((arch, norm, constraint)) % 1000)
    torch.manual_seed(hash((arch, norm)) % 1000)
    shape = (2,) if arch == "mlp" else (1, 28, 28)
    _, D = build_models(ModelConfig(arch=arch, d_width=16 if arch == "mlp" else 8, depth=3,
                                    d_norm=norm), shape)
    if arch == "dcgan":  # the notebook init is tiny; use a default-scale init
        for m in D.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))
    _randomize_norms(D, gen)
    cons = _constraint_set(D, spectral=constraint == "spectral")
    D.train()
    x = torch.randn((96,) + shape, generator=gen) * (3.0 if arch == "mlp" else 1.0)
    x = torch.cat([x, x[:32] * 1e-3])  # near-constant inputs: where LayerNorm is steepest
    modes = [m.training for m in D.modules()]
    bound, grad, note, factors = _bound_and_grad(D, cons, shape, x)
    assert [m.training for m in D.modules()] == modes  # train mode restored
    assert all(p.requires_grad for p in D.parameters())
    assert 0 < grad <= bound * (1 + 1e-4)
    assert set(factors) == {n for n, _ in leaf_modules(D)}
    if norm == "layer":
        assert note and "sqrt(eps)" in note
    else:
        assert note is None


def test_batchnorm_factor_is_eval_mode_scale():
    bn = nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, -2.0, 1.0]))
        bn.running_var.copy_(torch.tensor([1.0, 4.0, 0.25]))
    D = nn.Sequential(nn.Linear(2, 3), bn, nn.LeakyReLU(0.2), nn.Linear(3, 1))
    bound, factors, _ = lipschitz_bound(D, {"0": 1.0, "3": 1.0})
    assert factors["1"] == pytest.approx(1 / math.sqrt(0.25 + 1e-5), rel=1e-6)
    assert bound == pytest.approx(factors["1"], rel=1e-9)


@pytest.mark.parametrize("in_dim", [2, 7])
def test_linear_critic_bound_and_gradient_both_equal_weight_norm(in_dim):
    torch.manual_seed(in_dim)
    D = nn.Sequential(nn.Linear(in_dim, 1))
    w_norm = D[0].weight.detach().norm().item()
    cons = _constraint_set(D)
    bound, grad, note, _ = _bound_and_grad(D, cons, (in_dim,), torch.randn(50, in_dim))
    assert note is None
    assert bound == pytest.approx(w_norm, rel=1e-6)
    assert grad == pytest.approx(w_norm, rel=1e-6)


@pytest.mark.parametrize("dataset", ["ring8", "grid25"])
def test_coverage_of_real_samples_is_complete(dataset):
    c, std = mode_centres(dataset), mode_std(dataset)
    rng = np.random.default_rng(0)
    k = len(c)
    x = c[np.arange(2500) % k] + std * rng.standard_normal((2500, 2))
    cov = mode_coverage(x, c, std)
    assert cov["modes"] == k
    assert cov["hq"] > 0.98  # within 3 std in 2D: 1 - exp(-4.5) = 98.9 %
    assert cov["mode_counts"].sum() == round(cov["hq"] * 2500)


def test_coverage_one_mode_and_far_noise():
    c, std = mode_centres("ring8"), mode_std("ring8")
    rng = np.random.default_rng(1)
    one = c[3] + std * rng.standard_normal((2500, 2))
    cov = mode_coverage(one, c, std)
    assert cov["modes"] == 1 and cov["mode_counts"][3] > 2400
    far = rng.uniform(5.0, 9.0, size=(2500, 2)) * rng.choice([-1, 1], size=(2500, 2))
    cov = mode_coverage(far, c, std)
    assert cov["modes"] == 0 and cov["hq"] == 0.0
    # the threshold is 3 std: just inside counts, just outside does not
    edge = np.stack([c[0] + [2.99 * std, 0], c[1] + [0, 3.01 * std]])
    assert mode_coverage(edge, c, std)["mode_counts"].tolist() == [1] + [0] * 7


def test_sample_grid_and_histograms():
    imgs = torch.linspace(-1, 1, 64 * 28 * 28).reshape(64, 1, 28, 28)
    grid = grid_to_uint8(sample_grid(imgs))
    assert grid.dtype == np.uint8 and grid.shape == (8 * 30 + 2, 8 * 30 + 2, 3)
    assert grid.min() == 0 and grid.max() == 255
    torch.manual_seed(0)
    _, D = build_models(ModelConfig(arch="mlp", d_width=8, depth=2), (2,))
    cons = _constraint_set(D, spectral=True)
    hist = weight_histograms(cons)
    for name, layer in cons.layers:
        h = hist[name]
        assert h["counts"].sum() == layer.weight.numel()
        assert h["raw_counts"].sum() == layer.weight.numel()
        assert h["edges"][-1] == pytest.approx(layer.weight.abs().max().item())
        assert h["raw_edges"][-1] == pytest.approx(cons.raw_weight(layer).abs().max().item())


def test_phase_timer_cpu():
    t = PhaseTimer("cpu")
    t.start()
    t.lap("data")
    t.lap("d_step")
    totals, steps = t.read()
    assert steps == 1 and set(totals) == {"data", "g_step", "d_step", "constraint"}
    assert all(v >= 0 for v in totals.values())
    off = PhaseTimer("cpu", enabled=False)
    off.start()
    off.lap("data")
    assert off.read() == ({"data": 0.0, "g_step": 0.0, "d_step": 0.0, "constraint": 0.0}, 0)
