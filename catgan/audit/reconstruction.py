"""A BEGAN's convergence measure beside its own M_global: how well its discriminator, an autoencoder,
reconstructs real stickers it never trained on (rendered with the dataset's seed + 1). G learns to draw
what D reconstructs well, so faces cannot come before D's reconstructions show them."""
from __future__ import annotations

import numpy as np
import torch

from catgan.data.dataset import dataset_for, render_stickers
from catgan.pixels import from_uint8, to_uint8


def applies(g) -> bool:
    """A BEGAN trained on rendered stickers that ships its D."""
    return g.family == "began" and g.meta.get("dataset", {}).get("source") == "synthetic" and g.critic is not None


def unseen_stickers(dataset_info: dict, resolution: int, n: int = 256) -> np.ndarray:
    """n stickers the dataset does not hold: rendered with its seed + 1."""
    return render_stickers(n, resolution, dataset_info.get("seed", 0) + 1, progress=False)[0]


def reconstruct(net, reals: np.ndarray, device="cpu") -> tuple[np.ndarray, float]:
    """`net`'s reconstructions of uint8 images (uint8) and their mean L1 error on [-1, 1]."""
    with torch.inference_mode():
        x = from_uint8(reals).to(device)
        y = torch.cat([net(x[i:i + 64]).float().to(x.device).clamp(-1, 1) for i in range(0, len(x), 64)])
    return to_uint8(y.cpu()).numpy(), float((y - x).abs().mean())


def held_out(g, n: int = 256) -> tuple[np.ndarray, np.ndarray, float]:
    """n unseen stickers, D's reconstructions of them (uint8), and their mean L1 error on [-1, 1]."""
    reals = unseen_stickers(dataset_for(g.meta).info, g.resolution, n)
    return (reals, *reconstruct(g.critic, reals, g.device))
