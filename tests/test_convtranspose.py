"""GemmConvTranspose2d computes what nn.ConvTranspose2d computes: output and all gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.models.convtranspose import GemmConvTranspose2d, _GemmConvTranspose2dFn

# (in, out, kernel, stride, padding, output_padding, input side): the notebook DCGAN's four
# layers, the SN-GAN CNN's padded layer, output padding, a non-square kernel/stride.
GEOMETRIES = [
    (64, 256, 3, 2, 0, 0, 1),
    (256, 128, 4, 1, 0, 0, 3),
    (128, 64, 3, 2, 0, 0, 6),
    (64, 1, 4, 2, 0, 0, 13),
    (32, 16, 4, 2, 1, 0, 4),
    (8, 4, 3, 2, 1, 1, 5),
    (8, 4, (3, 2), (1, 2), (1, 0), 0, 5),
]


def _pair(layer: nn.ConvTranspose2d, bias: bool):
    torch.manual_seed(0)
    fast = layer
    ref = nn.ConvTranspose2d(fast.in_channels, fast.out_channels, fast.kernel_size,
                             fast.stride, fast.padding, fast.output_padding, bias=bias)
    ref.load_state_dict(fast.state_dict())
    return fast, ref


def _close(a, b, what):
    scale = b.abs().max().clamp_min(1e-6)
    assert a.shape == b.shape, what
    assert ((a - b).abs().max() / scale) < 1e-5, what


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("channels_last", [True, False])
def test_matches_stock_forward_and_gradients(geometry, bias, channels_last):
    cin, cout, k, s, p, op, side = geometry
    torch.manual_seed(1)
    fast, ref = _pair(GemmConvTranspose2d(cin, cout, k, s, p, op, bias=bias), bias)
    x = torch.randn(6, cin, side, side)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x_fast, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()

    out_fast, out_ref = fast(x_fast), ref(x_ref)
    _close(out_fast, out_ref, "output")
    assert out_fast.is_contiguous(memory_format=torch.channels_last)

    grad = torch.randn_like(out_ref)
    out_fast.backward(grad)
    out_ref.backward(grad)
    _close(x_fast.grad, x_ref.grad, "input gradient")
    _close(fast.weight.grad, ref.weight.grad, "weight gradient")
    if bias:
        _close(fast.bias.grad, ref.bias.grad, "bias gradient")


def test_gradcheck_in_double_precision():
    layer = GemmConvTranspose2d(3, 2, 3, 2, 1, 1).double()
    x = torch.randn(2, 3, 4, 4, dtype=torch.double, requires_grad=True)
    w = layer.weight.detach().clone().requires_grad_()
    b = layer.bias.detach().clone().requires_grad_()

    assert torch.autograd.gradcheck(
        lambda x, w, b: _GemmConvTranspose2dFn.apply(x, w, b, (2, 2), (1, 1), (1, 1)),
        (x, w, b))


def test_input_that_needs_no_gradient_gets_none_and_weight_still_learns():
    layer = GemmConvTranspose2d(4, 3, 3, 2)
    layer(torch.randn(2, 4, 3, 3)).sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None


def test_cases_outside_the_gemm_path_use_the_stock_implementation():
    torch.manual_seed(0)
    big = GemmConvTranspose2d(8, 128, 4, 2, 1)  # 8x8 input x 128 channels: past GEMM_MAX_WORK
    x = torch.randn(2, 8, 8, 8)
    assert not big._gemm_applies(x, None)
    assert big._gemm_applies(x[:, :, :4, :4], None)
    assert torch.equal(big(x), F.conv_transpose2d(x, big.weight, big.bias, 2, 1))
    for kwargs in ({"groups": 2}, {"dilation": 2}):
        layer = GemmConvTranspose2d(4, 4, 3, 2, **kwargs)
        x = torch.randn(2, 4, 5, 5)
        expected = F.conv_transpose2d(x, layer.weight, layer.bias, 2, 0, 0, layer.groups,
                                      layer.dilation)
        assert torch.equal(layer(x), expected)
    layer = GemmConvTranspose2d(4, 2, 3, 2, 1)
    x = torch.randn(2, 4, 5, 5)
    out = layer(x, output_size=[10, 10])  # output_size picks the output padding
    assert out.shape[-2:] == (10, 10)


def test_is_a_drop_in_conv_transpose():
    layer = GemmConvTranspose2d(4, 3, 3, 2)
    assert isinstance(layer, nn.ConvTranspose2d)
    assert set(layer.state_dict()) == {"weight", "bias"}
