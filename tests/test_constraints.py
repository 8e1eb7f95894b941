"""Every constraint checked against an independent computation."""

import copy

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

from core.config import ConstraintsConfig
from core.constraints import ConstraintSet, linf_norm, weight_matrix
from core.constraints.penalty import gradient_penalty
from core.constraints.rowsum import layer_geometry
from core.trainer import Trainer
from tests.helpers import tiny_2d, tiny_image

LAYERS = {
    "linear": lambda: nn.Linear(7, 5),
    "conv": lambda: nn.Conv2d(3, 4, 3, stride=1, padding=1),
    "conv_s2": lambda: nn.Conv2d(2, 3, 4, stride=2),
    "convT_s1": lambda: nn.ConvTranspose2d(3, 2, 3, stride=1),
    "convT_s2": lambda: nn.ConvTranspose2d(3, 2, 3, stride=2),
    "convT_k4s2": lambda: nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1),
}
INPUT = {"linear": (7,), "conv": (3, 5, 5), "conv_s2": (2, 8, 8), "convT_s1": (3, 4, 4),
         "convT_s2": (3, 4, 4), "convT_k4s2": (2, 4, 4)}


def operator_matrix(layer: nn.Module, in_shape) -> torch.Tensor:
    """The layer's linear map (bias removed) as an explicit matrix [outputs, inputs]."""
    n = int(torch.tensor(in_shape).prod())
    basis = torch.eye(n).reshape(n, *in_shape)
    with torch.no_grad():
        out = layer(basis) - layer(torch.zeros(1, *in_shape))
    return out.reshape(n, -1).T


def _cs(D, **flags) -> ConstraintSet:
    cfg = ConstraintsConfig()
    for key, value in flags.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return ConstraintSet(D, cfg, torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))


def _with(cs: ConstraintSet, **flags) -> None:
    cfg = copy.deepcopy(cs.cfg)
    for key, value in flags.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    cs.configure(cfg)


# ----------------------------------------------------------------------------- spectral
@pytest.mark.parametrize("kind", list(LAYERS))
def test_sn_sigma_estimate_and_effective_sigma(kind):
    torch.manual_seed(0)
    layer = LAYERS[kind]()
    D = nn.Sequential(layer)
    cs = _cs(D, spectral__enabled=True)
    p = cs.parametrization(layer)
    raw = cs.raw_weight(layer).detach()
    matrix = weight_matrix(raw, p.transposed)
    true_sigma = torch.linalg.matrix_norm(matrix, 2)
    assert p.sigma(raw).item() == pytest.approx(true_sigma.item(), rel=0.01)
    eff = weight_matrix(layer.weight.detach(), p.transposed)
    assert torch.linalg.matrix_norm(eff, 2).item() == pytest.approx(1.0, rel=0.01)


def test_convtranspose_matrix_uses_output_dim():
    layer = nn.ConvTranspose2d(3, 5, 4, stride=2)
    assert weight_matrix(layer.weight, True).shape == (5, 3 * 16)
    assert weight_matrix(nn.Conv2d(3, 5, 4).weight, False).shape == (5, 3 * 16)


@pytest.mark.parametrize("kind", ["linear", "conv_s2", "convT_s2"])
def test_sn_matches_torch_spectral_norm_given_same_u(kind):
    torch.manual_seed(0)
    ours, ref = LAYERS[kind](), None
    ref = copy.deepcopy(ours)
    parametrizations.spectral_norm(ref)
    ref.train()
    with torch.no_grad():
        w_ref = ref.weight.detach().clone()  # one power iteration (training mode), then W/sigma
    sn = ref.parametrizations.weight[0]
    cs = _cs(nn.Sequential(ours), spectral__enabled=True)
    p = cs.parametrization(ours)
    p.u.copy_(sn._u)
    p.v.copy_(sn._v)
    assert torch.allclose(ours.weight.detach(), w_ref, rtol=1e-5, atol=1e-7)


def test_sn_vectors_move_only_in_training_d_steps():
    t = Trainer(tiny_2d(constraints__spectral__enabled=True))
    layer = t.constraints.layers[0][1]
    p = t.constraints.parametrization(layer)
    u0 = p.u.clone()
    t.D.eval()
    with torch.no_grad():
        t.D(torch.randn(8, 2))
    t.constraints.before_d_step()  # eval mode: no update
    assert torch.equal(p.u, u0)
    t.D.train()
    with torch.no_grad():
        t.D(torch.randn(8, 2))  # a training-mode forward alone does not iterate either
    assert torch.equal(p.u, u0)
    t.constraints.before_d_step()
    assert not torch.equal(p.u, u0)


