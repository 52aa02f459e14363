"""`load_generator`: a checkpoint -> a ready-to-sample generator (eval mode, best device)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from catgan import latent
from catgan.device import pick_device
from catgan.labels import LabelError, LabelSpace
from catgan.models import get_family
from catgan.pixels import from_uint8, to_uint8
from catgan.checkpoint import CheckpointError, load_checkpoint


LABEL_SEED_OFFSET = 7_919          # a seed's labels come from their own stream, not its z's
CENTRE_SEED = 424_242              # the latents a conditional model's origin averages


def fuse_conv_bn(net: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that directly follows a conv (in a Sequential) into that conv.

    The images stay the same up to float rounding; sampling skips one memory-bound pass per layer.
    """
    for module in net.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            conv, bn = module[i], module[i + 1]
            if isinstance(bn, nn.BatchNorm2d) and isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)):
                module[i] = fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, nn.ConvTranspose2d))
                module[i + 1] = nn.Identity()
    return net


def bake(net: nn.Module) -> nn.Module:
    """Swap every layer that has a plain equivalent (`as_plain`: the growing WGAN's equalised-lr layers,
    their scale baked into the weights) for it: the same images, no per-call scaling, a plain ONNX graph."""
    for name, child in net.named_children():
        if hasattr(child, "as_plain"):
            setattr(net, name, child.as_plain())
        else:
            bake(child)
    return net


def prepare_for_sampling(net: nn.Module, device: torch.device) -> nn.Module:
    """Eval mode, batch norm folded, layers baked, channels-last (oneDNN's fast layout on CPUs: about 2x
    here); no weight gradients (inversion still differentiates through it with respect to the latent)."""
    net = bake(fuse_conv_bn(net.eval())).requires_grad_(False)
    return net.to(device).to(memory_format=torch.channels_last)


