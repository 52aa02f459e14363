"""The latent-editing figures for one model trained on the embedded stickers.

    python scripts/editing_figures.py [CHECKPOINT] [--seeds 200] [--stickers 30]

1. Named directions: for each, the share of seeds whose sticker-space label is that value before and after
   moving +3 along it, and how often its own attribute changes against the other attributes.
2. Inversion: held-out stickers (rendered with a seed the training set does not use) inverted; the share
   whose reconstruction has the original's labels, and pixel RMS against the best of 64 random samples.
"""
import argparse

import numpy as np
import torch

from catgan import catalogue, directions, invert, load_generator
from catgan.audit.sticker_space import classify
from catgan.data.render import LABEL_NAMES, render_one

HELD_OUT_SEED = 424242


def named_directions(g, found, n_seeds):
    z = g.random_latents(n_seeds, seed=7)
    before = classify(g.generate(z))
    print(f"{'direction':24} {'share before':>12} {'after +3':>9} {'own changes':>11} {'others change':>13}")
    for d in (d for d in found.directions if d.kind == "label"):
        attr, value = d.name.split(": ")
        after = classify(g.generate(z + directions.AMOUNT * d.vector))
        target = LABEL_NAMES[attr].index(value)
        others = [np.mean(after[a] != before[a]) for a in LABEL_NAMES if a != attr]
        print(f"{d.name:24} {np.mean(before[attr] == target):12.2f} {np.mean(after[attr] == target):9.2f} "
              f"{np.mean(after[attr] != before[attr]):11.2f} {np.mean(others):13.2f}")


def inversions(g, n):
    originals, truth = zip(*(render_one(HELD_OUT_SEED, i, g.resolution) for i in range(n)))
    found = [invert.invert(g, im) for im in originals]
    got = classify(np.stack([f.image for f in found]))
    for attr, names in LABEL_NAMES.items():
        hits = np.mean([got[attr][i] == names.index(truth[i][attr]) for i in range(n)])
        print(f"inversion: {attr} matches the original in {hits:.0%} of {n} held-out stickers")
    all_match = np.mean([all(got[a][i] == LABEL_NAMES[a].index(truth[i][a]) for a in LABEL_NAMES)
                         for i in range(n)])
    rms, rand = [f.pixel_rms for f in found], [f.random_best_rms for f in found]
    print(f"inversion: all four labels match in {all_match:.0%}; pixel RMS median {np.median(rms):.1f} "
          f"(best of 64 random: {np.median(rand):.1f}); closer than random in "
          f"{np.mean(np.less(rms, rand)):.0%}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", nargs="?", default=None)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--stickers", type=int, default=30)
    a = ap.parse_args()
    torch.set_num_threads(1)
    g = load_generator(a.checkpoint or catalogue.list_models()[0].folder / catalogue.MODEL_FILE)   # the default first
    print(f"{g.path}  (cpu {torch.backends.cpu.get_cpu_capability()})")
    named_directions(g, directions.cached(g), a.seeds)
    inversions(g, a.stickers)


if __name__ == "__main__":
    main()
