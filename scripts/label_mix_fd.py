"""How much of a model's sticker FD its mix of labels alone explains.

    .venv/bin/python scripts/label_mix_fd.py checkpoints/stylegan2-stickers64/model.safetensors [...]

The sticker space labels n samples (pose, item, coat, eyes); for each sample one real sticker with the
same labels is drawn (outside the eval's reference half). The FD of those real stickers against the
reference is what a generator drawing perfect stickers in the model's label mix would score: the part
of its FD that is which cats it draws, not how it draws them. One thread, a minute a model.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from catgan.audit import sticker_space  # noqa: E402
from catgan.audit.evaluate import generate, split  # noqa: E402
from catgan.audit.metrics import fid  # noqa: E402
from catgan.audit.spaces import SPACES, dataset_features  # noqa: E402
from catgan.data.dataset import resolve_dataset  # noqa: E402
from catgan.generator import load_generator  # noqa: E402

MIXES = (("pose", "item"), ("pose", "item", "coat", "eyes"))


def real_in_mix(labels: dict, pool: np.ndarray, fake_labels: dict, keys, rng) -> np.ndarray:
    """One real image from `pool` with each fake's labels under `keys`."""
    def code(lab):
        return sum(np.asarray(lab[k]).astype(np.int64) * 10 ** i for i, k in enumerate(keys))
    real_code = code(labels)[pool]
    return np.array([pool[rng.choice(np.flatnonzero(real_code == c))] for c in code(fake_labels)
                     if (real_code == c).any()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--n", type=int, default=2000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    ds = resolve_dataset("stickers")
    feats = dataset_features(ds, SPACES["sticker"], progress=False)
    ref, other = split(ds, a.n)
    pool = np.setdiff1d(np.arange(len(ds)), ref)
    rng = np.random.default_rng(1)
    print(f"real other half against the reference: FD {fid(feats[ref], feats[other]):.2f} ({a.n} and {a.n})")
    for model in a.models:
        fake_feats, fake_labels = sticker_space.features_and_labels(generate(load_generator(model, "cpu"), a.n,
                                                                             progress=False))
        print(f"{model}: FD {fid(feats[ref], fake_feats):.2f}")
        for keys in MIXES:
            pick = real_in_mix(ds.labels, pool, fake_labels, keys, rng)
            print(f"  real stickers in its {' x '.join(keys)} mix ({len(pick)} of {a.n}): "
                  f"FD {fid(feats[ref], feats[pick]):.2f}")


if __name__ == "__main__":
    main()
