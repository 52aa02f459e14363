"""Your own cat in latent space: find the latent whose image is closest to a given picture.

Start from the best few of many random latents (by pixel distance), then optimise them together
with Adam on a pixel loss plus, where the model learnt the renderer's stickers, a feature loss in
the sticker space (it sees coat, pose and item rather than exact pixels), and a weak pull towards
the shell where the model's latents live (N(0, I)'s, or W's measured one), so the result stays a latent
the model knows. A model with a mapping network is inverted in W, as StyleGAN2's projector does. The best
restart wins. Distances: pixel RMS in 0-255 levels, and the sticker-space feature distance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from catgan.directions import has_labels
from catgan.pixels import from_uint8

CANDIDATES = 64
RESTARTS = 4
STEPS = 200
LR = 0.05
# The feature loss sums 256 squared sticker-space coordinates: at 0.05 it outweighed the pixels and the
# result drifted further from the picture than the best random start (RMS 21 vs 20 on held-out stickers);
# at 0.003 both losses count (RMS 12-21, below the random best on every sticker tried).
FEATURE_WEIGHT = 0.003
PRIOR_WEIGHT = 0.01


@dataclass
class Inversion:
    z: np.ndarray                   # latent_dim
    image: np.ndarray               # the reconstruction, uint8 H x W x 3
    pixel_rms: float                # 0-255 levels, reconstruction vs target
    random_best_rms: float          # the same for the best of CANDIDATES random samples
    feature_distance: float | None  # sticker space, where it applies
    steps: int

    def summary(self) -> dict:
        return {"pixel_rms": round(self.pixel_rms, 2), "random_best_pixel_rms": round(self.random_best_rms, 2),
                "feature_distance": None if self.feature_distance is None else round(self.feature_distance, 3),
                "steps": self.steps}


def target_from_image(g, im) -> np.ndarray:
    """A decoded picture (PIL, any mode) as the model sees its training images: sticker models get it
    composited on white and padded square, as `catgan prepare stickers` does; photos are resized."""
    from PIL import Image
    from catgan.data.images import on_white, square_on_white
    im = square_on_white(on_white(im.convert("RGBA"))) if has_labels(g.meta) else im.convert("RGB")
    return np.asarray(im.resize((g.resolution, g.resolution), Image.LANCZOS))


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return from_uint8(np.asarray(image)[None])


def _rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image pixel RMS (0-255) of a batch against one target."""
    d = a.astype(np.float32) - b.astype(np.float32)[None]
    return np.sqrt((d ** 2).reshape(len(a), -1).mean(1))


def guess_kind(g, target: np.ndarray) -> dict[str, int] | None:
    """A conditional sticker model's kind of cat for a picture: the sticker classifier's reading of it, as
    indices of the model's label space; None for a model without the stickers' labels."""
    if g.labels is None or not has_labels(g.meta):
        return None
    from catgan.audit import sticker_space
    from catgan.data.render import LABEL_NAMES
    read = sticker_space.classify(target[None])
    return {a: g.labels.attributes[a].index(LABEL_NAMES[a][int(read[a][0])])
            for a in g.labels.names if a in read and a in LABEL_NAMES}


def invert(g, target: np.ndarray, steps: int = STEPS, restarts: int = RESTARTS, seed: int = 0,
           on_progress=None, stopping=lambda: False) -> Inversion:
    """The latent that best reproduces `target` (uint8, the model's resolution). Stopping early
    returns the best found so far."""
    if target.shape != (g.resolution, g.resolution, 3) or target.dtype != np.uint8:
        raise ValueError(f"the target must be a {g.resolution}x{g.resolution} RGB uint8 image, "
                         f"got {target.dtype} {target.shape}")
    report = on_progress or (lambda done, total: None)
    candidates = g.random_latents(CANDIDATES, seed=seed + 10_000)
    dist = _rms(g.generate(candidates), target)
    random_best = float(dist.min())
    start = candidates[np.argsort(dist)[:restarts]]

    use_features = has_labels(g.meta)
    if use_features:
        from catgan.audit.sticker_space import embed_tensor
    goal = _to_tensor(target).to(g.device)
    goal_f = embed_tensor(goal).detach() if use_features else None
    z = torch.tensor(start, device=g.device, requires_grad=True)
    opt = torch.optim.Adam([z], lr=LR)
    shell = g.latent_shell()
    done = 0
    for done in range(1, steps + 1):
        if stopping():
            break
        x = g.render(z)
        per = (x - goal).pow(2).mean(dim=(1, 2, 3))
        if use_features:
            per = per + FEATURE_WEIGHT * (embed_tensor(x) - goal_f).pow(2).sum(1)
        per = per + PRIOR_WEIGHT * (z.norm(dim=1) / shell - 1).pow(2)
        opt.zero_grad(set_to_none=True)
        per.sum().backward()                    # restarts are independent: one backward for all
        opt.step()
        report(done, steps)

    found = z.detach().cpu().numpy().astype(np.float32)
    images = g.generate(found)
    rms = _rms(images, target)
    best = int(rms.argmin())
    feature = None
    if use_features:
        from catgan.audit import sticker_space
        f = sticker_space.features(np.stack([images[best], target]))
        feature = float(np.linalg.norm(f[0] - f[1]))
    return Inversion(found[best], images[best], float(rms[best]), random_best, feature, done)
