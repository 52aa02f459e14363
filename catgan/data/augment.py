"""Flip / rotate / zoom / crop: how a few hundred originals become many training images."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from tqdm import tqdm

WHITE = (255, 255, 255)


@dataclass
class AugmentConfig:
    flip: float = 0.5            # probability of a horizontal flip
    rotate: float = 15.0         # max degrees either way
    zoom: tuple = (0.9, 1.15)    # >1 zooms in
    crop: float = 0.08           # max shift of the crop window, as a fraction of the side


def augment(image: Image.Image, size: int, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """One random variant of an RGB image on white, as uint8 size x size x 3."""
    if rng.random() < cfg.flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.rotate(rng.uniform(-cfg.rotate, cfg.rotate), resample=Image.Resampling.BICUBIC, fillcolor=WHITE)
    side = image.width / rng.uniform(*cfg.zoom)
    cx = image.width / 2 + rng.uniform(-cfg.crop, cfg.crop) * image.width
    cy = image.height / 2 + rng.uniform(-cfg.crop, cfg.crop) * image.height
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    # Image.resize with a box samples outside the image as edge pixels; pad with white first.
    pad = int(side)
    padded = Image.new("RGB", (image.width + 2 * pad, image.height + 2 * pad), WHITE)
    padded.paste(image, (pad, pad))
    box = tuple(b + pad for b in box)
    return np.asarray(padded.resize((size, size), Image.Resampling.LANCZOS, box=box), dtype=np.uint8)


def augment_many(originals: np.ndarray, n: int, size: int, rng: np.random.Generator,
                 cfg: AugmentConfig = AugmentConfig(), keep_originals: bool = True,
                 progress: bool = True) -> tuple[np.ndarray, list[int]]:
    """Expand originals (uint8 M x H x W x 3) to n images; returns them and each one's original index."""
    m = len(originals)
    pil = [Image.fromarray(np.asarray(o)) for o in originals]
    out = np.empty((n, size, size, 3), np.uint8)
    parent = []
    for i in tqdm(range(n), desc="augmenting", disable=not progress, leave=False):
        j = i % m
        if keep_originals and i < m:
            out[i] = np.asarray(pil[j].resize((size, size), Image.Resampling.LANCZOS))
        else:
            out[i] = augment(pil[j], size, rng, cfg)
        parent.append(j)
    return out, parent
