"""DCGAN (Radford et al. 2016), the baseline, with the well-tested modern upgrades as switches.

The classic net is the default for every switch: transposed-conv G, strided-conv D with
batch norm, BCE loss, one learning rate. The switches, each decided by pilot runs (see the
shipped model's card):
  g_arch="upsample"   nearest-neighbour upsampling + 3x3 conv in G (no checkerboard)
  loss="hinge"        hinge loss instead of BCE
  spectral_norm=True  spectral norm on D's convs (and no batch norm in D)
  lr_d                D's own learning rate (two time-scales)
  ema_kimg            an EMA generator for sampling (base.Family)
  diffaug             DiffAugment policy for everything D sees, e.g. "translation,color"
  g_top=C             one more hidden stage at full resolution with C channels before the RGB conv, so
                      edges are drawn from a 64 px map instead of an upsampled 32 px one
  r1_gamma, r1_every  R1 penalty on reals, gamma/2 * |grad D(x)|^2, lazily every r1_every steps with
                      its weight multiplied by the interval (StyleGAN2); 0 is off
  lr_halve_kimg       thousands of images (one process's) after which both learning rates halve, e.g.
                      [500]: inside a run, so Adam keeps its state (a fresh one from exported weights hurt)
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm as with_spectral_norm

from catgan.models.base import Family
from catgan.models.layers import LabelEmbedding, Projection, levels

CLASSIC = dict(g_arch="transposed", loss="bce", spectral_norm=False, lr_d=None, ema_kimg=0, diffaug="",
               g_top=0, r1_gamma=0.0, r1_every=16, lr_halve_kimg=())
PRESETS = {
    # Pilots on the stickers (10 CPU-minutes each, sticker-space FD; table in the default model's card):
    # upsample + 3x3 conv beat transposed convs (FD 19.2 vs 22.2, with EMA both), while hinge with
    # spectral norm and two learning rates (383) and DiffAugment (29.1) were behind at that budget.
    "cpu": dict(CLASSIC, g_arch="upsample", ema_kimg=10, latent_dim=100, ngf=32, ndf=32, batch=64, lr=2e-4,
                betas=(0.5, 0.999)),
    "classic": dict(CLASSIC, latent_dim=100, ngf=32, ndf=32, batch=64, lr=2e-4, betas=(0.5, 0.999)),
    "paper": dict(CLASSIC, latent_dim=100, ngf=64, ndf=64, batch=128, lr=2e-4, betas=(0.5, 0.999)),
}


def _init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _up(cin, cout, arch):
    if arch == "upsample":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=False)]
    if arch == "transposed":
        return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)]
    raise ValueError(f"unknown g_arch {arch!r}; choose 'transposed' or 'upsample'")


class Generator(nn.Module):
    def __init__(self, resolution=64, latent_dim=100, ngf=32, g_arch="transposed", g_top=0, label_dim=0, **_):
        super().__init__()
        n = levels(resolution)
        ch = ngf * 2 ** (n - 1)
        cin = latent_dim * (2 if label_dim else 1)          # conditional: the label's embedding beside z
        layers = [nn.ConvTranspose2d(cin, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n - 1):
            layers += [*_up(ch, ch // 2, g_arch), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        if g_top:
            layers += [*_up(ch, g_top, g_arch), nn.BatchNorm2d(g_top), nn.ReLU(True),
                       nn.Conv2d(g_top, 3, 3, 1, 1, bias=False), nn.Tanh()]
        else:
            layers += [*_up(ch, 3, g_arch), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(_init)
        self.embed = LabelEmbedding(label_dim, latent_dim) if label_dim else None

    def forward(self, z, c=None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    def __init__(self, resolution=64, ndf=32, spectral_norm=False, label_dim=0, **_):
        super().__init__()
        n = levels(resolution)
        sn = with_spectral_norm if spectral_norm else (lambda m: m)
        layers, ch = [sn(nn.Conv2d(3, ndf, 4, 2, 1, bias=False)), nn.LeakyReLU(0.2, True)], ndf
        for _ in range(n - 1):
            norm = [] if spectral_norm else [nn.BatchNorm2d(ch * 2)]
            layers += [sn(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False)), *norm, nn.LeakyReLU(0.2, True)]
            ch *= 2
        layers += [sn(nn.Conv2d(ch, 1, 4, 1, 0, bias=False))]
        self.net = nn.Sequential(*layers)
        self.apply(_init)
        self.project = Projection(label_dim, ch) if label_dim else None     # on the summed 4x4 features

    def forward(self, x, c=None):
        if self.project is None:
            return self.net(x).flatten()          # logits
        h = self.net[:-1](x)
        return self.net[-1](h).flatten() + self.project(h.sum(dim=(2, 3)), c)


class DCGAN(Family):
    name = "dcgan"
    judge = "Lowest D(G(z))."
    presets = PRESETS
    charts = [("D outputs", ["D_x", "D_G_z"]), ("Losses", ["loss_D", "loss_G"])]
    curve_keys = ["loss_D", "loss_G", "D_x", "D_G_z"]
    Generator, Discriminator = Generator, Discriminator

    def __init__(self, cfg, *a, **kw):
        cfg = {**CLASSIC, **cfg}                 # checkpoints from before the switches are classic
        if cfg["loss"] not in ("bce", "hinge"):
            raise ValueError(f"unknown loss {cfg['loss']!r}; choose 'bce' or 'hinge'")
        super().__init__(cfg, *a, **kw)

    def begin_step(self, step):
        images = step * self.cfg["batch"]
        halved = 0.5 ** sum(images >= kimg * 1000 for kimg in self.cfg["lr_halve_kimg"])
        for which, opt in self.opt.items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr(which) * halved

    def train_step(self, real, gen, step, labels=None):
        n = real.shape[0]
        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        c = self.fake_labels(n, gen)
        hinge = self.cfg["loss"] == "hinge"
        with self.autocast():
            fake = self.G_train(z) if c is None else self.G_train(z, c)
            d_real = self.d_logits(self.D_train, real, gen, labels)
            d_fake = self.d_logits(self.D_train, fake.detach(), gen, c)
            if hinge:
                loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
            else:
                loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                          + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.update_d(loss_d, real, gen, step, labels)
        with self.frozen(self.D), self.autocast():
            d_gen = self.d_logits(self.D, fake, gen, c)
            loss_g = -d_gen.mean() if hinge else F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        self.update_g(loss_g)
        out = {"loss_D": loss_d.item(), "loss_G": loss_g.item(),
               "D_x": torch.sigmoid(d_real).mean().item(), "D_G_z": torch.sigmoid(d_fake).mean().item()}
        return {**out, "r1": self.last_r1} if self.cfg["r1_gamma"] else out


    @staticmethod
    def realism(D, images):
        """Higher is more real: D's probability that each image is real."""
        return torch.sigmoid(D(images).float())