def test_power_iters_live_controls_iterations():
    torch.manual_seed(0)
    layer = nn.Linear(30, 30)
    cs = _cs(nn.Sequential(layer), spectral__enabled=True, spectral__power_iters=1)
    p = cs.parametrization(layer)
    seen = []
    orig = p.power_iterate
    p.power_iterate = lambda w, n: (seen.append(n), orig(w, n))
    cs.before_d_step()
    _with(cs, spectral__power_iters=5)
    cs.before_d_step()
    assert seen == [1, 5]


# ----------------------------------------------------------------------------- row-sum
@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("target", [1.0, 0.5])
def test_rowsum_effective_operator_linf(kind, target):
    torch.manual_seed(1)
    layer = LAYERS[kind]()
    _cs(nn.Sequential(layer), rowsum__enabled=True, rowsum__target=target)
    op = operator_matrix(layer, INPUT[kind])
    linf = op.abs().sum(1).max().item()
    assert linf <= target + 1e-5
    # The inputs here are large enough for some output to see its whole (residue class of
    # the) kernel, so the normalization is exact: the bound is met with equality.
    assert linf == pytest.approx(target, abs=1e-5)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_linf_norm_equals_explicit_operator(kind):
    torch.manual_seed(2)
    layer = LAYERS[kind]()
    transposed, stride, dilation = layer_geometry(layer)
    ours = linf_norm(layer.weight.detach(), transposed, stride, dilation).item()
    op = operator_matrix(layer, INPUT[kind])
    assert ours == pytest.approx(op.abs().sum(1).max().item(), rel=1e-5)


def test_linf_of_strided_convtranspose_is_below_whole_kernel_sum():
    torch.manual_seed(3)
    layer = nn.ConvTranspose2d(4, 2, 4, stride=2)
    full = layer.weight.detach().abs().sum((0, 2, 3)).max().item()
    t, s, d = layer_geometry(layer)
    assert linf_norm(layer.weight.detach(), t, s, d).item() < 0.6 * full


def test_linf_convtranspose_on_tiny_input_is_an_upper_bound():
    torch.manual_seed(4)
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2)  # 1x1 input: one tap per output pixel
    t, s, d = layer_geometry(layer)
    bound = linf_norm(layer.weight.detach(), t, s, d).item()
    true = operator_matrix(layer, (4, 1, 1)).abs().sum(1).max().item()
    assert true <= bound + 1e-6


# ----------------------------------------------------------------------------- both
def test_spectral_and_rowsum_together_both_bounds_hold():
    torch.manual_seed(5)
    layer = nn.Linear(20, 10)
    _cs(nn.Sequential(layer), spectral__enabled=True, rowsum__enabled=True, rowsum__target=1.0)
    w = layer.weight.detach()
    sigma = torch.linalg.matrix_norm(w, 2).item()
    linf = w.abs().sum(1).max().item()
    assert sigma <= 1.01 and linf <= 1.0 + 1e-5
    assert max(sigma, linf) == pytest.approx(1.0, rel=0.01)


# ----------------------------------------------------------------------------- clip
@pytest.mark.slow
def test_clip_bounds_every_parameter_after_a_step():
    t = Trainer(tiny_image(constraints__clip__enabled=True, constraints__clip__c=0.01,
                           loss__kind="wasserstein", optim__lr_d=0.1))
    t.step()
    for name, p in t.D.named_parameters():
        assert p.abs().max().item() <= 0.01 + 1e-9, name
    t.submit("constraints.clip.c", 0.003)
    t.step()
    assert max(p.abs().max().item() for p in t.D.parameters()) <= 0.003 + 1e-9


# ----------------------------------------------------------------------------- gradient penalty
@pytest.mark.parametrize("kind", ["two_sided", "one_sided", "r1"])
def test_gp_matches_hand_computation_on_linear_critic(kind):
    torch.manual_seed(6)
    D = nn.Linear(3, 1)
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    critic = lambda x: D(x).squeeze(-1)  # noqa: E731
    gen = torch.Generator().manual_seed(9)
    penalty, norms = gradient_penalty(critic, real, fake, kind, 10.0, gen)
    # For a linear critic grad_x D = w everywhere: the penalty depends on ||w|| only.
    w = D.weight.detach().clone().requires_grad_(True)
    wn = w.norm()
    expected = {"two_sided": 10 * (wn - 1) ** 2, "one_sided": 10 * torch.relu(wn - 1) ** 2,
                "r1": 5 * wn ** 2}[kind]
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(norms, torch.full((16,), wn.item()), rtol=1e-5)
    (grad_w,) = torch.autograd.grad(expected, w)
    D.zero_grad()
    penalty.backward()
    assert torch.allclose(D.weight.grad, grad_w, rtol=1e-4, atol=1e-7)  # flows to D's weights


