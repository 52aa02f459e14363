"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"), sized for a CPU.

The generator is two nets (Karras et al. 2019, "A Style-Based Generator Architecture"):
  mapping     z -> w: the latent normalised, then a few fully connected layers with a 100x lower learning
              rate. The mean w is tracked in training (`w_avg`), so sampling can pull w towards it by
              psi, the truncation trick: w' = w_avg + psi (w - w_avg); psi 1 is no truncation.
  synthesis   w -> image: a learned 4x4 constant, then per resolution an anti-aliased 2x upsampling and
              two modulated 3x3 convolutions, each with a per-pixel noise input of learned strength.
              Every resolution adds its own RGB image (a 1x1 modulated conv, no demodulation) to the
              upsampled sum of the lower ones (StyleGAN2's skip generator), so flat colour comes from
              the low resolutions and the high ones add only detail.

A modulated convolution is computed in the unfused form (the official `fused_modconv=False`): scale the
input channels by the style s = affine(w), one plain convolution shared by the whole batch, then scale the
output channels by the demodulation factor d_j = 1 / sqrt(sum_i,k (w_ijk s_i)^2 + eps). The fused form is
a grouped convolution per sample, which CPUs run slowly; the packages on the registry (stylegan2-pytorch,
stylegan2-torch) use it and bring their own trainers, so the nets are written here.

Anti-aliased resampling: bilinear 2x upsampling is exactly StyleGAN2's [1, 3, 3, 1] filter (edges clamped
rather than zero-padded); the discriminator halves with a 2x2 average. Both run as single library ops.

The discriminator is StyleGAN2's residual one: per resolution two 3x3 convolutions and a 1x1 skip, summed
and scaled by 1/sqrt(2); minibatch standard deviation (from the growing GAN, Karras et al. 2018) before a
final 3x3 convolution and two dense layers. To keep a step affordable on a CPU, its second convolution
runs after the halving (as a blurred strided convolution would), so each block has one convolution at its
input resolution.

Training: the non-saturating logistic loss, R1 on reals every `r1_every` steps with its weight scaled by
the interval and D's Adam lr and betas adjusted by k/(k+1) (lazy regularisation), style mixing (two
latents, swapped at a random layer, for a fraction of the batch), and the EMA generator of base.Family.
Path-length regularisation is left out: it is a double backward through G every few steps, the cost of
a whole step here, for smoother W -> image maps rather than better samples at this scale.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from catgan.models.base import Family
from catgan.models.pgwgan import EqConv, EqLinear, minibatch_stddev

PRESETS = {
    # Widths per resolution, 4 px first. A step costs 3.7x the DCGAN `cpu` preset's per image (Intel Xeon, one
    # bf16 thread; bench group "training"); wider at 32-64 px multiplies it (128-128-128-64-32 was 7x G, 14x D).
    # gamma follows the ADA paper's heuristic 0.0002 * res^2 / batch.
    "cpu": dict(latent_dim=128, mapping_layers=4, channels=[128, 128, 64, 32, 16], batch=32, lr=0.0025,
                betas=(0.0, 0.99), r1_gamma=0.0256, r1_every=16, style_mixing=0.9, mbstd_group=4, ema_kimg=10,
                diffaug=""),
}
SQRT2 = math.sqrt(2)


def _levels(resolution: int) -> int:
    """How many resolutions above 4x4: 4 for 64 px."""
    n = int(math.log2(resolution)) - 2 if resolution >= 8 else 0
    if n < 1 or 4 * 2 ** n != resolution:
        raise ValueError(f"StyleGAN2 resolution must be a power of two >= 8, got {resolution}")
    return n


def _widths(channels, resolution: int) -> list[int]:
    """Channels per resolution from 4 px up (a longer list, e.g. a 64 px preset at 32 px, uses its start)."""
    n = _levels(resolution)
    channels = list(channels)
    if len(channels) < n + 1 or any(int(c) != c or c < 1 for c in channels):
        raise ValueError(f"StyleGAN2 channels must be at least {n + 1} positive whole widths (one per resolution "
                         f"from 4 to {resolution} px), got {channels}")
    return [int(c) for c in channels[:n + 1]]


def lrelu(x):
    """Leaky ReLU without StyleGAN2's gain of sqrt(2): each consumer folds that gain into its own (tiny)
    style or weight scale, which saves two passes over every activation, forward and backward."""
    return F.leaky_relu(x, 0.2)


def upsample(x):
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class MappingLinear(nn.Module):
    """A dense layer with equalised learning rate and a learning-rate multiplier (0.01 in the mapping)."""

    def __init__(self, cin, cout, lr_mul=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(cout))
        self.w_gain, self.b_gain = lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x):
        return F.leaky_relu(F.linear(x, self.weight * self.w_gain, self.bias * self.b_gain), 0.2) * SQRT2


class Mapping(nn.Module):
    def __init__(self, latent_dim, layers, lr_mul=0.01):
        super().__init__()
        self.net = nn.Sequential(*[MappingLinear(latent_dim, latent_dim, lr_mul) for _ in range(layers)])

    def forward(self, z):
        z = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        return self.net(z)


