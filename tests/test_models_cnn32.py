"""The SN-GAN paper's "standard CNN" (core/models/cnn32.py): shapes, layout, constraints."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.config import ConstraintsConfig, ModelConfig
from core.constraints import ConstraintSet, constrained_layers, weight_matrix
from core.models import SNGANDiscriminator, SNGANGenerator, build_models


def test_paper_layout_for_32x32_rgb():
    G, D = build_models(ModelConfig(arch="sngan_cnn", z_dim=128, g_width=64, d_width=64),
                        (3, 32, 32))
    # Table 3 (CIFAR-10): D channels 64,64,128,128,256,256,512 with 3x3 s1 / 4x4 s2 alternating.
    convs = [getattr(D, f"conv{i}") for i in range(1, 8)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512]
    assert [c.kernel_size[0] for c in convs] == [3, 4, 3, 4, 3, 4, 3]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1]
    assert D.fc.in_features == 4 * 4 * 512 and D.fc.out_features == 1
    # G: dense -> 4x4x512, deconvs 256, 128, 64 (4x4 s2), conv 3x3 s1 -> 3, tanh.
    assert G.fc.out_features == 4 * 4 * 512
    deconvs = [getattr(G, f"block{i}")[0] for i in (1, 2, 3)]
    assert [d.out_channels for d in deconvs] == [256, 128, 64]
    assert all(isinstance(d, nn.ConvTranspose2d) and d.kernel_size == (4, 4) and d.stride == (2, 2)
               for d in deconvs)
    assert G.out.out_channels == 3 and G.out.kernel_size == (3, 3)
    z = torch.randn(5, 128)
    x = G(z)
    assert x.shape == (5, 3, 32, 32) and x.abs().max() <= 1
    assert D(x).shape == (5,)


def test_d_layer_names_are_readable_and_constrainable():
    D = SNGANDiscriminator(width=8, channels=3, size=32)
    names = [name for name, _ in constrained_layers(D)]
    assert names == [f"conv{i}" for i in range(1, 8)] + ["fc"]
    assert all(type(m) in (nn.Conv2d, nn.Linear) for _, m in constrained_layers(D))


@pytest.mark.parametrize("width_g,width_d,channels,size", [(8, 4, 1, 32), (4, 4, 3, 48),
                                                           (4, 2, 3, 16), (2, 2, 1, 64)])
def test_widths_sizes_and_channels(width_g, width_d, channels, size):
    G, D = build_models(ModelConfig(arch="sngan_cnn", z_dim=16, g_width=width_g,
                                    d_width=width_d), (channels, size, size))
    assert G.fc.out_features == (size // 8) ** 2 * 8 * width_g
    assert D.conv1.out_channels == width_d and D.conv7.out_channels == 8 * width_d
    x = G(torch.randn(3, 16))
    assert x.shape == (3, channels, size, size)
    assert D(x).shape == (3,)


def test_d_norm_adds_normalization_after_conv2_to_conv7():
    D = SNGANDiscriminator(width=4, norm="batch")
    assert not hasattr(D, "norm1")
    assert all(isinstance(getattr(D, f"norm{i}"), nn.BatchNorm2d) for i in range(2, 8))
    D = SNGANDiscriminator(width=4, norm="layer")
    assert isinstance(D.norm4, nn.GroupNorm)
    assert D(torch.randn(2, 3, 32, 32)).shape == (2,)
    assert not any("norm" in n for n, _ in SNGANDiscriminator(width=4).named_modules())


def test_wrong_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="multiple of 8"):
        build_models(ModelConfig(arch="sngan_cnn"), (1, 28, 28))
    with pytest.raises(ValueError, match="sngan_cnn"):
        build_models(ModelConfig(arch="dcgan"), (3, 32, 32))
    with pytest.raises(ValueError, match="square"):
        build_models(ModelConfig(arch="sngan_cnn"), (3, 32, 64))


@pytest.mark.parametrize("kind", ["spectral", "rowsum"])
def test_layer_constraints_act_on_every_d_layer(kind):
    torch.manual_seed(0)
    D = SNGANDiscriminator(width=4, channels=3, size=32)
    cfg = ConstraintsConfig()
    getattr(cfg, kind).enabled = True
    if kind == "spectral":
        cfg.spectral.power_iters = 30
    cons = ConstraintSet(D, cfg, torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))
    for _ in range(5):  # the trainer runs the power iteration before each D update
        cons.before_d_step()
    for name, layer in constrained_layers(D):
        w = weight_matrix(layer.weight, False)
        if kind == "spectral":
            assert torch.linalg.matrix_norm(w, 2).item() == pytest.approx(1.0, rel=1e-2), name
        else:
            assert w.abs().sum(1).max().item() == pytest.approx(1.0, rel=1e-5), name
    assert D(torch.randn(2, 3, 32, 32)).shape == (2,)


def test_generator_backprop_and_batchnorm_in_eval():
    G = SNGANGenerator(z_dim=8, width=4, channels=3)
    x = G(torch.randn(6, 8))
    x.mean().backward()
    assert G.fc.weight.grad is not None and G.out.weight.grad.abs().sum() > 0
    G.eval()
    with torch.no_grad():
        assert G(torch.randn(2, 8)).shape == (2, 3, 32, 32)
