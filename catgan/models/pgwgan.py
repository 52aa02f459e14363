"""Progressive-growing WGAN-GP (Karras et al. 2018) as the cat-face seed used it.

Both nets grow from 4x4 to the target resolution; each new block fades in with
alpha 0 -> 1. Pixel norm, equalised learning rate, minibatch stddev, gradient
penalty 10, drift 0.001, and an EMA copy of G (shared: base.Family) that sampling uses.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from catgan.models.base import Family
from catgan.models.layers import (EqConv, EqLinear, EqUpConv, LabelEmbedding, Projection, levels, lrelu,
                                  minibatch_stddev, per_level, pixel_norm)

PRESETS = {
    # Per-level lists run from 4x4 up (a short list repeats its last entry).
    # Channels: 16 at 64 px keeps G at 0.14 GFLOP per image (0.21 before each block's upsampling and
    # first conv became one transposed conv; 32 at 64 px costs 0.21) and the critic as cheap.
    # phase_kimg: thousands of images (per process) for each fade-in and each stable phase of a level;
    # short where a level is cheap and easy, long at 32-64 px, where the cats are drawn. The paper
    # spends 600 k on each; reimplementations report nothing under about 150 k.
    # gp_every: the penalty every step up to 16 px, where it is cheap, lazily (weight x interval) from
    # 32 px. A pilot forked from the long run at 32 px (15 minutes each, one thread, AVX-512 bf16): every
    # 4 steps trained 1.8x the images and scored sticker FD 21 against 358 for every step, whose samples
    # had drifted to a tinted background.
    "cpu": dict(latent_dim=128, channels=[128, 128, 64, 32, 16], batch=32, lr=1e-3, betas=(0.0, 0.99),
                phase_kimg=[20, 20, 40, 80, 150], gp_weight=10.0, gp_every=[1, 1, 1, 4, 4], drift=0.001,
                ema_kimg=10, group=4),
    "paper": dict(latent_dim=512, channels=[512, 512, 512, 512, 256, 128, 64], batch=16, lr=1e-3,
                  betas=(0.0, 0.99), phase_kimg=[600], gp_weight=10.0, gp_every=1, drift=0.001, ema_kimg=11.1,
                  group=4),
}


def n_levels(resolution: int) -> int:
    """How many resolutions the nets grow through, 4x4 (level 0) to `resolution` (5 for 64 px)."""
    return levels(resolution) + 1


def schedule(images, phases):
    """(level, alpha) after `images` images: level 0 holds for phases[0] images; each later level fades
    in over phases[level] images, then holds as long; the last level runs on."""
    start = phases[0]
    if images < start:
        return 0, 1.0
    for level in range(1, len(phases)):
        if images < start + phases[level]:
            return level, (images - start) / phases[level]
        start += phases[level]
        if images < start + phases[level] or level == len(phases) - 1:
            return level, 1.0
        start += phases[level]
    return 0, 1.0                                 # a single level: nothing to grow


def images_to_full_resolution(cfg: dict) -> int:
    """Images (per process) until the last level has faded in: when the model draws at full size."""
    phases = per_level(cfg["phase_kimg"], n_levels(cfg["resolution"]))
    return round(1000 * (phases[0] + 2 * sum(phases[1:-1]) + phases[-1]))


class Generator(nn.Module):
    def __init__(self, resolution=64, latent_dim=128, channels=(128, 128, 64, 32, 16), label_dim=0, **_):
        super().__init__()
        n = n_levels(resolution)
        ch = per_level(channels, n)
        self.embed = LabelEmbedding(label_dim, latent_dim) if label_dim else None   # beside the normalised z
        self.fc = EqLinear(latent_dim * (2 if label_dim else 1), ch[0] * 16, gain=math.sqrt(2) / 4)
        self.conv0 = EqConv(ch[0], ch[0], 3)
        self.blocks = nn.ModuleList(nn.ModuleList([EqUpConv(ch[i - 1], ch[i], 3), EqConv(ch[i], ch[i], 3)])
                                    for i in range(1, n))       # each block doubles the size in its first conv
        self.to_rgb = nn.ModuleList(EqConv(c, 3, 1, gain=1.0) for c in ch)
        self.n_levels = n

    def forward(self, z, c=None, level=None, alpha=1.0):
        level = self.n_levels - 1 if level is None else level
        inplace = not torch.is_grad_enabled()      # each layer's output is new, so it may be overwritten

        def act(x):
            return pixel_norm(lrelu(x, inplace), inplace)

        x = pixel_norm(z)
        if self.embed is not None:
            x = torch.cat([x, self.embed(c)], dim=1)
        x = act(self.fc(x).view(z.shape[0], -1, 4, 4))
        x = act(self.conv0(x))
        prev = x
        for block in self.blocks[:level]:
            prev = x
            for conv in block:
                x = act(conv(x))
        rgb = self.to_rgb[level](x)
        if level > 0 and alpha < 1.0:
            low = F.interpolate(self.to_rgb[level - 1](prev), scale_factor=2, mode="nearest")
            rgb = torch.lerp(low, rgb, alpha)
        return rgb


class Discriminator(nn.Module):
    """The critic; `d_channels`, when set, are its own channels per level (else G's), e.g. wider at 64 px,
    where fur and faces are judged."""

    def __init__(self, resolution=64, channels=(128, 128, 64, 32, 16), group=4, d_channels=None, label_dim=0, **_):
        super().__init__()
        n = n_levels(resolution)
        ch = per_level(d_channels or channels, n)
        self.from_rgb = nn.ModuleList(EqConv(3, c, 1) for c in ch)
        self.blocks = nn.ModuleList(nn.ModuleList([EqConv(ch[i], ch[i], 3), EqConv(ch[i], ch[i - 1], 3)])
                                    for i in range(1, n))
        self.final_conv = EqConv(ch[0] + 1, ch[0], 3)
        self.final_fc = EqLinear(ch[0] * 16, ch[0])
        self.out = EqLinear(ch[0], 1, gain=1.0)
        self.project = Projection(label_dim, ch[0]) if label_dim else None
        self.n_levels, self.group = n, group

    def forward(self, x, c=None, level=None, alpha=1.0):
        level = self.n_levels - 1 if level is None else level
        h = lrelu(self.from_rgb[level](x))
        for i in range(level, 0, -1):
            for conv in self.blocks[i - 1]:
                h = lrelu(conv(h))
            h = F.avg_pool2d(h, 2)
            if i == level and alpha < 1.0:
                low = lrelu(self.from_rgb[level - 1](F.avg_pool2d(x, 2)))
                h = torch.lerp(low, h, alpha)
        h = lrelu(self.final_conv(minibatch_stddev(h, self.group)))
        h = lrelu(self.final_fc(h.flatten(1)))
        return self.out(h).flatten() if self.project is None else self.out(h).flatten() + self.project(h, c)


class PGWGAN(Family):
    name = "pgwgan"
    judge = "Lowest critic score."
    presets = PRESETS
    charts = [("Critic", ["critic_loss", "wasserstein"]), ("Gradient penalty", ["gp"]), ("Resolution", ["resolution"])]
    curve_keys = ["resolution", "wasserstein", "gp", "drift"]

    @classmethod
    def form_note(cls, cfg):
        grown = images_to_full_resolution(cfg) / cfg["batch"]
        return (f"This preset grows from 4 to {cfg['resolution']} px and draws at full size after "
                f"{grown:,.0f} steps; fewer steps stop it at a smaller size.")
    Generator, Discriminator = Generator, Discriminator

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.level, self.alpha = 0, 1.0
        self.last_gp = None
        n, cfg = self.G.n_levels, self.cfg
        if "phase_kimg" in cfg:
            self.phases = [round(k * 1000) for k in per_level(cfg["phase_kimg"], n)]
        else:                                     # runs from before phases were counted in images
            self.phases = [cfg["phase_steps"] * cfg["batch"]] * n
        self.gp_every = per_level(cfg.get("gp_every", 1), n)

    def begin_step(self, step):
        level, self.alpha = schedule(step * self.cfg["batch"], self.phases)
        if step > 0 and level != schedule((step - 1) * self.cfg["batch"], self.phases)[0]:
            self.opt = {k: self.make_optimizer(k) for k in ("G", "D")}    # fresh Adam per resolution
        self.level = level

    def sample_kwargs(self):
        return {"level": self.level, "alpha": self.alpha}

    def _reals(self, real):
        """Real images at the current level, faded exactly as G's output is."""
        size = 4 * 2 ** self.level
        x = F.adaptive_avg_pool2d(real, size) if real.shape[-1] != size else real
        if self.level > 0 and self.alpha < 1.0:
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
            x = torch.lerp(low, x, self.alpha)
        return x

    def train_step(self, real, gen, step, labels=None):
        n, kw = real.shape[0], self.sample_kwargs()
        real = self._reals(real)
        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        eps = torch.rand(n, 1, 1, 1, generator=gen).to(self.device)
        c = self.fake_labels(n, gen)
        # the critic's labels: the reals' and the fakes' side by side; the penalty's blends take the reals'
        both = None if c is None else torch.cat([labels, c])
        with torch.no_grad(), self.autocast():
            fake = self.G(z, c, **kw)
        # Lazy penalty (every `gp_every` steps, weight scaled up to match): the double backward
        # through the critic costs ~3x a plain step on a CPU. gp_every=1 is the paper's recipe.
        every = self.gp_every[self.level]
        penalise = step % every == 0
        real, fake = self.augment(real, gen), self.augment(fake.to(real.dtype), gen)
        # One critic pass over real | fake (groups for minibatch stddev never straddle them); the blend
        # has its own, since in one with them the penalty's double backward would run over all three.
        with self.autocast():
            out = self.D_train(torch.cat([real, fake]), both, **kw).float()
        d_real, d_fake = out[:n], out[n:]
        gp = torch.zeros((), device=self.device)
        if penalise:
            x_hat = torch.lerp(real, fake, eps).requires_grad_(True)
            with self.autocast():
                score = self.D_train(x_hat, labels, **kw).float()
            grad, = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
            grad_norm = (grad.float().pow(2).sum(dim=(1, 2, 3)) + 1e-12).sqrt()
            gp = (grad_norm - 1).pow(2).mean()
        drift = d_real.pow(2).mean()
        wdist = d_real.mean() - d_fake.mean()
        loss_d = -wdist + self.cfg["gp_weight"] * every * gp + self.cfg["drift"] * drift
        self.opt["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt["D"].step()

        z = torch.randn(n, self.cfg["latent_dim"], generator=gen).to(self.device)
        with self.frozen(self.D), self.autocast():
            loss_g = -self.D(self.augment(self.G_train(z, c, **kw), gen), c, **kw).float().mean()
        self.update_g(loss_g)
        m = {"critic_loss": loss_d.item(), "wasserstein": wdist.item(), "drift": drift.item(),
             "loss_G": loss_g.item(), "resolution": 4 * 2 ** self.level, "alpha": self.alpha}
        if penalise:
            self.last_gp = gp.item()
        if self.last_gp is not None:          # the latest penalty, so a log every N steps always shows it
            m["gp"] = self.last_gp
        return m

    def extra_state(self):
        return {"level": self.level, "alpha": self.alpha}

    def load_extra_state(self, state):
        self.level, self.alpha = int(state.get("level", 0)), float(state.get("alpha", 1.0))

    def fit_weights(self, name, state):
        """A narrower trained net's weights, widened to this config's channels (after Net2Net, Chen et al.
        2016) so that the wider nets draw and judge exactly as before: each new filter starts at zero, so
        its channel is 0, and the old filters read the new channels through a tenth of a fresh init,
        which passes the new filters a gradient. Equalised lr divides a weight by sqrt(fan_in), so D's
        old weights are scaled up to match; G's need not be, as the pixel norm before each of its convs
        scales the old channels up by the same factor (the new ones being 0)."""
        state = super().fit_weights(name, state)         # a conditional run's label layers first
        fresh = self.nets[name].state_dict()
        if all(k not in state or state[k].shape == v.shape for k, v in fresh.items()):
            return state
        first = "conv0.weight" if name != "D" else "final_conv.weight"
        if first in state and state[first].shape != fresh[first].shape:
            raise ValueError("the 4x4 level's channels cannot change in a run started from another model; "
                             "widen only the levels above it")
        out = {}
        for key, new in fresh.items():
            old = state.get(key)
            if old is None:
                continue                                  # load_state_dict names what is missing
            if old.shape == new.shape:
                out[key] = old
                continue
            if old.dim() != new.dim() or any(o > n for o, n in zip(old.shape, new.shape)):
                raise ValueError(f"{key}: {tuple(old.shape)} -> {tuple(new.shape)}; channels can only widen")
            cout = old.shape[0]
            w = torch.zeros_like(new)
            if old.dim() == 1:
                w[:cout] = old
            else:
                cin = old.shape[1]
                w[:cout, :cin] = old * (math.sqrt(new.shape[1] / cin) if name == "D" else 1.0)
                w[:cout, cin:] = 0.1 * new[:cout, cin:]
            out[key] = w
        return out

    @staticmethod
    def realism(D, images):
        """Higher is more real: the critic's score."""
        return D(images).float()
