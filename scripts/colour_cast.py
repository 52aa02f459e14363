"""How far a faint colour cast moves real stickers in the sticker space, beside the ladder's rungs.

    python scripts/colour_cast.py

A generated grid whose white background drifted a few levels towards yellow scored a far worse FD than
its shapes deserved; this measures that on real stickers: each channel scaled (0.96 turns white 255
into 245), FD of 2,000 against the 2,000-image reference, as the ladder computes it.
"""
import numpy as np
import torch

from catgan.audit.evaluate import split
from catgan.audit.metrics import fid
from catgan.audit.spaces import SPACES, dataset_features
from catgan.data.dataset import default_dataset

CASTS = {"blue x0.96 (yellow tint)": (1, 1, 0.96), "blue x0.92": (1, 1, 0.92), "red x0.96 (cyan tint)": (0.96, 1, 1),
         "all x0.96 (grey, no tint)": (0.96, 0.96, 0.96)}


def main() -> None:
    torch.set_num_threads(1)
    ds, space = default_dataset(progress=False), SPACES["sticker"]
    ref, other = split(ds, 2000)
    feats = dataset_features(ds, space, progress=False)
    images = np.asarray(ds.images)[np.sort(other)].astype(np.float32)
    print(f"real against real: FD {fid(feats[ref], feats[other]):.2f}")
    for name, gains in CASTS.items():
        cast = np.clip(images * np.array(gains, np.float32), 0, 255).round().astype(np.uint8)
        print(f"{name}: FD {fid(feats[ref], space.features(cast)):.2f}")


if __name__ == "__main__":
    main()
