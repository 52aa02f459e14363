"""BEGAN (Berthelot et al. 2017) as the Pusheen seed used it.

D is an autoencoder; its L1 reconstruction error is the "energy" of an image.
An equilibrium term k_t keeps D from overpowering G. Convolutions are stride 1,
with nearest-neighbour upsampling in G and 2x2 average pooling in D, leaky ReLU
0.2 and batch norm; each stage repeats its conv 2-4 times with a vanishing
residual: out = c * x + f(x), c annealed from 1 to 0, so training starts as a
ResNet (easy gradients) and ends as plain convolutions.

lr_plateau_kimg > 0 halves both learning rates whenever M_global (averaged over a quarter of that many
images) has not improved by 1% for that many thousand images, as the paper decays its rate when M_global
stalls; on top of the fixed halving every lr_halve_every steps, never below lr_floor. Off (0) by default.

cs_alpha > 0 adds BEGAN-CS's constraint (Chang et al. 2018) to D's loss: alpha * mean |Enc_D(G(z)) - z|,
so D's code of a fake must name the latent it came from, against the collapse that comes after a period
of training. It needs D's code as wide as z (hidden == latent_dim).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from catgan.models.base import Family
from catgan.models.layers import LabelEmbedding, levels, per_level

PRESETS = {
    # Channels halve per stage towards the image: the seed's order (32 at 8x8 ... 256 at 64x64)
    # costs ~10x more FLOPs than a 2-core CPU affords. 16 at 64 px keeps G at 0.21 GFLOP per
    # image, so an 8x8 grid samples in about 0.1 s on a 2-core AVX2 CPU.
    # D mirrors G's widths (64 at 8x8 ... 16 at 64x64): 0.15 GFLOP per forward instead of 0.42 with a
    # flat 32, so a CPU-minute sees 2x the images; in 10-minute pilots it scored sticker FD 65 vs 384
    # (scripts/pilots_began.sh). The lr holds for 1.6 M images (50k steps) before it halves.
    "cpu": dict(latent_dim=100, g_channels=[128, 64, 32, 16], d_channels=[64, 32, 16, 16], hidden=64,
                repeats=2, batch=32, lr=2e-4, lr_floor=2e-5, lr_halve_every=50000, betas=(0.5, 0.999),
                ema_kimg=10,
                # On the stickers, gamma 0.5 leaves k_t pinned at 0 (L_fake stays above 0.5 L_real, so D
                # never pushes back and G settles on blurry blobs), and at 0.75 G collapsed onto one pose
                # in a long run. gamma 1.0 (the paper's "more diversity" end) won the 10-minute pilots:
                # sticker FD 50 vs 65, pose×item coverage 0.47 vs 0.27. lambda_k is 10x the paper's so k
                # reaches equilibrium within a CPU budget.
                gamma=1.0, lambda_k=0.01, vanish_steps=2000),
    "paper": dict(latent_dim=100, g_channels=[32, 64, 128, 256], d_channels=64, hidden=128, repeats=3,
                  batch=16, lr=1e-4, lr_floor=2e-5, lr_halve_every=30000, betas=(0.5, 0.999),
                  gamma=0.5, lambda_k=0.001, vanish_steps=16000),
}
BASE = 8   # G starts from an 8x8 map; D encodes down to 8x8


def _act(name):
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    if name == "elu":
        return nn.ELU()
    raise ValueError(f"unknown activation {name!r}; choose 'lrelu' or 'elu'")


def _norm(name, ch):
    if name == "batch":
        return nn.BatchNorm2d(ch)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {name!r}; choose 'batch' or 'none'")


class VanishingResidual(nn.Module):
    """`repeats` conv-norm-activation layers, each with a skip connection whose weight c fades to 0."""

    def __init__(self, cin, cout, repeats, norm="batch", act="lrelu"):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin if i == 0 else cout, cout, 3, 1, 1), _norm(norm, cout), _act(act))
            for i in range(repeats))
        self.register_buffer("c", torch.ones(()))

    def forward(self, x):
        c = float(self.c)                   # once vanished (c = 0), skip the add altogether
        for layer in self.layers:
            y = layer(x)
            x = y + c * x if c and x.shape == y.shape else y
        return x


def fade_residuals(net: nn.Module, step: int, vanish_steps: int) -> None:
    """Every vanishing residual's skip weight at `step`: 1 at the start, 0 from `vanish_steps` on."""
    c = max(0.0, 1.0 - step / max(1, vanish_steps))
    for m in net.modules():
        if isinstance(m, VanishingResidual):
            m.c.fill_(c)


