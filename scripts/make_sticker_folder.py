"""A folder of N transparent PNG stickers that are not the embedded set: rendered with another seed,
recoloured (channels rotated), cut out of their white background, at mixed sizes, some as palette PNGs.
The few-shot demo and README recipe start from it:  python scripts/make_sticker_folder.py DIR [N]
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from catgan.data.render import render_one


def make(folder: str, n: int = 36, seed: int = 99) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rgb = render_one(seed, i, 96 + 32 * (i % 4))[0].astype(np.int16)
        white = (rgb >= 250).all(axis=2)
        rgb = np.clip(rgb[..., [2, 0, 1]] + 20, 0, 255).astype(np.uint8)
        im = Image.fromarray(np.dstack([rgb, np.where(white, 0, 255).astype(np.uint8)]), "RGBA")
        (im.convert("P", palette=Image.ADAPTIVE) if i % 3 == 0 else im).save(out / f"sticker{i:03d}.png")


if __name__ == "__main__":
    make(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 36)
