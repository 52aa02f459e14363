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


def held_out(g, n: int = 256) -> tuple[np.ndarray, np.ndarray, float]:
    """n unseen stickers, D's reconstructions of them (uint8), and their mean L1 error on [-1, 1]."""
    reals, _ = render_stickers(n, g.resolution, dataset_for(g.meta).info.get("seed", 0) + 1, progress=False)
    with torch.inference_mode():
        x = from_uint8(reals).to(g.device)
        y = torch.cat([g.critic(x[i:i + 64]).float().clamp(-1, 1) for i in range(0, n, 64)])
    return reals, to_uint8(y.cpu()).numpy(), float((y - x).abs().mean())
