"""The SN-GAN paper's "standard CNN" (Miyato et al. 2018, Table 3), for 32x32 images.

Generator (z_dim 128 in the paper; ``width`` w = 64 gives the paper's channel counts)::

    z -> dense -> M x M x 8w      (M = size / 8: 4 for 32x32), BatchNorm, ReLU
      -> deconv 4x4 s2 -> 4w, BatchNorm, ReLU          (8x8)
      -> deconv 4x4 s2 -> 2w, BatchNorm, ReLU          (16x16)
      -> deconv 4x4 s2 ->  w, BatchNorm, ReLU          (32x32)
      -> conv 3x3 s1 -> channels, Tanh

Table 3 lists "dense -> M x M x 512" without a normalization; the authors' Chainer code (and
most PyTorch ports) apply BatchNorm + ReLU after it, as here.

Discriminator (``width`` w = 64 gives the paper's 64, 64, 128, 128, 256, 256, 512)::

    conv1 3x3 s1 w    lReLU(0.1)     conv2 4x4 s2 w    lReLU(0.1)
    conv3 3x3 s1 2w   lReLU(0.1)     conv4 4x4 s2 2w   lReLU(0.1)
    conv5 3x3 s1 4w   lReLU(0.1)     conv6 4x4 s2 4w   lReLU(0.1)
    conv7 3x3 s1 8w   lReLU(0.1)     fc: dense (M x M x 8w) -> 1

All D layers are plain ``nn.Conv2d`` / ``nn.Linear`` named ``conv1`` ... ``conv7`` and ``fc``
(the names in the plots and in ``D.pt``), so every layer constraint of ``core.constraints``
applies to them. The paper's D has no normalization; ``d_norm`` = "batch" or "layer" adds one
after conv2 ... conv7 (``norm2`` ... ``norm7``), as the notebook DCGAN's D has, so the
playground can show what BatchNorm does to the Lipschitz bound. Any square size that is a
multiple of 8 works (the paper uses 48 for STL-10: M = 6).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .convtranspose import GemmConvTranspose2d
from .norm import d_norm_layer

LEAK = 0.1


def _check_size(size: int) -> int:
    if size % 8 or size < 8:
        raise ValueError(f"model.arch 'sngan_cnn' needs images whose side is a multiple of 8; "
                         f"the data is {size}x{size}")
    return size // 8


class SNGANGenerator(nn.Module):
    def __init__(self, z_dim: int = 128, width: int = 64, channels: int = 3, size: int = 32):
        super().__init__()
        self.z_dim = z_dim
        self.bottom = _check_size(size)
        self.top = width * 8
        self.fc = nn.Linear(z_dim, self.bottom * self.bottom * self.top)
        self.bn0 = nn.BatchNorm2d(self.top)
        chans = [width * 8, width * 4, width * 2, width]
        for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:]), start=1):
            self.add_module(f"block{i}", nn.Sequential(
                GemmConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)))
        self.out = nn.Conv2d(width, channels, 3, 1, 1)
        self.tanh = nn.Tanh()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z.view(z.shape[0], self.z_dim))
        x = x.view(z.shape[0], self.top, self.bottom, self.bottom)
        x = F.relu(self.bn0(x), inplace=True)
        x = self.block3(self.block2(self.block1(x)))
        return self.tanh(self.out(x))


class SNGANDiscriminator(nn.Module):
    """Returns one logit/critic value per image, shape [N]."""

    # (out channels as a multiple of the width, kernel, stride) of conv1 ... conv7
    SPECS = [(1, 3, 1), (1, 4, 2), (2, 3, 1), (2, 4, 2), (4, 3, 1), (4, 4, 2), (8, 3, 1)]

    def __init__(self, width: int = 64, channels: int = 3, size: int = 32, norm: str = "none"):
        super().__init__()
        bottom = _check_size(size)
        self.n_conv = len(self.SPECS)
        cin = channels
        for i, (mult, k, s) in enumerate(self.SPECS, start=1):
            cout = width * mult
            self.add_module(f"conv{i}", nn.Conv2d(cin, cout, k, s, (k - 1) // 2 if s == 1 else 1))
            layer_norm = d_norm_layer(norm, cout, feature_maps=True) if i > 1 else None
            if layer_norm is not None:
                self.add_module(f"norm{i}", layer_norm)
            cin = cout
        self.fc = nn.Linear(bottom * bottom * cin, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        modules = self._modules
        for i in range(1, self.n_conv + 1):
            x = modules[f"conv{i}"](x)
            norm = modules.get(f"norm{i}")
            if norm is not None:
                x = norm(x)
            x = F.leaky_relu(x, LEAK, inplace=True)
        return self.fc(x.flatten(1)).squeeze(1)