class ModConv(nn.Module):
    """A modulated k x k convolution (unfused), with noise and activation for k = 3, plain for toRGB."""

    def __init__(self, cin, cout, w_dim, k=3, resolution=4, demodulate=True):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, gain=1.0)
        nn.init.ones_(self.affine.bias)             # styles start at 1: the layer starts as a plain conv
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.gain, self.pad, self.demodulate = 1 / math.sqrt(cin * k * k), k // 2, demodulate
        if demodulate:               # noise: a fixed map for sampling (a seed always gives the same image)
            self.noise_strength = nn.Parameter(torch.zeros(()))
            self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution,
                                                            generator=torch.Generator().manual_seed(resolution)))

    def forward(self, x, w, noise_gen=None, may_overwrite=False):
        """`may_overwrite`: the caller never reads x again, so sampling (no gradients) may scale it in place."""
        s = self.affine(w).float() * SQRT2            # N x cin; the input activation's gain folded in
        if not self.demodulate:
            s = s * self.gain                                         # toRGB: equalised lr, no demodulation
        sampling = not torch.is_grad_enabled()
        scale = s.to(x.dtype)[:, :, None, None]
        x = x.mul_(scale) if sampling and may_overwrite else x * scale
        x = F.conv2d(x, self.weight * self.gain if not self.demodulate else self.weight, padding=self.pad)
        bias = self.bias[None, :, None, None]
        if not self.demodulate:
            return x + bias.to(x.dtype)
        # d_j = 1 / sqrt(sum_i,k (w_ijk s_i)^2) scales each output to an expected std of 1
        d = (s.square() @ self.weight.float().square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()   # N x cout
        n, _, h, wd = x.shape
        noise = (torch.randn(n, 1, h, wd, generator=noise_gen).to(x.device) if noise_gen is not None
                 else self.noise_const) * self.noise_strength
        if sampling:                           # in place, noise and bias added as one: a fifth less time
            return F.leaky_relu_(x.mul_(d.to(x.dtype)[:, :, None, None]).add_((noise + bias).to(x.dtype)), 0.2)
        return lrelu(x * d.to(x.dtype)[:, :, None, None] + noise.to(x.dtype) + bias.to(x.dtype))


class Synthesis(nn.Module):
    def __init__(self, resolution, latent_dim, channels):
        super().__init__()
        ch = _widths(channels, resolution)
        self.const = nn.Parameter(torch.randn(1, ch[0], 4, 4))
        self.convs = nn.ModuleList([ModConv(ch[0], ch[0], latent_dim, resolution=4)])
        self.to_rgb = nn.ModuleList([ModConv(ch[0], 3, latent_dim, k=1, demodulate=False)])
        for i in range(1, len(ch)):
            res = 4 * 2 ** i
            self.convs.extend([ModConv(ch[i - 1], ch[i], latent_dim, resolution=res),
                               ModConv(ch[i], ch[i], latent_dim, resolution=res)])
            self.to_rgb.append(ModConv(ch[i], 3, latent_dim, k=1, demodulate=False))
        self.num_ws = len(self.convs) + 1            # each toRGB shares the next conv's w; the last has its own

    def forward(self, ws, noise_gen=None):
        """ws: N x num_ws x latent_dim (W+), or N x latent_dim (the same w for every layer)."""
        if ws.dim() == 2:
            ws = ws[:, None].expand(-1, self.num_ws, -1)
        x = self.const.repeat(ws.shape[0], 1, 1, 1)
        x = self.convs[0](x, ws[:, 0], noise_gen, may_overwrite=True)
        rgb = self.to_rgb[0](x, ws[:, 1])                       # (x goes on upwards: not overwritten)
        for i in range(1, len(self.to_rgb)):
            j = 2 * i - 1                                       # this resolution's first conv
            x = self.convs[j](upsample(x), ws[:, j], noise_gen, may_overwrite=True)
            x = self.convs[j + 1](x, ws[:, j + 1], noise_gen, may_overwrite=True)
            rgb = upsample(rgb) + self.to_rgb[i](x, ws[:, j + 2])
        return torch.tanh(rgb)


class Generator(nn.Module):
    latent_space = "w"      # the explorer works in W (catgan.generator), centred on w_avg

    def __init__(self, resolution=64, latent_dim=128, channels=(128, 128, 64, 32, 16), mapping_layers=4,
                 w_avg_beta=0.995, **_):
        super().__init__()
        if int(mapping_layers) < 1:
            raise ValueError(f"StyleGAN2 mapping_layers must be at least 1, got {mapping_layers}")
        self.mapping = Mapping(latent_dim, int(mapping_layers))
        self.synthesis = Synthesis(resolution, latent_dim, channels)
        self.register_buffer("w_avg", torch.zeros(latent_dim))
        self.w_avg_beta = w_avg_beta

    def map(self, z, psi=1.0):
        """z -> w (tracking the mean w in training), pulled towards the mean by psi."""
        w = self.mapping(z).float()
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0), 1 - self.w_avg_beta)
        return w if psi == 1 else self.truncate(w, psi)

    def truncate(self, w, psi):
        """The truncation trick: w pulled towards the mean w by psi (a number or a tensor)."""
        return self.w_avg + psi * (w - self.w_avg)

    def forward(self, z, psi=1.0, noise_gen=None, mix_z=None, mix_cutoff=None):
        """Images of latents z; in training, `mix_z` with per-sample `mix_cutoff` (layer index where the
        second latent's w takes over; num_ws for none) mixes styles."""
        w = self.map(z, psi)
        if mix_z is None:
            return self.synthesis(w, noise_gen)
        w2 = self.map(mix_z, psi)
        layer = torch.arange(self.synthesis.num_ws, device=w.device)
        ws = torch.where((layer[None, :] < mix_cutoff[:, None])[:, :, None], w[:, None], w2[:, None])
        return self.synthesis(ws, noise_gen)


