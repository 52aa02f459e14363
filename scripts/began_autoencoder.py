"""How sharp can a BEGAN discriminator be? Train its autoencoder alone on real images and look.

BEGAN's G is trained to draw what D reconstructs well, so D's reconstructions of *real* images bound what
G can learn: if they are blobs, G's samples will be too. With k_t near 0 (as in every run here) D is
almost a plain autoencoder of the reals anyway, so this pilot costs a fraction of a GAN run
(D's forward and backward only) and answers whether a D config can draw ears and faces at all.

    .venv/bin/python scripts/began_autoencoder.py --minutes 10 --out /tmp/ae-base
    .venv/bin/python scripts/began_autoencoder.py --minutes 10 --set d_norm=none --out /tmp/ae-nobn

Prints the L1 reconstruction error of 256 held-out reals every 5 k images; writes recon.png (16 reals
over their reconstructions) and ae.json (the curve).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from catgan import media  # noqa: E402
from catgan.cli import set_values  # noqa: E402
from catgan.data.dataset import resolve_dataset  # noqa: E402
from catgan.io import atomic_write_bytes, atomic_write_json  # noqa: E402
from catgan.models.began import PRESETS, Discriminator, fade_residuals, recon_error  # noqa: E402


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="stickers")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a config key")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = {**PRESETS[a.preset], **set_values(a.set)}
    ds = resolve_dataset(a.data, 64)
    images = np.asarray(ds.images)
    held, train = images[:256], images[256:]
    torch.manual_seed(0)
    D = Discriminator(resolution=64, **cfg)
    opt = torch.optim.Adam(D.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]))
    rng, seen, curve, t0, step = np.random.default_rng(0), 0, [], time.time(), 0
    while time.time() - t0 < a.minutes * 60:
        fade_residuals(D, step, cfg["vanish_steps"])
        loss = recon_error(D, to_tensor(train[rng.integers(0, len(train), cfg["batch"])])).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step, seen = step + 1, seen + cfg["batch"]
        if seen // 5000 > (seen - cfg["batch"]) // 5000:
            D.eval()
            with torch.no_grad():
                held_l1 = float(recon_error(D, to_tensor(held)).mean())
            D.train()
            curve.append({"images": seen, "held-out L1": round(held_l1, 5), "seconds": round(time.time() - t0)})
            print(json.dumps(curve[-1]), flush=True)
    D.eval()
    with torch.no_grad():
        x = to_tensor(held[:16])
        y = D(x).clamp(-1, 1)
    a.out.mkdir(parents=True, exist_ok=True)
    tiles = ((torch.cat([x, y]) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    atomic_write_bytes(a.out / "recon.png", media.grid_png(tiles, cols=16, scale=2))
    atomic_write_json(a.out / "ae.json", {"config": cfg, "curve": curve,
                                          "images_per_s": round(seen / (time.time() - t0), 1)})


if __name__ == "__main__":
    main()