def _subdict(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def _build(path, family, net_cls, cfg, state: dict):
    if not state:
        raise CheckpointError(f"{path}: holds no weights for this net")
    try:
        net = net_cls(**cfg)
        net.load_state_dict(state)
    except (RuntimeError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: weights do not match a {family.name} net with its config "
                              f"({str(e).splitlines()[0]})")
    return net


@dataclass
class LoadedGenerator:
    path: Path
    family: str
    resolution: int
    latent_dim: int
    meta: dict
    net: torch.nn.Module
    device: torch.device
    critic: torch.nn.Module | None = None
    batch: int = 64
    _shell: float | None = None
    kind: dict[str, int | None] | None = None     # a conditional model's held label values (None: any)
    _centre: np.ndarray | None = None
    _label_centres: dict = field(default_factory=dict)   # label -> its mean latent; shared by every kind's view

    @property
    def space(self) -> str:
        """Where the explorer's latents live: "z" (the input noise), or "w" for a family with a mapping
        network (StyleGAN2): w - w_avg, the intermediate latent centred on its mean, so that scaling a
        latent by psi is the truncation trick and every page's blends, arithmetic and directions are in W."""
        return getattr(self.net, "latent_space", "z")

    @functools.cached_property
    def labels(self) -> LabelSpace | None:
        """A conditional model's label space (with the data's mix; read once); None for an unconditional one."""
        return LabelSpace.from_json(self.meta["config"].get("labels")) if self.meta["config"].get("label_dim") else None

    @property
    def explorer_dim(self) -> int:
        """The length of an explorer latent: z's or w's, and for a conditional model in z the label vector
        after z ([z, c]: blends, arithmetic and directions then act on the label too)."""
        return self.latent_dim + (self.labels.dim if self.labels is not None and self.space == "z" else 0)

    def latents(self, seed: int, n: int = 1, fixed: dict[str, int | None] | None = None,
                psi: float = 1.0) -> np.ndarray:
        """The explorer latents of a seed: its N(0, 1) z, reproducible on every machine, in this model's space
        (a conditional model's seed also draws its labels from the data's mix, holding this view's kind and
        the attributes `fixed` gives), truncated by `psi` (a conditional model's towards each label's mean)."""
        g = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.latent_dim, generator=g).numpy()
        rows = self.label_rows(n, seed, fixed)
        out = self.from_z(z, rows=rows)
        return out if psi == 1 else self.truncate(out, psi, rows)

    def random_latents(self, n: int, seed: int = 0) -> np.ndarray:
        """n random explorer latents (numpy's generator: directions, inversion's random starts)."""
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)
        return self.from_z(z, label_seed=seed)

    def kind_of(self, text: str) -> dict[str, int | None]:
        """"pose=sleeping,item=cup" -> this model's label indices; refused by name on an unconditional model
        or for a label it does not know (LabelError)."""
        if self.labels is None:
            raise LabelError(f"{self.path} is not conditional, so it cannot be asked for a kind of cat ({text}); "
                             "train one with --cond labels")
        pairs = [part.partition("=") for part in text.replace(" ", "").split(",") if part]
        bad = [k for k, eq, _ in pairs if not eq]
        if bad:
            raise LabelError(f"bad kind {text!r}: write attribute=value pairs, e.g. pose=sleeping,item=cup")
        return self.labels.parse({k: v for k, _, v in pairs})

    def with_kind(self, kind: dict[str, int | None]) -> "LoadedGenerator":
        """The same model (the same nets) drawing one kind of cat: every seed holds the attributes `kind`
        gives a value (LabelSpace.parse) and draws the rest from the data's mix among such cats."""
        return replace(self, kind={k: v for k, v in kind.items() if v is not None} or None, _centre=None)

    def label_rows(self, n: int, seed: int, fixed: dict[str, int | None] | None = None) -> np.ndarray | None:
        """n labels (index rows) a seed draws from the data's mix, with this view's kind and any attributes
        in `fixed` held (the same on every machine); None if unconditional."""
        space = self.labels
        if space is None:
            return None
        held = {**(self.kind or {}), **{k: v for k, v in (fixed or {}).items() if v is not None}}
        return space.draw(n, torch.Generator().manual_seed(int(seed) + LABEL_SEED_OFFSET), held)

    def label_vectors(self, n: int, seed: int) -> torch.Tensor | None:
        """The vectors of `label_rows(n, seed)`; None if unconditional."""
        rows = self.label_rows(n, seed)
        return None if rows is None else self.labels.vectors(rows)

    @torch.inference_mode()
    def from_z(self, z, label_seed: int = 0, rows: np.ndarray | None = None) -> np.ndarray:
        """N(0, 1) latents -> this model's explorer latents: z itself, or w - w_avg; for a conditional model
        with labels `rows` (or those `label_seed` draws): [z, c], or w of (z, c)."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        if rows is None:
            rows = self.label_rows(len(z), label_seed)
        c = None if rows is None else self.labels.vectors(rows)
        if self.space == "z":
            return z if c is None else np.concatenate([z, c.numpy()], axis=1)
        w = [self.net.map(torch.from_numpy(z[i:i + self.batch]).to(self.device),
                          None if c is None else c[i:i + self.batch].to(self.device)) - self.net.w_avg
             for i in range(0, len(z), self.batch)]
        return torch.cat(w).float().cpu().numpy() if w else z

    def from_three(self, numbers, base: np.ndarray | None = None) -> np.ndarray:
        """The first seed's three numbers as an explorer latent: (a, b, c) @ P is a z (catgan.latent); in W
        it is mapped, and moves `base` (else the origin, `centre`) by where it lands relative to where z = 0
        lands; a conditional model's label part in z is left as `base` has it."""
        z = latent.from_three(numbers, self.latent_dim)
        if self.space == "w":
            z = self.from_z(z)[0] - self.from_z(np.zeros_like(z))[0]
        z = np.pad(z, (0, self.explorer_dim - len(z)))
        return ((self.centre() if base is None else base) + z).astype(np.float32)

    def centre(self) -> np.ndarray:
        """The explorer's origin: zero, or for a conditional model the mean of 1,000 seeds' latents of this
        view's kind (w - w_avg averaged), so that the origin, too, is that kind of cat."""
        if self.labels is None:
            return np.zeros(self.explorer_dim, np.float32)
        if self._centre is None:
            self._centre = self.from_z(self._centre_z(), label_seed=CENTRE_SEED).mean(0)
            if self.space == "z":                  # z's own mean is 0; the labels' is their mix
                self._centre[:self.latent_dim] = 0
        return self._centre

    def _centre_z(self) -> np.ndarray:
        """The 1,000 fixed z the origin and the label centres average over."""
        return np.random.default_rng(CENTRE_SEED).standard_normal((1000, self.latent_dim)).astype(np.float32)

    def kind_change(self, attribute: str, old: int, new: int) -> np.ndarray:
        """The latent step that turns one value of a label attribute into another (latent arithmetic on
        labels): the difference of the two kinds' mean latents, this view's other held attributes kept."""
        held = dict(self.kind or {})
        return self.with_kind({**held, attribute: new}).centre() - self.with_kind({**held, attribute: old}).centre()

    def label_centres(self, rows: np.ndarray) -> np.ndarray:
        """Each label's mean latent (N x explorer_dim): in W the mean of 1,000 fixed z mapped with it, in z
        [0, c]. Truncation pulls a conditional model's latent towards its own label's."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, len(self.labels.names))
        z = self._centre_z()
        for row in {tuple(r) for r in rows.tolist()} - set(self._label_centres):
            if self.space == "z":
                self._label_centres[row] = np.concatenate([np.zeros(self.latent_dim, np.float32),
                                                           self.labels.vectors([row])[0].numpy()])
            else:
                self._label_centres[row] = self.from_z(z, rows=np.repeat([row], len(z), axis=0)).mean(0)
        return np.stack([self._label_centres[tuple(r)] for r in rows.tolist()]).astype(np.float32)

    def truncate(self, latents: np.ndarray, psi: float, rows: np.ndarray | None = None) -> np.ndarray:
        """The truncation trick on explorer latents: psi of the way from the origin to each latent. The
        origin is `centre` (a conditional model's kind's mean), or with `rows` (each latent's label) that
        label's own mean latent."""
        centre = self.centre() if rows is None or self.labels is None else self.label_centres(rows)
        return (centre + (np.asarray(latents, dtype=np.float32) - centre) * psi).astype(np.float32)

    def latent_shell(self) -> float:
        """The typical length of an explorer latent (inversion's prior pulls towards it): sqrt(dim) for z,
        measured on 1,000 fixed latents for W or a conditional model."""
        if self.space == "z" and self.labels is None:
            return float(np.sqrt(self.latent_dim))
        if self._shell is None:
            self._shell = float(np.median(np.linalg.norm(self.random_latents(1000, seed=1), axis=1)))
        return self._shell

    def render(self, latents: torch.Tensor) -> torch.Tensor:
        """Explorer latents (a tensor on the device) -> images in [-1, 1] at the model's resolution;
        differentiable (inversion optimises through it)."""
        if self.space == "w":
            x = self.net.synthesis(self.net.w_avg + latents)
        elif self.labels is not None:
            z, c = latents[:, :self.latent_dim], latents[:, self.latent_dim:]
            x = self.net(z, c, **self.meta.get("sample_kwargs", {}))
        else:
            x = self.net(latents, **self.meta.get("sample_kwargs", {}))
        x = x.float()
        if x.shape[-1] != self.resolution:
            x = torch.nn.functional.interpolate(x, size=self.resolution, mode="nearest")
        return x

    @torch.inference_mode()
    def generate(self, z) -> np.ndarray:
        """Explorer latents (N x explorer_dim) -> uint8 images N x H x W x 3."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, self.explorer_dim)
        out = [to_uint8(self.render(z[i:i + self.batch].to(self.device))) for i in range(0, len(z), self.batch)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.resolution, self.resolution, 3), np.uint8)

    @torch.inference_mode()
    def realism(self, images: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The model's own judgement of each image (higher = more real); needs the critic. A conditional
        critic judges each image against its label `rows` (index rows, as training did), or against the
        data's average label where there are none (a photo, a real sticker)."""
        if self.critic is None:
            raise ValueError(f"{self.path.name} ships no discriminator, so its samples cannot be ranked by it")
        x = from_uint8(images).to(self.device)
        kw = self.meta.get("sample_kwargs", {})
        if "level" in kw:            # a growing critic saved before its last stage sees its own resolution
            x = torch.nn.functional.adaptive_avg_pool2d(x, 4 * 2 ** kw["level"])
        fam = get_family(self.family)
        space, c = self.labels, None
        if space is not None and rows is not None:
            c = space.vectors(np.asarray(rows)).to(self.device)
        elif space is not None:
            mix = [label for label, _ in space.mix]
            c = (space.vectors(mix) * torch.tensor([share for _, share in space.mix])[:, None]).sum(0)[None]
            c = c.expand(len(x), -1).to(self.device)

        chunks = range(0, len(x), self.batch)
        judges = [functools.partial(self.critic, **(kw if c is None else {**kw, "c": c[i:i + self.batch]}))
                  for i in chunks]
        return torch.cat([fam.realism(judge, x[i:i + self.batch]) for judge, i in zip(judges, chunks)]).cpu().numpy()


def load_generator(path: str | Path, device: str | torch.device | None = None,
                   with_critic: bool = False) -> LoadedGenerator:
    path = Path(path)
    tensors, meta = load_checkpoint(path)
    try:
        family = get_family(meta["family"])
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}")
    cfg = meta["config"]
    dev = pick_device(device) if not isinstance(device, torch.device) else device
    net_name = meta.get("sample_net", "G")
    net = prepare_for_sampling(_build(path, family, family.Generator, cfg, _subdict(tensors, net_name)), dev)
    critic = None
    if with_critic and _subdict(tensors, "D"):
        critic = _build(path, family, family.Discriminator, cfg, _subdict(tensors, "D")).to(dev).eval()
    return LoadedGenerator(path, family.name, int(meta["resolution"]), int(meta["latent_dim"]), meta, net, dev,
                           critic)
