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
from catgan.models.layers import (SQRT2, EqConv, EqLinear, LabelEmbedding, Projection, levels, lrelu,
                                  minibatch_stddev, normalize_2nd_moment)

PRESETS = {
    # Widths per resolution, 4 px first. A step costs 3.7x the DCGAN `cpu` preset's per image (Intel Xeon, one
    # bf16 thread; bench group "training"); wider at 32-64 px multiplies it (128-128-128-64-32 was 7x G, 14x D).
    # gamma follows the ADA paper's heuristic 0.0002 * res^2 / batch.
    "cpu": dict(latent_dim=128, mapping_layers=4, channels=[128, 128, 64, 32, 16], batch=32, lr=0.0025,
                betas=(0.0, 0.99), r1_gamma=0.0256, r1_every=16, style_mixing=0.9, mbstd_group=4, ema_kimg=10,
                diffaug=""),
}


def _widths(channels, resolution: int) -> list[int]:
    """Channels per resolution from 4 px up (a longer list, e.g. a 64 px preset at 32 px, uses its start)."""
    n = levels(resolution)
    channels = list(channels)
    if len(channels) < n + 1 or any(int(c) != c or c < 1 for c in channels):
        raise ValueError(f"StyleGAN2 channels must be at least {n + 1} positive whole widths (one per resolution "
                         f"from 4 to {resolution} px), got {channels}")
    return [int(c) for c in channels[:n + 1]]


def upsample(x):
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def modulated_conv2d(x, weight, styles, padding=1, demodulate=True, in_place=False):
    """The unfused modulated convolution: input channels scaled by the styles (N x cin), one plain
    convolution for the whole batch, then (demodulate) each output channel scaled by
    d_j = 1 / sqrt(sum_i,k (w_ijk s_i)^2 + eps), which gives it an expected std of 1. `in_place`: the caller
    never reads x again and no gradient is needed (sampling), so x is scaled where it lies."""
    scale = styles.to(x.dtype)[:, :, None, None]
    x = x.mul_(scale) if in_place else x * scale
    x = F.conv2d(x, weight, padding=padding)
    if not demodulate:
        return x
    d = (styles.square() @ weight.float().square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()   # N x cout
    d = d.to(x.dtype)[:, :, None, None]
    return x.mul_(d) if not torch.is_grad_enabled() else x * d


class SynthesisLayer(nn.Module):
    """A modulated, demodulated 3x3 convolution, per-pixel noise of learned strength, bias, leaky ReLU."""

    def __init__(self, cin, cout, w_dim, resolution):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, gain=1.0, bias_init=1.0)   # styles start at 1: a plain conv
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        # a fixed map for sampling, so a seed always gives the same image
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution,
                                                        generator=torch.Generator().manual_seed(resolution)))

    def forward(self, x, w, noise_gen=None, in_place=False):
        styles = self.affine(w).float() * SQRT2            # the input activation's gain folded in
        x = modulated_conv2d(x, self.weight, styles, in_place=in_place)
        n, _, h, wd = x.shape
        noise = (torch.randn(n, 1, h, wd, generator=noise_gen).to(x.device) if noise_gen is not None
                 else self.noise_const) * self.noise_strength
        bias = self.bias[None, :, None, None]
        if not torch.is_grad_enabled():          # in place, noise and bias added as one: a fifth less time
            return lrelu(x.add_((noise + bias).to(x.dtype)), inplace=True)
        return lrelu(x + noise.to(x.dtype) + bias.to(x.dtype))


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to RGB, not demodulated, equalised by 1/sqrt(cin) on both its styles
    and its weight (as the shipped models were trained)."""

    def __init__(self, cin, w_dim):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, gain=1.0, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(3, cin, 1, 1))
        self.bias = nn.Parameter(torch.zeros(3))
        self.gain = 1 / math.sqrt(cin)

    def forward(self, x, w):
        styles = self.affine(w).float() * SQRT2 * self.gain
        return modulated_conv2d(x, self.weight * self.gain, styles, padding=0, demodulate=False) \
            + self.bias[None, :, None, None].to(x.dtype)


class SynthesisBlock(nn.Module):
    """One resolution: the 4 px block starts from a learned constant, every other upsamples its input;
    then its convolutions, and its RGB image added to the upsampled image of the blocks below (StyleGAN2's
    skip generator). It uses num_conv + 1 consecutive ws: one per convolution, and its toRGB shares the
    next block's first."""

    def __init__(self, cin, cout, w_dim, resolution):
        super().__init__()
        first = resolution == 4
        self.const = nn.Parameter(torch.randn(1, cout, 4, 4)) if first else None
        if not first:
            self.conv0 = SynthesisLayer(cin, cout, w_dim, resolution)
        self.conv1 = SynthesisLayer(cout, cout, w_dim, resolution)
        self.torgb = ToRGB(cout, w_dim)
        self.num_conv = 1 if first else 2

    def forward(self, x, rgb, ws, noise_gen=None):
        in_place = not torch.is_grad_enabled()
        if self.const is not None:
            x = self.const.repeat(ws.shape[0], 1, 1, 1)
            x = self.conv1(x, ws[:, 0], noise_gen, in_place)
        else:
            x = self.conv0(upsample(x), ws[:, 0], noise_gen, in_place)
            x = self.conv1(x, ws[:, 1], noise_gen, in_place)
        y = self.torgb(x, ws[:, self.num_conv])               # (x goes on upwards: not overwritten)
        return x, y if rgb is None else upsample(rgb) + y


