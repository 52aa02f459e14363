"""What every GAN family shares: building nets from a config, optimisers, DDP wrapping, state."""
from __future__ import annotations

import contextlib
import copy

import torch
import torch.nn as nn

from catgan.models import diffaug
from catgan.models.layers import add_label_layers


class Family:
    """A GAN family: its nets (G, D and maybe an EMA G), optimisers, and one training step.

    Subclasses set `name`, `presets`, `Generator`, `Discriminator`, and implement
    `train_step(real, gen, step, labels) -> dict of floats` and `realism(D, images)`. Every image D sees in
    training goes through `augment` (DiffAugment, config key `diffaug`; off when empty).

    A conditional run (config `label_dim` > 0, `labels`: the catgan.labels space) gives its nets a label
    vector c beside z and beside the image; `labels` in a step are the real images' labels, and its fakes
    take those of random training images (`fake_labels`), so the generated mix follows the data's.
    """
    name = ""
    presets: dict = {}
    judge = ""                    # how `realism` ranks samples, in words (the Failure gallery says it)
    reconstruct = None            # a D that reconstructs images (BEGAN's autoencoder) offers it as a method
    last_r1 = 0.0                 # the latest lazy R1 value, reported in every step's metrics
    EMA_RAMPUP = 0.05             # early on, the half-life is at most 5% of the images seen (StyleGAN2-ADA)
    label_table: torch.Tensor | None = None    # the training images' label vectors (a conditional run's)
    # what the family logs, as the Training page, Compare runs and the card show it:
    charts: list[tuple[str, list[str]]] = []   # (title, logged keys) per chart
    curve_keys: list[str] = []                 # the card's training curve (averaged per stretch)

    @classmethod
    def form_note(cls, cfg: dict) -> str | None:
        """A line for the Training page's form about this config (the growing GAN: when it is full size)."""
        return None

    def __init__(self, cfg: dict, device="cpu", ddp: bool = False, bf16: bool = False):
        self.cfg, self.device, self.ddp, self.bf16 = dict(cfg), torch.device(device), ddp, bf16
        self.policy = diffaug.parse(self.cfg.get("diffaug", ""))
        self.nets = self.build_nets()
        for m in self.nets.values():
            m.to(self.device).to(memory_format=torch.channels_last)
        self.opt = {k: self.make_optimizer(k) for k in ("G", "D")}
        self.G_train, self.D_train = self.wrap(self.G), self.wrap(self.D)

    # --- construction -------------------------------------------------
    @classmethod
    def config(cls, preset: str = "cpu", **overrides) -> dict:
        if preset not in cls.presets:
            raise ValueError(f"unknown preset '{preset}' for {cls.name}; choose from {sorted(cls.presets)}")
        cfg = {**cls.presets[preset], "preset": preset}
        cfg.update({k: v for k, v in overrides.items() if v is not None})
        return cfg

    def build_nets(self) -> dict[str, nn.Module]:
        nets = {"G": self.Generator(**self.cfg), "D": self.Discriminator(**self.cfg)}
        if self.cfg.get("ema_kimg"):
            nets["G_ema"] = copy.deepcopy(nets["G"]).requires_grad_(False)
        return nets

    @property
    def conditional(self) -> bool:
        return bool(self.cfg.get("label_dim"))

    def fake_labels(self, n: int, gen: torch.Generator) -> torch.Tensor | None:
        """Labels for n fakes: those of n random training images (None for an unconditional run)."""
        if not self.conditional:
            return None
        if self.label_table is None:
            raise ValueError("a conditional run needs its training images' labels (Family.label_table)")
        return self.label_table[torch.randint(len(self.label_table), (n,), generator=gen)].to(self.device)

    @property
    def sample_net(self) -> str:
        """The net samples come from: the EMA generator where there is one."""
        return "G_ema" if "G_ema" in self.nets else "G"

    @torch.no_grad()
    def update_ema(self, images_seen: int, batch: int) -> None:
        """G_ema <- G with a half-life of `ema_kimg` thousand images (shorter early on: the ramp-up)."""
        if "G_ema" not in self.nets:
            return
        half_life = min(self.cfg["ema_kimg"] * 1000, images_seen * self.EMA_RAMPUP)
        beta = 0.5 ** (batch / max(half_life, 1e-8))
        for p_ema, p in zip(self.nets["G_ema"].parameters(), self.G.parameters()):
            p_ema.lerp_(p, 1.0 - beta)
        for b_ema, b in zip(self.nets["G_ema"].buffers(), self.G.buffers()):
            b_ema.copy_(b)

    def base_lr(self, which: str) -> float:
        """The net's learning rate before any schedule: D's own `lr_d` where a config sets one (two
        time-scales), else the shared `lr`."""
        return self.cfg.get("lr_d") or self.cfg["lr"] if which == "D" else self.cfg["lr"]

    def make_optimizer(self, which: str) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.nets[which].parameters(), lr=self.base_lr(which), betas=tuple(self.cfg["betas"]))

    def wrap(self, net: nn.Module) -> nn.Module:
        if not self.ddp:
            return net
        from torch.nn.parallel import DistributedDataParallel
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids, find_unused_parameters=True)

    @property
    def G(self):
        return self.nets["G"]

    @property
    def D(self):
        return self.nets["D"]

    @contextlib.contextmanager
    def frozen(self, net: nn.Module):
        """G's step through D: D's weight gradients would be thrown away, so skip computing them."""
        net.requires_grad_(False)
        try:
            yield
        finally:
            net.requires_grad_(True)

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """What D sees of a batch: DiffAugment's random shift and recolour, or the batch itself when off."""
        return diffaug.augment(x, self.policy, gen) if self.policy else x

    def d_logits(self, net: nn.Module, x: torch.Tensor, gen: torch.Generator, c=None) -> torch.Tensor:
        """A logit-scoring D's view of a batch (augmented; with its labels where conditional), in fp32."""
        x = self.augment(x, gen)
        return (net(x) if c is None else net(x, c)).float()

    def update_d(self, loss: torch.Tensor, real: torch.Tensor, gen: torch.Generator, step: int, c=None) -> None:
        """D's optimiser step on `loss`, the lazy R1 penalty's gradient added every `r1_every` steps where the
        config sets `r1_gamma` (its value kept in last_r1 for the logs)."""
        self.opt["D"].zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.get("r1_gamma") and step % self.cfg["r1_every"] == 0:
            self.last_r1 = self.lazy_r1(real, gen, c)
        self.opt["D"].step()

    def update_g(self, loss: torch.Tensor) -> None:
        self.opt["G"].zero_grad(set_to_none=True)
        loss.backward()
        self.opt["G"].step()

    def lazy_r1(self, real: torch.Tensor, gen: torch.Generator, c=None) -> float:
        """Adds the R1 penalty's gradient, gamma/2 * |grad D(x)|^2 on reals, to D's, its weight multiplied by
        the interval `r1_every` it is computed at (lazy regularisation, StyleGAN2); returns the mean
        squared gradient norm. A double backward, so it goes around DDP's wrapper (whose reducer expects
        one backward per forward) and averages its own gradients over the processes."""
        x = real.detach().requires_grad_(True)
        with self.autocast():
            d = self.d_logits(self.D, x, gen, c)
        (grad,) = torch.autograd.grad(d.sum(), x, create_graph=True)
        norm2 = grad.float().square().sum(dim=(1, 2, 3)).mean()
        params = [p for p in self.D.parameters() if p.requires_grad]
        grads = torch.autograd.grad(norm2 * (self.cfg["r1_gamma"] / 2 * self.cfg["r1_every"]), params,
                                    allow_unused=True)
        for p, g in zip(params, grads):
            if g is None:
                continue
            if self.ddp:
                torch.distributed.all_reduce(g)
                g /= torch.distributed.get_world_size()
            p.grad = g if p.grad is None else p.grad + g
        return norm2.item()

    def autocast(self):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # --- the parts a family may override -------------------------------
    def begin_step(self, step: int) -> None:
        """Schedules that depend only on the step (fade-in, annealing, lr decay)."""

    def extra_state(self) -> dict:
        """JSON-able training state beyond weights and optimisers (e.g. BEGAN's k_t)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def fit_weights(self, name: str, state: dict) -> dict:
        """A trained net's weights for this run's net `name` (--init-from); a family whose nets can grow
        (the growing WGAN widens) adapts them here. A conditional run from an unconditional parent keeps
        the parent's weights and adds its label layers (`layers.add_label_layers`), whose last weights
        start at zero, so at first the nets draw and judge as the parent's did."""
        if self.conditional:
            return add_label_layers(self.nets[name], state)
        return state

    def cannot_resume(self, keys) -> str | None:
        """Why a training checkpoint with these tensor names cannot be resumed by this code (its optimiser
        state no longer lines up with the nets), or None."""
        return None

    def sample_kwargs(self) -> dict:
        """Arguments the sampling net needs besides z (e.g. the growing GAN's level and alpha)."""
        return {}

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int, labels=None) -> dict:
        raise NotImplementedError

    @staticmethod
    def realism(D: nn.Module, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
