"""The peer: the classic PyTorch DCGAN example's training loop, written out as a plain reference.

Same architecture as its `main.py` (ngf = ndf = 64, nz = 100, 64 px): transposed-conv G with
batch norm and ReLU, strided-conv D with batch norm and leaky ReLU ending in a sigmoid, BCELoss,
Adam(2e-4, betas (0.5, 0.999)), default (NCHW) memory format, fp32, and its three passes per
step: D on reals, D on fakes (then D steps), D on fakes again for G.
"""
from __future__ import annotations

import torch
import torch.nn as nn


def _init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def generator(nz=100, ngf=64):
    def up(cin, cout, stride, pad):
        return [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
    net = nn.Sequential(*up(nz, ngf * 8, 1, 0), *up(ngf * 8, ngf * 4, 2, 1), *up(ngf * 4, ngf * 2, 2, 1),
                        *up(ngf * 2, ngf, 2, 1), nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())
    return net.apply(_init)


def discriminator(ndf=64):
    def down(cin, cout):
        return [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
    net = nn.Sequential(nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True), *down(ndf, ndf * 2),
                        *down(ndf * 2, ndf * 4), *down(ndf * 4, ndf * 8), nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
                        nn.Sigmoid())
    return net.apply(_init)


class PeerLoop:
    def __init__(self, nz=100, seed=0):
        torch.manual_seed(seed)
        self.nz, self.G, self.D = nz, generator(nz), discriminator()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.loss = nn.BCELoss()

    def step(self, real: torch.Tensor):
        n = real.shape[0]
        real_label, fake_label = torch.full((n,), 1.0), torch.full((n,), 0.0)
        self.D.zero_grad()
        err_real = self.loss(self.D(real).view(-1), real_label)
        err_real.backward()
        fake = self.G(torch.randn(n, self.nz, 1, 1))
        err_fake = self.loss(self.D(fake.detach()).view(-1), fake_label)
        err_fake.backward()
        self.opt_d.step()
        self.G.zero_grad()
        err_g = self.loss(self.D(fake).view(-1), real_label)
        err_g.backward()
        self.opt_g.step()
