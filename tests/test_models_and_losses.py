import math

import pytest
import torch
import torch.nn.functional as F

from core import losses
from core.config import ModelConfig
from core.models import build_models


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_mlp_shapes(norm):
    G, D = build_models(ModelConfig(arch="mlp", z_dim=8, g_width=16, d_width=16, depth=2,
                                    d_norm=norm), (2,))
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 2)
    assert D(x).shape == (5,)


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(norm, channels):
    G, D = build_models(ModelConfig(arch="dcgan", z_dim=64, g_width=64, d_width=16, d_norm=norm),
                        (channels, 28, 28))
    x = G(torch.randn(4, 64))
    assert x.shape == (4, channels, 28, 28)
    assert x.abs().max() <= 1
    assert D(x).shape == (4,)


def test_dcgan_matches_notebook_structure():
    G, D = build_models(ModelConfig(arch="dcgan", z_dim=64, g_width=64, d_width=16, d_norm="batch"),
                        (1, 28, 28))
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 16, (4, 4), (2, 2)), (16, 32, (4, 4), (2, 2)), (32, 1, (4, 4), (2, 2))]
    deconvs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in deconvs] == [
        (64, 256, 3, 2), (256, 128, 4, 1), (128, 64, 3, 2), (64, 1, 4, 2)]
    stds = [c.weight.std().item() for c in convs + deconvs]
    assert all(0.015 < s < 0.025 for s in stds)  # N(0, 0.02) init


def test_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="28x28"):
        build_models(ModelConfig(arch="dcgan"), (3, 32, 32))


def _bce(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


def test_bce_losses_match_bce_with_logits():
    real, fake = torch.randn(100) * 3, torch.randn(100) * 3
    assert losses.d_loss("bce", real, fake).item() == pytest.approx(
        (_bce(real, 1.0) + _bce(fake, 0.0)).item(), rel=1e-6)
    assert losses.g_loss("bce", fake).item() == pytest.approx(_bce(fake, 1.0).item(), rel=1e-6)
    # Equilibrium value 2 ln 2 when D outputs 0 everywhere.
    zero = torch.zeros(10)
    assert losses.d_loss("bce", zero, zero).item() == pytest.approx(2 * math.log(2))
    # Stable for huge logits: a perfectly confident D gives G loss = |logit|.
    assert losses.g_loss("bce", torch.full((4,), -20.0)).item() == pytest.approx(20.0, rel=1e-6)


def test_hinge_losses():
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-2.0, 0.0, 1.0])
    # relu(1 - real) = [0, .5, 2] -> 2.5/3; relu(1 + fake) = [0, 1, 2] -> 1
    assert losses.d_loss("hinge", real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert losses.g_loss("hinge", fake).item() == pytest.approx(-(-2 + 0 + 1) / 3)


def test_wasserstein_losses():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([-1.0, 0.0])
    assert losses.d_loss("wasserstein", real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert losses.g_loss("wasserstein", fake).item() == pytest.approx(0.5)


def test_unknown_loss():
    with pytest.raises(ValueError):
        losses.d_loss("l2", torch.zeros(1), torch.zeros(1))


@pytest.mark.slow
def test_dcgan_generator_computes_the_notebooks_generator():
    """Same weights -> same images and same weight gradients as the notebook's own Generator
    (stock ConvTranspose2d), so the CPU GEMM path changes the speed, not the update.

    In float64: three BatchNorm backwards with scales ~0.02 amplify float32 rounding (which
    depends on the summation order, i.e. the kernel and the thread count) to ~1e-3 relative
    in block1's gradient, which would hide a real difference.
    """
    from notebook_reference import Generator

    torch.manual_seed(0)
    ours, _ = build_models(ModelConfig(arch="dcgan", z_dim=64, g_width=64, d_width=16), (1, 28, 28))
    ours = ours.double().to(memory_format=torch.channels_last)  # channels_last as on the CPU
    notebook = Generator(z_dim=64).double()
    ours_state = ours.state_dict()
    assert len(ours_state) == len(notebook.state_dict())
    notebook.load_state_dict(dict(zip(notebook.state_dict(), ours_state.values())))

    z = torch.randn(32, 64, dtype=torch.double)
    out_ours, out_notebook = ours(z), notebook(z)
    assert torch.allclose(out_ours, out_notebook, rtol=1e-9, atol=1e-12)
    weights = torch.randn_like(out_notebook)
    (out_ours * weights).sum().backward()
    (out_notebook * weights).sum().backward()
    # One absolute scale for all: a conv bias followed by BatchNorm has a gradient that is
    # zero up to rounding in both models.
    scale = max(q.grad.abs().max() for q in notebook.parameters())
    for (name, p), q in zip(ours.named_parameters(), notebook.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-7, atol=1e-9 * scale), name
