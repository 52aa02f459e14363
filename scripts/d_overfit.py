"""Is D overfitting its training images? Its judgement of them against unseen renders, per kept point.

    python scripts/d_overfit.py RUN_FOLDER [--n 1000]

For each kept point (points/step_*.safetensors, a run trained with --keep-points) D scores n of its
training stickers and n stickers rendered with a seed the training set did not use (the family's
realism, higher = more real; eval mode). A gap that grows with training is the ADA paper's sign that
D memorises the training set (Karras et al. 2020, fig. 1). Stickers only: an unseen render needs the
generator of the data.
"""
import argparse
from pathlib import Path

import numpy as np
import torch

from catgan.catalogue import kept_points
from catgan.data.dataset import dataset_for, render_stickers
from catgan.generator import load_generator
from catgan.checkpoint import read_meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    points = kept_points(a.run)
    meta = read_meta(points[0])
    ds = dataset_for(meta)
    if ds.info.get("source") != "synthetic":
        raise SystemExit(f"{a.run} trained on {ds.path}, not rendered stickers: there is no unseen render to compare")
    train = np.asarray(ds.images[:a.n])
    unseen, _ = render_stickers(a.n, int(meta["resolution"]), ds.info.get("seed", 0) + 1, progress=False)
    print(f"{'step':>8} {'k images':>9} {'D(train)':>9} {'D(unseen)':>10} {'gap':>7}")
    for point in points:
        g = load_generator(point, device="cpu", with_critic=True)
        on_train, on_unseen = g.realism(train), g.realism(unseen)
        step = g.meta.get("step", 0)
        kimg = step * g.meta["config"].get("batch", 0) * g.meta.get("world_size", 1) / 1000
        print(f"{step:>8} {kimg:>9.0f} {on_train.mean():>9.3f} {on_unseen.mean():>10.3f} "
              f"{on_train.mean() - on_unseen.mean():>7.3f}", flush=True)


if __name__ == "__main__":
    main()