class SynthesisNetwork(nn.Module):
    def __init__(self, resolution, w_dim, channels):
        super().__init__()
        ch = _widths(channels, resolution)
        self.blocks = nn.ModuleList(SynthesisBlock(ch[max(i - 1, 0)], ch[i], w_dim, 4 * 2 ** i)
                                    for i in range(len(ch)))
        self.num_ws = sum(b.num_conv for b in self.blocks) + 1

    def forward(self, ws, noise_gen=None):
        """ws: N x num_ws x w_dim (W+), or N x w_dim (the same w for every layer)."""
        if ws.dim() == 2:
            ws = ws[:, None].expand(-1, self.num_ws, -1)
        x = rgb = None
        first = 0
        for block in self.blocks:
            x, rgb = block(x, rgb, ws[:, first:first + block.num_conv + 1], noise_gen)
            first += block.num_conv
        return torch.tanh(rgb)


class MappingNetwork(nn.Module):
    """z (and, conditioned, the label's embedding beside it) -> w: dense layers at 0.01 of the rate.

    The first layer sees [z, embed(c)] as stylegan2-ada-pytorch's --cond has it, written as two sums: its
    label half lives in the embedding (`into`), at the full rate and starting at zero. At 0.01 of the rate
    from an unconditional parent, the labels took 100 k images to move the samples by chance-level amounts
    while the discriminator's projection had learnt to check them."""

    def __init__(self, latent_dim, layers, label_dim=0, lr_mul=0.01):
        super().__init__()
        self.embed = LabelEmbedding(label_dim, latent_dim, into=latent_dim) if label_dim else None
        self.fc = nn.ModuleList(EqLinear(latent_dim, latent_dim, gain=1.0, lr_mul=lr_mul) for _ in range(layers))

    def forward(self, z, c=None):
        x = normalize_2nd_moment(z)
        for i, layer in enumerate(self.fc):
            x = layer(x)
            if i == 0 and self.embed is not None:
                x = x + self.embed(c)
            x = lrelu(x) * SQRT2
        return x


def _upgrade_keys(state: dict, prefix: str = "") -> None:
    """Weights saved before the nets were split into the paper's parts (mapping.net.i, synthesis.convs.j,
    synthesis.to_rgb.i) renamed in place to today's (mapping.fc.i, synthesis.blocks.i.conv0/conv1/torgb)."""
    def new_name(key):
        parts = key.split(".")
        if parts[:2] == ["mapping", "net"]:
            return ".".join(["mapping", "fc", *parts[2:]])
        if parts[:2] == ["synthesis", "const"]:
            return "synthesis.blocks.0.const"
        if parts[:2] == ["synthesis", "to_rgb"]:
            return ".".join(["synthesis", "blocks", parts[2], "torgb", *parts[3:]])
        if parts[:2] == ["synthesis", "convs"]:
            j = int(parts[2])
            block, conv = (j + 1) // 2, "conv1" if j % 2 == 0 else "conv0"
            return ".".join(["synthesis", "blocks", str(block), conv, *parts[3:]])
        return key
    for key in [k for k in state if k.startswith(prefix)]:
        renamed = prefix + new_name(key[len(prefix):])
        if renamed != key:
            state[renamed] = state.pop(key)


