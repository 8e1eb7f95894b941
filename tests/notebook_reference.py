"""The SN-GAN course notebook's DCGAN and training loop, kept verbatim as the speed reference.

Models: legacy ``torch.nn.utils.spectral_norm`` on D's convolutions, BatchNorm in D and G.
Loop: per batch, G runs twice (once for the D update, once with new noise for the G update),
D runs three times, ``retain_graph=True`` on the D backward, and ``.item()`` syncs every step.
"""

from __future__ import annotations

import torch
from torch import nn


def get_noise(n_samples, z_dim, device="cpu"):
    return torch.randn(n_samples, z_dim, device=device)


class Generator(nn.Module):
    def __init__(self, z_dim=10, im_chan=1, hidden_dim=64):
        super().__init__()
        self.z_dim = z_dim
        self.gen = nn.Sequential(
            self.make_gen_block(z_dim, hidden_dim * 4),
            self.make_gen_block(hidden_dim * 4, hidden_dim * 2, kernel_size=4, stride=1),
            self.make_gen_block(hidden_dim * 2, hidden_dim),
            self.make_gen_block(hidden_dim, im_chan, kernel_size=4, final_layer=True),
        )

    def make_gen_block(self, input_channels, output_channels, kernel_size=3, stride=2,
                       final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.ReLU(inplace=True),
            )
        return nn.Sequential(
            nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
            nn.Tanh(),
        )

    def unsqueeze_noise(self, noise):
        return noise.view(len(noise), self.z_dim, 1, 1)

    def forward(self, noise):
        return self.gen(self.unsqueeze_noise(noise))


class Discriminator(nn.Module):
    def __init__(self, im_chan=1, hidden_dim=16):
        super().__init__()
        self.disc = nn.Sequential(
            self.make_disc_block(im_chan, hidden_dim),
            self.make_disc_block(hidden_dim, hidden_dim * 2),
            self.make_disc_block(hidden_dim * 2, 1, final_layer=True),
        )

    def make_disc_block(self, input_channels, output_channels, kernel_size=4, stride=2,
                        final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.utils.spectral_norm(nn.Conv2d(input_channels, output_channels, kernel_size,
                                                 stride)),
                nn.BatchNorm2d(output_channels),
                nn.LeakyReLU(0.2, inplace=True),
            )
        return nn.Sequential(
            nn.utils.spectral_norm(nn.Conv2d(input_channels, output_channels, kernel_size,
                                             stride)),
        )

    def forward(self, image):
        disc_pred = self.disc(image)
        return disc_pred.view(len(disc_pred), -1)


def weights_init(m):
    if isinstance(m, nn.Conv2d) or isinstance(m, nn.ConvTranspose2d):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    if isinstance(m, nn.BatchNorm2d):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
        torch.nn.init.constant_(m.bias, 0)


class NotebookLoop:
    """The notebook's loop body, fed batches from an in-memory tensor (as our trainer is)."""

    def __init__(self, images: torch.Tensor, z_dim=64, batch_size=128, device="cpu", seed=0):
        torch.manual_seed(seed)
        self.images, self.z_dim, self.batch_size, self.device = images, z_dim, batch_size, device
        self.gen = Generator(z_dim).to(device)
        self.disc = Discriminator().to(device)
        self.gen = self.gen.apply(weights_init)
        self.disc = self.disc.apply(weights_init)
        lr, beta_1, beta_2 = 0.0002, 0.5, 0.999
        self.gen_opt = torch.optim.Adam(self.gen.parameters(), lr=lr, betas=(beta_1, beta_2))
        self.disc_opt = torch.optim.Adam(self.disc.parameters(), lr=lr, betas=(beta_1, beta_2))
        self.criterion = nn.BCEWithLogitsLoss()
        self.mean_generator_loss = 0.0
        self.mean_discriminator_loss = 0.0

    def step(self):
        z_dim, device, criterion = self.z_dim, self.device, self.criterion
        gen, disc, gen_opt, disc_opt = self.gen, self.disc, self.gen_opt, self.disc_opt
        idx = torch.randint(0, self.images.shape[0], (self.batch_size,))
        real = self.images[idx].float().div(127.5).sub(1.0)
        cur_batch_size = len(real)
        real = real.to(device)

        ## Update Discriminator ##
        disc_opt.zero_grad()
        fake_noise = get_noise(cur_batch_size, z_dim, device=device)
        fake = gen(fake_noise)
        disc_fake_pred = disc(fake.detach())
        disc_fake_loss = criterion(disc_fake_pred, torch.zeros_like(disc_fake_pred))
        disc_real_pred = disc(real)
        disc_real_loss = criterion(disc_real_pred, torch.ones_like(disc_real_pred))
        disc_loss = (disc_fake_loss + disc_real_loss) / 2
        self.mean_discriminator_loss += disc_loss.item()
        disc_loss.backward(retain_graph=True)
        disc_opt.step()

        ## Update Generator ##
        gen_opt.zero_grad()
        fake_noise_2 = get_noise(cur_batch_size, z_dim, device=device)
        fake_2 = gen(fake_noise_2)
        disc_fake_pred = disc(fake_2)
        gen_loss = criterion(disc_fake_pred, torch.ones_like(disc_fake_pred))
        gen_loss.backward()
        gen_opt.step()
        self.mean_generator_loss += gen_loss.item()
