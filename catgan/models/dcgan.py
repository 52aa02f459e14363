"""DCGAN (Radford et al. 2016): the baseline. Transposed-conv G, strided-conv D, BCE loss."""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from catgan.models.base import Family

PRESETS = {
    "cpu": dict(latent_dim=100, ngf=32, ndf=32, batch=64, lr=2e-4, betas=(0.5, 0.999)),
    "paper": dict(latent_dim=100, ngf=64, ndf=64, batch=128, lr=2e-4, betas=(0.5, 0.999)),
}


def _n_up(resolution: int) -> int:
    n = int(math.log2(resolution)) - 2
    if resolution != 4 * 2 ** n or n < 1:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return n


def _init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, resolution=64, latent_dim=100, ngf=32, **_):
        super().__init__()
        n = _n_up(resolution)
        ch = ngf * 2 ** (n - 1)
        layers = [nn.ConvTranspose2d(latent_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, z):
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    def __init__(self, resolution=64, ndf=32, **_):
        super().__init__()
        n = _n_up(resolution)
        layers, ch = [nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)], ndf
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, x):
        return self.net(x).flatten()          # logits


class DCGAN(Family):
    name = "dcgan"
    presets = PRESETS
    Generator, Discriminator = Generator, Discriminator

    def train_step(self, real, gen, step):
        n = real.shape[0]
        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        ones, zeros = torch.ones(n, device=self.device), torch.zeros(n, device=self.device)
        with self.autocast():
            fake = self.G_train(z)
            d_real, d_fake = self.D_train(real).float(), self.D_train(fake.detach()).float()
            loss_d = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
        self.opt["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt["D"].step()
        with self.frozen(self.D), self.autocast():
            d_gen = self.D(fake).float()
            loss_g = F.binary_cross_entropy_with_logits(d_gen, ones)
        self.opt["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt["G"].step()
        return {"loss_D": loss_d.item(), "loss_G": loss_g.item(),
                "D_x": torch.sigmoid(d_real).mean().item(), "D_G_z": torch.sigmoid(d_fake).mean().item()}

    @staticmethod
    def realism(D, images):
        """Higher is more real: D's probability that each image is real."""
        return torch.sigmoid(D(images).float())
