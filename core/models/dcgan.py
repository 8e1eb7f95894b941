"""The DCGAN of the SN-GAN course notebook, for 28x28 images (1 or 3 channels).

Generator (noise 64, hidden 64): 1x1 -> 3x3 -> 6x6 -> 13x13 -> 28x28 through ConvTranspose2d
blocks (kernel 3 stride 2, kernel 4 stride 1, kernel 3 stride 2, kernel 4 stride 2) with
BatchNorm + ReLU, Tanh at the end.
Discriminator (hidden 16): 28 -> 13 -> 5 -> 1 through Conv2d(kernel 4, stride 2) blocks with a
normalization (BatchNorm in the notebook; LayerNorm or none here by ``d_norm``) and
LeakyReLU(0.2). LayerNorm on feature maps is ``GroupNorm(1, C)``: normalization over (C, H, W)
with a per-channel affine, independent of the image size.
"""

from __future__ import annotations

from torch import nn

from .convtranspose import GemmConvTranspose2d
from .norm import d_norm_layer


def notebook_init(module: nn.Module) -> None:
    """The notebook's ``weights_init``: conv weights and BatchNorm weights N(0, 0.02), BN bias 0.

    Kept faithful to the notebook (pytorch/examples draws the BatchNorm weight from N(1, 0.02)
    instead); this start, with every BatchNorm scale near 0, is part of why the notebook's
    samples stay grey for a while.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    if isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.constant_(module.bias, 0.0)


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int = 64, hidden: int = 64, channels: int = 1):
        super().__init__()
        self.z_dim = z_dim
        specs = [  # (in, out, kernel, stride)
            (z_dim, hidden * 4, 3, 2),
            (hidden * 4, hidden * 2, 4, 1),
            (hidden * 2, hidden, 3, 2),
        ]
        for i, (cin, cout, k, s) in enumerate(specs, start=1):
            self.add_module(f"block{i}", nn.Sequential(
                GemmConvTranspose2d(cin, cout, k, s), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)))
        self.out = GemmConvTranspose2d(hidden, channels, 4, 2)
        self.tanh = nn.Tanh()
        self.apply(notebook_init)

    def forward(self, z):
        x = z.view(z.shape[0], self.z_dim, 1, 1)
        x = self.block3(self.block2(self.block1(x)))
        return self.tanh(self.out(x))


class DCGANDiscriminator(nn.Module):
    """Returns one logit/critic value per image, shape [N]."""

    def __init__(self, hidden: int = 16, channels: int = 1, norm: str = "batch"):
        super().__init__()
        for i, (cin, cout) in enumerate([(channels, hidden), (hidden, hidden * 2)], start=1):
            block = nn.Sequential()
            block.add_module("conv", nn.Conv2d(cin, cout, 4, 2))
            layer_norm = d_norm_layer(norm, cout, feature_maps=True)
            if layer_norm is not None:
                block.add_module("norm", layer_norm)
            block.add_module("act", nn.LeakyReLU(0.2, inplace=True))
            self.add_module(f"block{i}", block)
        self.out = nn.Conv2d(hidden * 2, 1, 4, 2)
        self.apply(notebook_init)

    def forward(self, x):
        return self.out(self.block2(self.block1(x))).flatten(1).squeeze(1)
