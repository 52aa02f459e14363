"""How sharp can a BEGAN discriminator be? Train its autoencoder alone on real images and look.

BEGAN's G is trained to draw what D reconstructs well, so D's reconstructions of *real* images bound what
G can learn: if they are blobs, G's samples will be too. With k_t near 0 (as in every run here) D is
almost a plain autoencoder of the reals anyway, so this pilot costs a fraction of a GAN run
(D's forward and backward only) and answers whether a D config can draw ears and faces at all.

    .venv/bin/python scripts/began_autoencoder.py --minutes 10 --out /tmp/ae-base
    .venv/bin/python scripts/began_autoencoder.py --minutes 60 --set d_channels=32 --set hidden=128 \\
        --judge-kimg 100 --out ~/.cache/catgan/runs/ae-32-h128

The first 3,000 images are held out. Every 5 k images it prints the L1 reconstruction error of 256 of
them; every --judge-kimg (and at the end) the detectability of all 3,000 reconstructions against the
originals (one fit of catgan.audit.detect's protocol: 0.5 is indistinguishable; real stickers blurred
1 px score about 0.95). Writes ae.json (the curve), recon.png (16 held-out reals over their
reconstructions) and warm_start.safetensors at every judged point: this D with a fresh G (or --g-from a
model's), a BEGAN checkpoint at step vanish_steps (so D's residuals stay faded) that a GAN run starts from:

    .venv/bin/python -m catgan train --model began --init-from ~/.cache/catgan/runs/ae-32-h128/warm_start.safetensors \
        --set lr=1e-4 --set lambda_k=0.001 ...
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
from catgan.audit import detect  # noqa: E402
from catgan.cli import set_values  # noqa: E402
from catgan.data.dataset import resolve_dataset  # noqa: E402
from catgan.device import choose_precision  # noqa: E402
from catgan.io import atomic_write_bytes, atomic_write_json  # noqa: E402
from catgan.models.began import PRESETS, Discriminator, Generator, fade_residuals, recon_error  # noqa: E402
from catgan.pixels import from_uint8, to_uint8  # noqa: E402
from catgan.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402

HELD = 3000


@torch.no_grad()
def reconstruct(D, images: np.ndarray, autocast, batch: int = 250) -> np.ndarray:
    D.eval()
    with autocast():
        out = [to_uint8(D(from_uint8(images[i:i + batch]))) for i in range(0, len(images), batch)]
    D.train()
    return torch.cat(out).numpy()


def warm_start(path: Path, D, cfg: dict, g_from: Path | None):
    """D with a G (fresh, or a model's sampling net), as a checkpoint `catgan train --init-from` takes."""
    if g_from:
        tensors, meta = load_checkpoint(g_from)
        net = meta.get("sample_net", "G")
        g_state = {k[len(net) + 1:]: v for k, v in tensors.items() if k.startswith(net + ".")}
    else:
        torch.manual_seed(0)
        g_state = Generator(resolution=64, **cfg).state_dict()
    tensors = {**{f"G.{k}": v for k, v in g_state.items()}, **{f"D.{k}": v for k, v in D.state_dict().items()}}
    save_checkpoint(path, tensors, {"family": "began", "config": {**cfg, "resolution": 64}, "resolution": 64,
                                    "latent_dim": cfg["latent_dim"], "step": cfg["vanish_steps"],
                                    "state": {"k": 0.0}, "sample_net": "G"})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="stickers")
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override a config key")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--judge-kimg", type=float, default=0, help="detectability every this many k images "
                                                                   "(0: at the end only)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--g-from", type=Path, help="the warm start's G from this model (default: a fresh G)")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    precision = choose_precision(a.precision, "cpu")

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision.bf16)

    cfg = {**PRESETS[a.preset], "preset": a.preset, **set_values(a.set)}
    images = np.asarray(resolve_dataset(a.data, 64).images)
    held, train = images[:HELD], images[HELD:]
    torch.manual_seed(0)
    D = Discriminator(resolution=64, **cfg)
    opt = torch.optim.Adam(D.parameters(), lr=cfg["lr"], betas=tuple(cfg["betas"]))
    a.out.mkdir(parents=True, exist_ok=True)
    rng, seen, curve, step, train_s = np.random.default_rng(0), 0, [], 0, 0.0
    judge_every = int(a.judge_kimg * 1000) or None

    def point(judge: bool):
        recon = reconstruct(D, held if judge else held[:256], autocast)
        row = {"images": seen, "held-out L1": round(float(np.abs(recon.astype(np.float32) - held[:len(recon)])
                                                          .mean() / 127.5), 5), "train_seconds": round(train_s)}
        if judge:
            t = time.time()
            d = detect.detectability(held, recon, detect.Protocol().one_fit())
            row.update(detectability=round(d["detectability"], 4), detect_seconds=round(time.time() - t))
            warm_start(a.out / "warm_start.safetensors", D, cfg, a.g_from)
            atomic_write_bytes(a.out / "recon.png", media.grid_png(np.concatenate([held[:16], recon[:16]]),
                                                                     cols=16, scale=2))
        curve.append(row)
        print(json.dumps(row), flush=True)
        atomic_write_json(a.out / "ae.json", {"config": cfg, "precision": precision.name, "curve": curve,
                                              "images_per_s": round(seen / max(train_s, 1e-9), 1)})

    while train_s < a.minutes * 60:
        t0 = time.time()
        fade_residuals(D, step, cfg["vanish_steps"])
        with autocast():
            loss = recon_error(D, from_uint8(train[rng.integers(0, len(train), cfg["batch"])])).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step, seen, train_s = step + 1, seen + cfg["batch"], train_s + time.time() - t0
        if seen // 5000 > (seen - cfg["batch"]) // 5000:
            point(judge=bool(judge_every) and seen // judge_every > (seen - cfg["batch"]) // judge_every)
    point(judge=True)


if __name__ == "__main__":
    main()