def _stages(resolution):
    """Resolutions from 8x8 up to the image's (4 for 64 px)."""
    return levels(resolution, lowest=BASE) + 1


class Decoder(nn.Module):
    """latent (and, conditioned, the label's embedding beside it) -> image; G, and the second half of D."""

    def __init__(self, resolution, latent_dim, channels, repeats, out_act, norm="batch", act="lrelu", label_dim=0):
        super().__init__()
        n = _stages(resolution)
        ch = per_level(channels, n)
        self.embed = LabelEmbedding(label_dim, latent_dim) if label_dim else None
        self.fc = nn.Linear(latent_dim * (2 if label_dim else 1), ch[0] * BASE * BASE)
        self.stages = nn.ModuleList(VanishingResidual(ch[max(i - 1, 0)], ch[i], repeats, norm, act)
                                    for i in range(n))
        self.to_rgb = nn.Conv2d(ch[-1], 3, 3, 1, 1)
        self.out_act = out_act

    def forward(self, z, c=None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(c)], dim=1)
        x = self.fc(z).view(z.shape[0], -1, BASE, BASE)
        for i, stage in enumerate(self.stages):
            if i > 0:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = stage(x)
        x = self.to_rgb(x)
        return torch.tanh(x) if self.out_act else x


class Generator(Decoder):
    def __init__(self, resolution=64, latent_dim=100, g_channels=(128, 64, 32, 16), repeats=2, norm="batch",
                 act="lrelu", label_dim=0, **_):
        super().__init__(resolution, latent_dim, g_channels, repeats, out_act=True, norm=norm, act=act,
                         label_dim=label_dim)


class Discriminator(nn.Module):
    """Autoencoder: image -> `hidden` code -> image. `d_channels` per stage, 8x8 first, as for G.
    Conditioned, the label reaches both halves: its embedding is added to the code the encoder gives, and
    the decoder takes another beside the code, so D reconstructs a cat as the kind it was asked to be."""

    def __init__(self, resolution=64, d_channels=32, hidden=64, repeats=2, norm="batch", act="lrelu",
                 d_norm=None, label_dim=0, **_):
        super().__init__()
        norm = d_norm or norm                        # D's own normalisation, when set, else G's
        n = _stages(resolution)
        ch = per_level(d_channels, n)[::-1]          # the encoder walks from the image down to 8x8
        self.from_rgb = nn.Sequential(nn.Conv2d(3, ch[0], 3, 1, 1), _act(act))
        self.enc = nn.ModuleList(VanishingResidual(ch[max(i - 1, 0)], ch[i], repeats, norm, act) for i in range(n))
        self.fc = nn.Linear(ch[-1] * BASE * BASE, hidden)
        self.code_label = LabelEmbedding(label_dim, hidden, into=hidden) if label_dim else None
        self.dec = Decoder(resolution, hidden, d_channels, repeats, out_act=False, norm=norm, act=act,
                           label_dim=label_dim)

    def encode(self, x, c=None):
        h = self.from_rgb(x)
        for i, stage in enumerate(self.enc):
            h = stage(h)
            if i < len(self.enc) - 1:
                h = F.avg_pool2d(h, 2)
        code = self.fc(h.flatten(1))
        return code if self.code_label is None else code + self.code_label(c)

    def forward(self, x, c=None):
        return self.dec(self.encode(x, c), c)


def recon_error(D, x, c=None):
    """Per-image L1 reconstruction error: BEGAN's L(v)."""
    return ((D(x) if c is None else D(x, c)).float() - x.float()).abs().mean(dim=(1, 2, 3))


