"""The parts families share: equalised-learning-rate layers, normalisations, minibatch standard deviation,
resolution bookkeeping, and the label embedding and projection that condition any family on a label.

Every family imports its shared parts from here and from nowhere else in `catgan.models`.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SQRT2 = math.sqrt(2)


def levels(resolution: int, lowest: int = 4) -> int:
    """How many 2x steps lead from `lowest` px up to `resolution` px (4 for 64 px from 4 px)."""
    n = round(math.log2(resolution / lowest)) if resolution >= lowest else 0
    if n < 1 or lowest * 2 ** n != resolution:
        raise ValueError(f"resolution must be a power of two >= {2 * lowest}, got {resolution}")
    return n


def per_level(values, n: int) -> list:
    """A value per level, the lowest first: one value for all, or a list whose last entry repeats."""
    values = [values] if isinstance(values, (int, float)) else list(values)
    return [values[min(i, len(values) - 1)] for i in range(n)]


def lrelu(x, inplace=False):
    """Leaky ReLU (slope 0.2) without a gain: consumers fold sqrt(2) into their own weight scales."""
    return F.leaky_relu_(x, 0.2) if inplace else F.leaky_relu(x, 0.2)


def normalize_2nd_moment(x: torch.Tensor) -> torch.Tensor:
    """Each row of an N x D batch scaled to unit mean square (StyleGAN's z normalisation)."""
    return x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


def pixel_norm(x, inplace=False):
    """Each pixel's feature vector divided by its RMS (the growing GAN's). The norm avoids a squared copy
    of x, and in place (no gradient needed: sampling) x is read and written once."""
    scale = (torch.linalg.vector_norm(x, dim=1, keepdim=True).square() / x.shape[1] + 1e-8).rsqrt()
    return x.mul_(scale) if inplace else x * scale


def minibatch_stddev(x, group):
    """Append the mean std over groups of `group` consecutive samples as one feature map."""
    n, c, h, w = x.shape
    g = min(group, n)
    if n % g:
        g = 1
    y = x.float().view(-1, g, c, h, w)
    y = (y.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))      # one value per group
    y = y.to(x.dtype).repeat_interleave(g).view(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, y], 1)


class EqConv(nn.Module):
    """Conv with equalised learning rate: N(0,1) weights scaled by gain/sqrt(fan_in) at run time."""

    def __init__(self, cin, cout, k, gain=SQRT2):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.pad = gain / math.sqrt(cin * k * k), k // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)

    def as_plain(self) -> nn.Module:
        """The same layer with its scale baked in, for sampling and export."""
        return _plain(nn.Conv2d(self.weight.shape[1], self.weight.shape[0], self.weight.shape[2], padding=self.pad),
                      self.weight * self.scale, self.bias)


class EqUpConv(EqConv):
    """Nearest 2x upsampling, then a 3x3 EqConv, computed as one transposed conv: the same images from
    the same weights at under half the FLOPs (the conv runs at the low resolution)."""

    def kernel(self):
        """Each output pixel sees two input rows (and columns) through sums of the 3x3 taps: kernel rows
        w0, w0+w1, w1+w2, w2, flipped because a transposed conv scatters where a conv gathers."""
        w = F.pad(self.weight * self.scale, (1, 1, 1, 1))
        w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
        return w.flip(2, 3).transpose(0, 1)

    def forward(self, x):
        return F.conv_transpose2d(x, self.kernel(), self.bias, stride=2, padding=1)

    def as_plain(self) -> nn.Module:
        return _plain(nn.ConvTranspose2d(self.weight.shape[1], self.weight.shape[0], 4, stride=2, padding=1),
                      self.kernel(), self.bias)