class Generator(nn.Module):
    latent_space = "w"      # the explorer works in W (catgan.generator), centred on w_avg

    def __init__(self, resolution=64, latent_dim=128, channels=(128, 128, 64, 32, 16), mapping_layers=4,
                 w_avg_beta=0.995, label_dim=0, **_):
        super().__init__()
        if int(mapping_layers) < 1:
            raise ValueError(f"StyleGAN2 mapping_layers must be at least 1, got {mapping_layers}")
        self.mapping = MappingNetwork(latent_dim, int(mapping_layers), int(label_dim))
        self.synthesis = SynthesisNetwork(resolution, latent_dim, channels)
        self.register_buffer("w_avg", torch.zeros(latent_dim))
        self.w_avg_beta = w_avg_beta
        self.register_load_state_dict_pre_hook(lambda module, state, prefix, *_: _upgrade_keys(state, prefix))

    def map(self, z, c=None, psi=1.0):
        """z (and label c) -> w (tracking the mean w in training), pulled towards the mean by psi."""
        w = self.mapping(z, c).float()
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0), 1 - self.w_avg_beta)
        return w if psi == 1 else self.truncate(w, psi)

    def truncate(self, w, psi):
        """The truncation trick: w pulled towards the mean w by psi (a number or a tensor)."""
        return torch.lerp(self.w_avg, w, psi)

    def forward(self, z, c=None, psi=1.0, noise_gen=None, mix_z=None, mix_cutoff=None):
        """Images of latents z (labels c for a conditional net); in training, `mix_z` with per-sample
        `mix_cutoff` (layer index where the second latent's w takes over; num_ws for none) mixes styles."""
        w = self.map(z, c, psi)
        if mix_z is None:
            return self.synthesis(w, noise_gen)
        w2 = self.map(mix_z, c, psi)
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
    def __init__(self, resolution=64, channels=(128, 128, 64, 32, 16), mbstd_group=4, label_dim=0, **_):
        super().__init__()
        ch = _widths(channels, resolution)[::-1]            # the image's resolution first
        self.from_rgb = EqConv(3, ch[0], 1, gain=1.0)
        self.blocks = nn.Sequential(*[DBlock(ch[i], ch[i + 1], SQRT2 if i == 0 else 1.0) for i in range(len(ch) - 1)])
        self.group = mbstd_group
        self.final_conv = EqConv(ch[-1] + 1, ch[-1], 3, gain=1.0)
        self.fc = EqLinear(ch[-1] * 16, ch[-1], gain=SQRT2)
        self.out = EqLinear(ch[-1], 1, gain=SQRT2)
        self.project = Projection(int(label_dim), ch[-1]) if label_dim else None

    def forward(self, x, c=None):
        h = self.blocks(lrelu(self.from_rgb(x)))
        h = lrelu(self.final_conv(minibatch_stddev(h, self.group)))
        h = lrelu(self.fc(h.flatten(1)))
        logits = self.out(h).flatten().float()
        return logits if self.project is None else logits + self.project(h, c)


class StyleGAN2(Family):
    name = "stylegan2"
    judge = "Lowest D(G(z))."
    presets = PRESETS
    charts = [("D outputs", ["D_x", "D_G_z"]), ("Losses", ["loss_D", "loss_G"]), ("R1 (|grad D(x)|²)", ["r1"])]
    curve_keys = ["loss_D", "loss_G", "D_x", "D_G_z", "r1"]
    Generator, Discriminator = Generator, Discriminator

    def make_optimizer(self, which):
        """D's Adam is adjusted for the lazy R1: lr and betas to the power k/(k+1) (StyleGAN2, appendix B)."""
        if which == "G" or not self.cfg["r1_gamma"]:
            return super().make_optimizer(which)
        c = self.cfg["r1_every"] / (self.cfg["r1_every"] + 1)
        return torch.optim.Adam(self.D.parameters(), lr=self.base_lr("D") * c,
                                betas=tuple(b ** c for b in self.cfg["betas"]))

    def _fakes(self, n, gen, c):
        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        if not self.cfg["style_mixing"]:
            return self.G_train(z, c, noise_gen=gen)
        z2 = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        num_ws = self.G.synthesis.num_ws
        cut = torch.randint(1, num_ws, (n,), generator=gen)
        cut = torch.where(torch.rand(n, generator=gen) < self.cfg["style_mixing"], cut, num_ws)
        return self.G_train(z, c, noise_gen=gen, mix_z=z2, mix_cutoff=cut.to(self.device))

    def train_step(self, real, gen, step, labels=None):
        n = real.shape[0]
        c_fake = self.fake_labels(n, gen)
        with self.autocast():
            fake = self._fakes(n, gen, c_fake)
            d_real = self.d_logits(self.D_train, real, gen, labels)
            d_fake = self.d_logits(self.D_train, fake.detach(), gen, c_fake)
            loss_d = F.softplus(d_fake).mean() + F.softplus(-d_real).mean()
        self.update_d(loss_d, real, gen, step, labels)
        with self.frozen(self.D), self.autocast():
            loss_g = F.softplus(-self.d_logits(self.D, fake, gen, c_fake)).mean()
        self.update_g(loss_g)
        return {"loss_D": loss_d.item(), "loss_G": loss_g.item(), "D_x": torch.sigmoid(d_real).mean().item(),
                "D_G_z": torch.sigmoid(d_fake).mean().item(), "r1": self.last_r1}

    def cannot_resume(self, keys):
        if any(k.startswith(("G.mapping.net.", "G.synthesis.convs.")) for k in keys):
            return ("it was saved before StyleGAN2's nets were split into their parts, so its optimiser state no "
                    "longer lines up with them")
        return None

    def fit_weights(self, name, state):
        state = dict(state)
        _upgrade_keys(state)                   # a parent saved before the nets were split into their parts
        return super().fit_weights(name, state)

    @staticmethod
    def realism(D, images):
        """Higher is more real: D's probability that each image is real."""
        return torch.sigmoid(D(images).float())