class BEGAN(Family):
    name = "began"
    judge = "Highest autoencoder reconstruction error."
    presets = PRESETS
    charts = [("Reconstruction losses", ["L_real", "L_fake"]), ("Balance k_t", ["k_t"]),
              ("Convergence M_global", ["M_global"])]
    curve_keys = ["k_t", "M_global", "L_real", "L_fake", "lr_G"]
    Generator, Discriminator = Generator, Discriminator

    def __init__(self, cfg, *a, **kw):
        cfg = {"cs_alpha": 0.0, "lr_d": None, "lr_plateau_kimg": 0, **cfg}   # runs from before these had none
        if cfg["cs_alpha"] and cfg["hidden"] != cfg["latent_dim"]:
            raise ValueError(f"BEGAN-CS (cs_alpha) needs D's code as wide as z: set hidden={cfg['latent_dim']} "
                             f"(it is {cfg['hidden']})")
        super().__init__(cfg, *a, **kw)
        if self.cfg["cs_alpha"] and self.ddp:          # its encoder pass goes around the DDP wrapper
            raise ValueError("BEGAN-CS (cs_alpha) trains in a single process, not under torchrun")
        self.k = 0.0
        self.plateau = {"m": None, "best": None, "best_images": 0, "halvings": 0}

    def begin_step(self, step):
        for net in self.nets.values():
            fade_residuals(net, step, self.cfg["vanish_steps"])
        halved = 0.5 ** (step // self.cfg["lr_halve_every"] + self.plateau["halvings"])
        for which, opt in self.opt.items():
            for group in opt.param_groups:
                group["lr"] = max(self.cfg["lr_floor"], self.base_lr(which) * halved)

    def train_step(self, real, gen, step, labels=None):
        z = torch.randn(real.shape[0], self.cfg["latent_dim"], generator=gen).to(self.device)
        c = self.fake_labels(real.shape[0], gen)
        with self.autocast():
            fake = self.G_train(z) if c is None else self.G_train(z, c)
            l_real = recon_error(self.D_train, self.augment(real, gen), labels).mean()
            seen = self.augment(fake.detach(), gen)
            if self.cfg["cs_alpha"]:
                code = self.D.encode(seen, c)            # one encoder pass serves both terms
                l_fake = (self.D.dec(code, c).float() - seen.float()).abs().mean()
                cs = (code.float() - z).abs().mean()
            else:
                l_fake, cs = recon_error(self.D_train, seen, c).mean(), None
            loss_d = l_real - self.k * l_fake + (self.cfg["cs_alpha"] * cs if cs is not None else 0.0)
        self.opt["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt["D"].step()
        with self.frozen(self.D), self.autocast():
            loss_g = recon_error(self.D, self.augment(fake, gen), c).mean()
        self.update_g(loss_g)
        lr_, lf = l_real.item(), l_fake.item()
        balance = self.cfg["gamma"] * lr_ - lf
        self.k = min(1.0, max(0.0, self.k + self.cfg["lambda_k"] * balance))
        out = {"L_real": lr_, "L_fake": lf, "loss_G": loss_g.item(), "k_t": self.k, "M_global": lr_ + abs(balance)}
        if self.cfg["lr_plateau_kimg"]:
            self._watch_plateau(out["M_global"], (step + 1) * real.shape[0])
        return {**out, "cs": cs.item()} if cs is not None else out

    def reconstruct(self, x):
        """D's reconstructions of images, with its running batch statistics (eval mode), for the quality
        hook's held-out reconstruction error."""
        was = self.D.training
        self.D.eval()
        try:
            return self.D(x.to(self.device))
        finally:
            self.D.train(was)

    def _watch_plateau(self, m_global: float, images: int) -> None:
        """M_global's running mean; a halving when it has not improved by 1% for lr_plateau_kimg k images."""
        p, window = self.plateau, self.cfg["lr_plateau_kimg"] * 1000
        beta = 0.5 ** (self.cfg["batch"] / (window / 4))
        p["m"] = m_global if p["m"] is None else beta * p["m"] + (1 - beta) * m_global
        if p["best"] is None or p["m"] < 0.99 * p["best"]:
            p["best"], p["best_images"] = p["m"], images
        elif images - p["best_images"] >= window:
            p["halvings"] += 1
            p["best"], p["best_images"] = p["m"], images

    def extra_state(self):
        return {"k": self.k, "plateau": dict(self.plateau)}

    def load_extra_state(self, state):
        self.k = float(state.get("k", 0.0))
        self.plateau = {**self.plateau, **state.get("plateau", {})}

    @staticmethod
    def realism(D, images):
        """Higher is more real: minus D's reconstruction error."""
        return -recon_error(D, images)