class EqLinear(nn.Module):
    """A dense layer with equalised learning rate and a learning-rate multiplier `lr_mul` (StyleGAN's
    mapping network trains at 0.01 of the rate): weights stored as N(0, 1/lr_mul^2), scaled at run time."""

    def __init__(self, cin, cout, gain=SQRT2, lr_mul=1.0, bias_init=0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale, self.lr_mul = gain * lr_mul / math.sqrt(cin), lr_mul

    def forward(self, x):
        bias = self.bias if self.lr_mul == 1 else self.bias * self.lr_mul
        return F.linear(x, self.weight * self.scale, bias)

    def as_plain(self) -> nn.Module:
        bias = self.bias if self.lr_mul == 1 else self.bias * self.lr_mul
        return _plain(nn.Linear(self.weight.shape[1], self.weight.shape[0]), self.weight * self.scale, bias)


def _plain(layer: nn.Module, weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer.to(weight.device)


# --- conditioning -----------------------------------------------------------------------------------
# A label is a float vector (catgan.labels: the renderer's one-hots side by side, a folder's class, a
# cluster). A conditional generator takes `LabelEmbedding(c)` beside its latent; a conditional
# discriminator adds `Projection(h, c)` to its logit. The weights that carry the label into a net start at
# zero, so a run from an unconditional parent first draws and judges exactly as the parent did. Both
# scale the label's say by a `strength` buffer the trainer sets (train.trainer.Trainer.label_strength):
# the generator's stays 0 until the discriminator has read labels for `cond_g_after_kimg` k images, and
# `--set cond_ramp_kimg=N` ramps both from 0 to 1 over N k images (transitional cGAN, Shahbazi et al. 2022).

class LabelEmbedding(nn.Module):
    """A label vector -> `dim` numbers of unit mean square (stylegan2-ada-pytorch's `embed` + normalise),
    times the conditioning strength. With `into`, also the label's weights in the first layer it feeds
    (`into` outputs, added to that layer's own), kept apart so they learn at the full rate where that layer
    learns slowly (StyleGAN2's mapping: 0.01) and start at zero, so a parent's samples are unchanged."""

    def __init__(self, label_dim: int, dim: int, into: int = 0):
        super().__init__()
        self.embed = EqLinear(label_dim, dim, gain=1.0)
        self.into = EqLinear(dim, into, gain=1.0) if into else None
        if self.into is not None:
            nn.init.zeros_(self.into.weight)
        self.register_buffer("strength", torch.ones(()))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        e = normalize_2nd_moment(self.embed(c.float())) * self.strength
        return e if self.into is None else self.into(e)


class Projection(nn.Module):
    """The projection discriminator's label term (Miyato & Koyama 2018): <h, embed(c)> / sqrt(dim) for D's
    last hidden features h, added to its unconditional logit, times the conditioning strength. The
    embedding starts at zero (D's first judgement is its unconditional one) and learns at 10x the rate:
    from an unconditional StyleGAN2 parent, with the generator held (D's steps alone), a wrong pose cost a
    real sticker 0.24 logits after 300 steps at 1x and 2.0 at 10x; at 0.01x (stylegan2-ada-pytorch's label
    mapping, which starts random, not at zero) it stayed near 0 for 1,500 steps of training, so the
    generator's labels got no signal and drifted as noise."""

    def __init__(self, label_dim: int, dim: int, lr_mul: float = 10.0):
        super().__init__()
        self.embed = EqLinear(label_dim, dim, gain=1.0, lr_mul=lr_mul)
        nn.init.zeros_(self.embed.weight)
        self.register_buffer("strength", torch.ones(()))
        self.norm = 1 / math.sqrt(dim)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return (h.float() * self.embed(c.float())).sum(dim=1) * (self.norm * self.strength)


def set_label_strength(net: nn.Module, strength: float) -> None:
    """Every label embedding and projection in `net` at `strength` (0: unconditional, 1: fully on)."""
    for m in net.modules():
        if isinstance(m, (LabelEmbedding, Projection)):
            m.strength.fill_(strength)


def add_label_layers(net: nn.Module, state: dict) -> dict:
    """An unconditional parent's weights for the conditional `net`, drawing what the parent drew: the label
    layers (embeddings and projections) the parent lacks start as `net` has them (their last weights at
    zero), and a layer whose input grew by the label's embedding keeps its old inputs' weights, its new ones
    at zero. An equalised layer divides its weight by sqrt(fan_in), so its old weights are scaled up by
    sqrt(new fan_in / old fan_in) to compute what they did. Anything else that does not fit is left for
    load_state_dict to name."""
    fresh = net.state_dict()
    owners = dict(net.named_modules())
    label_prefixes = tuple(f"{name}." for name, m in owners.items() if isinstance(m, (LabelEmbedding, Projection)))
    out = dict(state)
    for key, new in fresh.items():
        if key.startswith(label_prefixes) and key not in out:
            out[key] = new
            continue
        old = out.get(key)
        if old is None or old.shape == new.shape or old.dim() < 2:
            continue
        owner = owners.get(key.rpartition(".")[0])
        # the input axis: 1 for a linear or conv weight (out x in ...), 0 for a transposed conv (in x out ...)
        axis = 0 if isinstance(owner, nn.ConvTranspose2d) else 1
        grown = [d for d in range(old.dim()) if old.shape[d] != new.shape[d]]
        if grown != [axis] or old.shape[axis] > new.shape[axis]:
            continue
        widened = torch.zeros_like(new)
        scale = math.sqrt(new.shape[axis] / old.shape[axis]) if isinstance(owner, (EqLinear, EqConv)) else 1.0
        widened.narrow(axis, 0, old.shape[axis]).copy_(old * scale)
        out[key] = widened
    return out
