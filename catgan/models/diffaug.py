"""DiffAugment (Zhao et al. 2020): the same random, differentiable changes to every image D sees.

Real and generated images alike are shifted and recoloured before D judges them, so D
cannot memorise a small training set pixel for pixel, and G's gradients pass through the
augmentation. Cutout is left out: it can erase the small items stickers hold. Every random
draw comes from the step's generator, so a resumed run repeats itself exactly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("translation", "color")
FEW_SHOT = 1000


def few_shot_defaults(model_cfg: dict, originals: int, overrides: dict) -> dict:
    """DiffAugment on by default for sets made from fewer than FEW_SHOT distinct images.

    With so few, D learns the training images by heart within a few thousand steps and G's gradients
    stop meaning anything (Karras et al. 2020 saw it on every set under ~10k images; DiffAugment's
    few-shot results are at 100 images). Above it, on the embedded 10,000 stickers, DiffAugment slowed
    a 10-minute DCGAN pilot (sticker FD 29 vs 19), so it stays off. A `diffaug` override always wins.
    """
    if "diffaug" in overrides or model_cfg.get("diffaug") or originals >= FEW_SHOT:
        return model_cfg
    return {**model_cfg, "diffaug": "translation,color",
            "diffaug_reason": f"automatic: {originals} originals (< {FEW_SHOT})"}


def parse(policy: str | None) -> tuple[str, ...]:
    parts = tuple(p for p in (policy or "").replace(" ", "").split(",") if p)
    bad = [p for p in parts if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown DiffAugment policy {bad[0]!r}; choose from {', '.join(POLICIES)}")
    return parts


def _u(n: int, gen: torch.Generator, like: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    return (torch.rand(n, 1, 1, 1, generator=gen) * (hi - lo) + lo).to(like.device, like.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Brightness, saturation and contrast, each drawn per image (DiffAugment's ranges)."""
    n = x.shape[0]
    x = x + _u(n, gen, x, -0.5, 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * _u(n, gen, x, 0.0, 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _u(n, gen, x, 0.5, 1.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its side, filling with white (the stickers' background)."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (n, 1), generator=gen).to(x.device)
    dx = torch.randint(-sx, sx + 1, (n, 1), generator=gen).to(x.device)
    padded = F.pad(x, (sx, sx, sy, sy), value=1.0)
    rows = torch.arange(h, device=x.device)[None] + sy - dy          # n x h
    cols = torch.arange(w, device=x.device)[None] + sx - dx          # n x w
    out = padded[torch.arange(n, device=x.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    for p in policy:
        x = color(x, gen) if p == "color" else translation(x, gen)
    return x
