"""A ConvTranspose2d whose CPU path is one matrix product and a col2im of shifted adds.

Why: on the CPU, oneDNN's deconvolution is slow at the small spatial sizes of our generators
(the notebook DCGAN's 6x6 -> 13x13 layer runs at about 80 GFLOP/s on this project's 2-core
machine, where a plain GEMM of the same size runs at about 280), and the generator's transposed
convolutions are most of a DCGAN training step. A transposed convolution is exactly

    cols[n, h, w, ky, kx, co] = sum_ci x[n, ci, h, w] * weight[ci, co, ky, kx]     (one GEMM)
    out[n, co, s*h + ky - p, s*w + kx - p] += cols[n, h, w, ky, kx, co]            (col2im)

and its backward is an im2col of the output gradient (a strided view of it, copied once)
followed by two GEMMs. Everything is laid out channels-last (NHWC), so the result is a
channels_last tensor, which is what the rest of our conv models use on the CPU.

:class:`GemmConvTranspose2d` is an ``nn.ConvTranspose2d`` (same parameters, state-dict keys,
init and ``isinstance``); only its CPU forward differs, and only where the maths above is all
of it (groups 1, dilation 1, zero padding, float32/float64) and where it is faster. The col2im
is memory-bound, so the GEMM path loses once the maps grow: per layer (forward + backward,
``python benchmarks/convtranspose.py``) it wins on all four layers of the notebook DCGAN and on
the SN-GAN CNN's 4x4 -> 8x8 layer, and loses on its 8x8 -> 16x16 and 16x16 -> 32x32 layers.
The rule below (input pixels x output channels <= 4096, i.e. col2im work per sample)
separates those cases.
Everything else, and every non-CPU device (cuDNN is fast there), goes through the stock
implementation. The results agree with
``F.conv_transpose2d`` to float rounding (tests/test_convtranspose.py).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable


class _GemmConvTranspose2dFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding):
        n, cin, h, w = x.shape
        cout, (kh, kw) = weight.shape[1], weight.shape[2:]
        (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
        full_h, full_w = (h - 1) * sh + kh + oph, (w - 1) * sw + kw + opw

        x_rows = x.permute(0, 2, 3, 1).reshape(n * h * w, cin)  # free when x is channels_last
        w_mat = weight.permute(0, 2, 3, 1).reshape(cin, kh * kw * cout)
        cols = torch.mm(x_rows, w_mat).view(n, h, w, kh, kw, cout)

        if bias is None:
            out = x.new_zeros(n, full_h, full_w, cout)
        else:
            out = bias.view(1, 1, 1, cout).expand(n, full_h, full_w, cout).clone()
        for ky in range(kh):
            for kx in range(kw):
                out[:, ky:ky + sh * (h - 1) + 1:sh, kx:kx + sw * (w - 1) + 1:sw, :] += \
                    cols[:, :, :, ky, kx, :]
        if ph or pw:
            out = out[:, ph:full_h - ph, pw:full_w - pw, :].contiguous()

        ctx.save_for_backward(x_rows if ctx.needs_input_grad[1] else None,
                              w_mat if ctx.needs_input_grad[0] else None)
        ctx.geometry = (n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, full_h, full_w)
        ctx.has_bias = bias is not None
        return out.permute(0, 3, 1, 2)  # NCHW shape, channels_last memory

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x_rows, w_mat = ctx.saved_tensors
        n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, full_h, full_w = ctx.geometry
        g = grad_out.permute(0, 2, 3, 1)
        if ph or pw:  # the cropped border received no gradient
            g_full = g.new_zeros(n, full_h, full_w, cout)
            g_full[:, ph:full_h - ph, pw:full_w - pw, :] = g
            g = g_full
        else:
            g = g.contiguous()
        # im2col: for each input pixel, the kh x kw output window it wrote to (a strided view).
        g_cols = g.as_strided(
            (n, h, w, kh, kw, cout),
            (full_h * full_w * cout, sh * full_w * cout, sw * cout, full_w * cout, cout, 1),
        ).reshape(n * h * w, kh * kw * cout)

        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.mm(g_cols, w_mat.t()).view(n, h, w, cin).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            grad_w = torch.mm(x_rows.t(), g_cols).view(cin, kh, kw, cout).permute(0, 3, 1, 2)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None, None


class GemmConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` with the faster CPU path described in the module docstring."""

    # Input pixels x output channels (per sample) up to which the GEMM path is the faster one.
    GEMM_MAX_WORK = 4096

    def _gemm_applies(self, x: torch.Tensor, output_size) -> bool:
        return (x.device.type == "cpu" and x.dim() == 4 and output_size is None
                and x.shape[2] * x.shape[3] * self.out_channels <= self.GEMM_MAX_WORK
                and x.dtype in (torch.float32, torch.float64) and self.weight.dtype == x.dtype
                and self.groups == 1 and self.dilation == (1, 1)
                and self.padding_mode == "zeros")

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        if not self._gemm_applies(x, output_size):
            return super().forward(x, output_size)
        return _GemmConvTranspose2dFn.apply(x, self.weight, self.bias, self.stride,
                                            self.padding, self.output_padding)

