"""Where a fake gives itself away: the detector's input gradients as a heat map, and the part of
the image they fall on (outline, inside the body, background), with how much of it is colour.

The parts come from the sample itself, as a person would see them: the outline is where
brightness changes sharply (a Sobel edge, widened 1 px), the background is the near-white
rest, and inside the body is everything else (fur, face, items).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from catgan.audit.degrade import blur_each
from catgan.audit.detect import Detector
from catgan.pixels import from_uint8

PARTS = ("outline", "inside the body", "background")
EDGE = 0.25             # Sobel magnitude on [-1, 1] luminance that counts as an outline
BACKGROUND = 235        # all channels above this (of 255) is background


SMOOTH_N = 16           # SmoothGrad: noisy copies averaged per image
SMOOTH_SIGMA = 0.1      # their noise, in units of the [-1, 1] range (5% of it)


def heat(net: Detector, images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per image: where the fake logit is most sensitive (H x W, summing to 1), and the colour share of that
    sensitivity (the gradient's part orthogonal to grey, 0-1). Sensitivity is SmoothGrad's (Smilkov et al.
    2017): the input gradient averaged over SMOOTH_N noisy copies, which keeps a place where the detector
    looks and washes out the single-pixel lattice a raw gradient of a strided net paints over the tile."""
    x0 = from_uint8(images)
    gen = torch.Generator().manual_seed(seed)
    g, signed = torch.zeros_like(x0), torch.zeros_like(x0)     # mean |gradient|, and the mean gradient
    for _ in range(SMOOTH_N):
        x = (x0 + SMOOTH_SIGMA * torch.randn(x0.shape, generator=gen)).requires_grad_(True)
        (-net(x)).sum().backward()                              # towards "fake"
        g += x.grad.abs() / SMOOTH_N
        signed += x.grad / SMOOTH_N
    grey = signed.mean(1, keepdim=True)
    colour = ((signed - grey) ** 2).sum((1, 2, 3)) / (signed ** 2).sum((1, 2, 3)).clamp_min(1e-20)
    m = blur_each(g.sum(1, keepdim=True), torch.full((len(g),), 1.0), 3)[:, 0]
    m = m / m.sum((1, 2), keepdim=True).clamp_min(1e-20)
    return m.numpy(), colour.numpy()


def parts(images: np.ndarray) -> np.ndarray:
    """N x 3 x H x W boolean masks in PARTS order."""
    x = from_uint8(images).mean(1, keepdim=True)
    sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]]) / 4
    pad = F.pad(x, (1, 1, 1, 1), mode="replicate")
    mag = torch.sqrt(F.conv2d(pad, sx[None, None]) ** 2 + F.conv2d(pad, sx.T[None, None]) ** 2)
    outline = F.max_pool2d((mag > EDGE).float(), 3, stride=1, padding=1)[:, 0].bool().numpy()
    light = (np.asarray(images) > BACKGROUND).all(-1)
    background = light & ~outline
    return np.stack([outline, ~outline & ~background, background], 1)


def name_tells(maps: np.ndarray, images: np.ndarray) -> list[dict]:
    """Per image, each part's share of the heat against its share of the area; the tell is the part
    whose heat most exceeds its area."""
    masks = parts(images)
    out = []
    for m, mask in zip(maps, masks):
        heat_share = np.array([m[k].sum() for k in mask])
        area = mask.reshape(3, -1).mean(1)
        lift = np.where(area > 0.01, heat_share / np.maximum(area, 1e-9), 0.0)
        out.append({"tell": PARTS[int(lift.argmax())],
                    **{f"heat {p}": round(float(s), 3) for p, s in zip(PARTS, heat_share)}})
    return out


def overlay(image: np.ndarray, m: np.ndarray, strength: float = 0.75) -> np.ndarray:
    """The image greyed and faded, with the heat map in red on top (uint8 H x W x 3)."""
    grey = image.astype(np.float32).mean(-1, keepdims=True) * 0.5 + 127
    h = (m / max(float(m.max()), 1e-12))[..., None] * strength
    red = np.array([230.0, 30.0, 30.0])
    return (grey * (1 - h) + red * h).clip(0, 255).astype(np.uint8)
