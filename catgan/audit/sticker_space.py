"""The sticker space: a small CNN that sees cats, not pixel noise.

On clean, flat-coloured stickers an ImageNet network's features move more under
invisible noise than between two different real stickers, so k-NN metrics in its
space measure noise. This net is trained on freshly rendered stickers (never the
evaluation set) to predict what the renderer drew: pose, item, coat and eyes, and the
continuous jitter (shade, angle, scale, shift), from clean and degraded copies
(noise, blur, JPEG), with a term that pulls a degraded copy's features onto the clean
one's. Its 256-d pooled features are the space; its heads label generated images.

`catgan train-space` retrains it from scratch with a fixed seed (fp32: the same
weights on every run on one machine kind).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save
from tqdm import tqdm

from catgan.audit import degrade
from catgan.data import render
from catgan.io import atomic_write_bytes
from catgan.pixels import from_uint8

WEIGHTS = Path(__file__).with_name("sticker_space.safetensors")
SPACE = "sticker-space (CNN trained on the renderer's labels, noise/blur/JPEG-invariant), 256-d, 64 px input"
INPUT_SIZE, DIM = 64, 256
ATTRIBUTES = {k: len(v) for k, v in render.LABEL_NAMES.items()}     # pose 7, item 7, coat 4, eyes 2
JITTER = list(render.JITTER)
TRAIN_SEED = 20_261_123          # renders its own stickers: never the evaluation set (seed 0)


class StickerNet(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [(3, 24, 2), (24, 48, 1), (48, 64, 2), (64, 96, 1), (96, 128, 2), (128, 128, 1), (128, DIM, 2)]
        self.trunk = nn.Sequential(*[m for cin, cout, stride in widths for m in (
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))])
        self.heads = nn.Linear(DIM, sum(ATTRIBUTES.values()) + len(JITTER))

    def embed(self, x):
        return self.trunk(x).mean(dim=(2, 3))

    def forward(self, x):
        e = self.embed(x)
        return e, self.heads(e)


def _split_heads(out: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    logits, i = {}, 0
    for name, k in ATTRIBUTES.items():
        logits[name], i = out[:, i:i + k], i + k
    return logits, out[:, i:]


def _to_input(images: np.ndarray) -> torch.Tensor:
    x = from_uint8(images)
    if x.shape[-1] != INPUT_SIZE or x.shape[-2] != INPUT_SIZE:
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x.contiguous(memory_format=torch.channels_last)


# --- using it ---------------------------------------------------------------------
_lock = threading.Lock()
_net: StickerNet | None = None


def model() -> StickerNet:
    global _net
    with _lock:
        if _net is None:
            if not WEIGHTS.exists():
                raise FileNotFoundError(f"{WEIGHTS} is missing; rebuild it with `catgan train-space`")
            with torch.inference_mode(False):    # first use may be inside inference mode: keep normal tensors
                net = StickerNet()
                net.load_state_dict(load_file(WEIGHTS))
                _net = net.eval().requires_grad_(False).to(memory_format=torch.channels_last)
    return _net


def embed_tensor(x: torch.Tensor) -> torch.Tensor:
    """Differentiable features of images in [-1, 1] (N x 3 x H x W): for losses, such as inversion's."""
    if x.shape[-1] != INPUT_SIZE or x.shape[-2] != INPUT_SIZE:
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return model().embed(x.contiguous(memory_format=torch.channels_last))