class DBlock(nn.Module):
    """Residual: (1x1 skip of the halved input + conv, halve, conv) / sqrt(2). The activations' gain and
    the 1/sqrt(2) are folded into the convolutions' weight scales (`in_gain`: the input's own gain)."""

    def __init__(self, cin, cout, in_gain=1.0):
        super().__init__()
        self.conv0, self.conv1 = EqConv(cin, cin, 3, gain=in_gain), EqConv(cin, cout, 3, gain=SQRT2)
        self.skip = EqConv(cin, cout, 1, gain=in_gain / SQRT2)

    def forward(self, x):
        y = F.avg_pool2d(lrelu(self.conv0(x)), 2)
        return self.skip(F.avg_pool2d(x, 2)) + lrelu(self.conv1(y))    # conv1's gain sqrt(2) / sqrt(2)


class Discriminator(nn.Module):
    def __init__(self, resolution=64, channels=(128, 128, 64, 32, 16), mbstd_group=4, **_):
        super().__init__()
        ch = _widths(channels, resolution)[::-1]            # the image's resolution first
        self.from_rgb = EqConv(3, ch[0], 1, gain=1.0)
        self.blocks = nn.Sequential(*[DBlock(ch[i], ch[i + 1], SQRT2 if i == 0 else 1.0) for i in range(len(ch) - 1)])
        self.group = mbstd_group
        self.final_conv = EqConv(ch[-1] + 1, ch[-1], 3, gain=1.0)
        self.fc = EqLinear(ch[-1] * 16, ch[-1], gain=SQRT2)
        self.out = EqLinear(ch[-1], 1, gain=SQRT2)

    def forward(self, x):
        h = self.blocks(lrelu(self.from_rgb(x)))
        h = lrelu(self.final_conv(minibatch_stddev(h, self.group)))
        return self.out(lrelu(self.fc(h.flatten(1)))).flatten().float()       # logits


class StyleGAN2(Family):
    name = "stylegan2"
    judge = "Lowest D(G(z))."
    presets = PRESETS
    Generator, Discriminator = Generator, Discriminator

    def make_optimizer(self, which):
        """D's Adam is adjusted for the lazy R1: lr and betas to the power k/(k+1) (StyleGAN2, appendix B)."""
        if which == "G" or not self.cfg["r1_gamma"]:
            return super().make_optimizer(which)
        c = self.cfg["r1_every"] / (self.cfg["r1_every"] + 1)
        return torch.optim.Adam(self.D.parameters(), lr=self.base_lr("D") * c,
                                betas=tuple(b ** c for b in self.cfg["betas"]))

    def _fakes(self, n, gen):
        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        if not self.cfg["style_mixing"]:
            return self.G_train(z, noise_gen=gen)
        z2 = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        num_ws = self.G.synthesis.num_ws
        cut = torch.randint(1, num_ws, (n,), generator=gen)
        cut = torch.where(torch.rand(n, generator=gen) < self.cfg["style_mixing"], cut, num_ws)
        return self.G_train(z, noise_gen=gen, mix_z=z2, mix_cutoff=cut.to(self.device))

    def train_step(self, real, gen, step):
        n = real.shape[0]
        with self.autocast():
            fake = self._fakes(n, gen)
            d_real, d_fake = self.d_logits(self.D_train, real, gen), self.d_logits(self.D_train, fake.detach(), gen)
            loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        self.update_d(loss_d, real, gen, step)
        with self.frozen(self.D), self.autocast():
            loss_g = F.softplus(-self.d_logits(self.D, fake, gen)).mean()
        self.update_g(loss_g)
        return {"loss_D": loss_d.item(), "loss_G": loss_g.item(), "D_x": torch.sigmoid(d_real).mean().item(),
                "D_G_z": torch.sigmoid(d_fake).mean().item(), "r1": self.last_r1}


    @staticmethod
    def realism(D, images):
        """Higher is more real: D's probability that each image is real."""
        return torch.sigmoid(D(images).float())