def test_gp_one_sided_is_zero_inside_the_ball():
    D = nn.Linear(3, 1)
    with torch.no_grad():
        D.weight.fill_(0.1)
    critic = lambda x: D(x).squeeze(-1)  # noqa: E731
    penalty, _ = gradient_penalty(critic, torch.randn(4, 3), torch.randn(4, 3), "one_sided", 10.0,
                                  torch.Generator().manual_seed(0))
    assert penalty.item() == 0.0


@pytest.mark.parametrize("make", [tiny_2d, tiny_image])
@pytest.mark.parametrize("loss", ["bce", "wasserstein", "hinge"])
def test_gp_trains_with_every_loss_and_arch(make, loss):
    t = Trainer(make(constraints__gp__enabled=True, loss__kind=loss))
    t.step()
    t.step()
    rec = t.log_record()
    assert t.constraints.last_penalty is not None and rec["loss_d"] == rec["loss_d"]


# ----------------------------------------------------------------------------- toggling
FLAGS = ["constraints.clip.enabled", "constraints.gp.enabled", "constraints.spectral.enabled",
         "constraints.rowsum.enabled"]


@pytest.mark.parametrize("key", FLAGS)
@pytest.mark.parametrize("make", [tiny_2d, tiny_image])
def test_toggle_keeps_parameters_and_adam_state(key, make):
    t = Trainer(make())
    for _ in range(2):
        t.step()
    ids = [id(p) for p in t.D.parameters()]
    opt_ids = [id(p) for group in t.opt_d.param_groups for p in group["params"]]
    exp_avg = [t.opt_d.state[p]["exp_avg"].clone() for p in t.D.parameters()]
    for value in (True, False):
        t.submit(key, value)
        t.apply_pending()
        assert sorted(id(p) for p in t.D.parameters()) == sorted(ids)
        assert [id(p) for group in t.opt_d.param_groups for p in group["params"]] == opt_ids
        for p, m in zip(t.opt_d.param_groups[0]["params"], exp_avg):
            assert torch.equal(t.opt_d.state[p]["exp_avg"], m)
    t.step()  # and training goes on with the same optimizer


def _d_out(t, x):
    t.D.eval()
    with torch.no_grad():
        out = t.D(x)
    t.D.train()
    return out


@pytest.mark.parametrize("which", ["spectral", "rowsum"])
def test_keep_leaves_outputs_unchanged_restore_brings_back_raw(which):
    t = Trainer(tiny_image(model__d_norm="none"))
    x = t.sampler.sample(8, torch.Generator().manual_seed(0))
    t.submit(f"constraints.{which}.enabled", True)
    for _ in range(3):
        t.step()
    layer = t.constraints.layers[0][1]
    raw = t.constraints.raw_weight(layer).detach().clone()
    before = _d_out(t, x)
    t.submit(f"constraints.{which}.on_disable", "keep")
    t.submit(f"constraints.{which}.enabled", False)
    t.apply_pending()
    assert torch.allclose(_d_out(t, x), before, atol=1e-5)
    assert not torch.equal(layer.weight.detach(), raw)

    t.submit(f"constraints.{which}.enabled", True)
    t.step()
    raw = t.constraints.raw_weight(layer).detach().clone()
    t.submit(f"constraints.{which}.on_disable", "restore")
    t.submit(f"constraints.{which}.enabled", False)
    t.apply_pending()
    assert torch.equal(layer.weight.detach(), raw)


def test_disabling_sn_keeps_rowsum_active():
    t = Trainer(tiny_2d(constraints__spectral__enabled=True, constraints__rowsum__enabled=True))
    t.step()
    t.submit("constraints.spectral.enabled", False)
    t.apply_pending()
    for _, layer in t.constraints.layers:
        assert layer.weight.detach().abs().sum(1).max().item() == pytest.approx(1.0, abs=1e-5)


# ----------------------------------------------------------------------------- plain export
@pytest.mark.parametrize("sets", [
    {"constraints__spectral__enabled": True},
    {"constraints__rowsum__enabled": True, "constraints__spectral__enabled": True},
    {"constraints__rowsum__enabled": True, "model__d_norm": "layer"},
])
def test_plain_export_reproduces_constrained_d(sets):
    t = Trainer(tiny_image(**sets))
    for _ in range(2):
        t.step()
    plain_sd = t.constraints.plain_state_dict()
    assert not any("parametrizations" in k for k in plain_sd)
    from core.models import build_models
    _, plain = build_models(t.cfg.model, t.sampler.shape)
    plain.load_state_dict(plain_sd)  # strict: same keys as an unconstrained D
    x = t.sampler.sample(8, torch.Generator().manual_seed(0))
    plain.eval()
    with torch.no_grad():
        assert torch.allclose(plain(x), _d_out(t, x), atol=1e-5)