@torch.inference_mode()
def features(images: np.ndarray, batch: int = 256, progress: bool = False, on_batch=None) -> np.ndarray:
    """uint8 N x H x W x 3 -> float32 N x 256; `on_batch(done, total)` after every batch."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected images as N x H x W x 3, got shape {images.shape}")
    net, out = model(), np.empty((len(images), DIM), np.float32)
    for i in tqdm(range(0, len(images), batch), desc="sticker features", disable=not progress, leave=False):
        out[i:i + batch] = net.embed(_to_input(images[i:i + batch])).numpy()
        if on_batch:
            on_batch(min(i + batch, len(images)), len(images))
    return out


@torch.inference_mode()
def features_and_labels(images: np.ndarray, batch: int = 256) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One pass: the 256-d features and each image's predicted label index per attribute."""
    images = np.asarray(images)
    net, feats, preds = model(), [], {a: [] for a in ATTRIBUTES}
    for i in range(0, len(images), batch):
        e, out = net(_to_input(images[i:i + batch]))
        feats.append(e.numpy())
        logits, _ = _split_heads(out)
        for a in ATTRIBUTES:
            preds[a].append(logits[a].argmax(1).numpy())
    empty = not feats
    return (np.zeros((0, DIM), np.float32) if empty else np.concatenate(feats),
            {a: np.zeros(0, np.int64) if empty else np.concatenate(v) for a, v in preds.items()})


def classify(images: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """Each image's predicted label index per attribute (pose, item, coat, eyes)."""
    return features_and_labels(images, batch)[1]


# --- training it ------------------------------------------------------------------
def render_training_set(n: int, seed: int = TRAIN_SEED, progress: bool = True):
    images = np.empty((n, INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    labels = np.empty((n, len(ATTRIBUTES)), np.int64)
    jitter = np.empty((n, len(JITTER)), np.float32)
    for i in tqdm(range(n), desc="rendering", disable=not progress, leave=False):
        images[i], lab, jit = render.render_with_jitter(INPUT_SIZE, np.random.default_rng([seed, i]))
        labels[i] = [render.LABEL_NAMES[a].index(lab[a]) for a in ATTRIBUTES]
        jitter[i] = [jit[k] for k in JITTER]
    lo, hi = np.array([render.JITTER[k] for k in JITTER], np.float32).T
    return images, labels, (jitter - (lo + hi) / 2) / ((hi - lo) / 2)       # jitter scaled to [-1, 1]


def train_space(out: str | Path = WEIGHTS, n: int = 24_000, epochs: int = 4, batch: int = 128, lr: float = 2e-3,
                invariance: float = 1.0, seed: int = 0, progress: bool = True) -> dict:
    """Train the sticker space from scratch; deterministic for a seed on one machine kind (fp32)."""
    t0 = time.time()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images, labels, jitter = render_training_set(n, progress=progress)
    net = StickerNet().to(memory_format=torch.channels_last)
    steps = epochs * (n // batch)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 20), pct_start=0.1)
    bar = tqdm(total=steps, desc="sticker space", disable=not progress)
    for step in range(steps):
        if step % (n // batch) == 0:
            order = rng.permutation(n)
        idx = order[(step % (n // batch)) * batch:][:batch]
        clean = images[idx]
        x = torch.cat([_to_input(clean), _to_input(degrade.random_mix(clean, rng))])
        y, j = torch.from_numpy(labels[idx]).repeat(2, 1), torch.from_numpy(jitter[idx]).repeat(2, 1)
        emb, out_ = net(x)
        logits, jit = _split_heads(out_)
        loss_cls = sum(F.cross_entropy(logits[a], y[:, i]) for i, a in enumerate(ATTRIBUTES))
        loss_jit = F.mse_loss(jit, j)
        e_clean, e_deg = emb[:batch], emb[batch:]
        spread = torch.cdist(e_clean, e_clean).pow(2).mean().detach() + 1e-6
        loss_inv = (e_deg - e_clean).pow(2).sum(1).mean() / spread
        loss = loss_cls + loss_jit + invariance * loss_inv
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(cls=f"{loss_cls.item():.3f}", jit=f"{loss_jit.item():.3f}", inv=f"{loss_inv.item():.4f}")
    bar.close()
    net.eval()
    atomic_write_bytes(out, save({k: v.contiguous() for k, v in net.state_dict().items()},
                                 metadata={"space": SPACE, "seed": str(seed), "n": str(n), "epochs": str(epochs)}))
    global _net
    with _lock:
        _net = None                      # the next use loads what was just written
    return {"out": str(out), "steps": steps, "minutes": round((time.time() - t0) / 60, 1),
            "final_loss": {"labels": loss_cls.item(), "jitter": loss_jit.item(), "invariance": loss_inv.item()}}
