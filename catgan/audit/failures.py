"""Failure mining: where a model goes wrong, each case reproducible from (model, seed, scale, step)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.metrics import pairwise_distances

from catgan.audit.neighbors import NeighbourIndex
from catgan.generator import LoadedGenerator


@dataclass
class Failure:
    kind: str               # "worst", "collapse", "out_of_range", "snapshot"
    model: str
    seed: int | None = None
    scale: float = 1.0      # latent multiplier (out-of-range latents)
    step: int | None = None
    score: float | None = None
    image: np.ndarray | None = None
    path: str | None = None  # snapshot grids


def seed_latents(g: LoadedGenerator, seeds) -> np.ndarray:
    """One latent per seed: exactly what the explorer shows for that seed."""
    return np.concatenate([g.latents(int(s), 1) for s in seeds])


def seed_label_rows(g: LoadedGenerator, seeds) -> np.ndarray:
    """A conditional model's label for each seed (the one `seed_latents` draws with), as index rows."""
    return np.concatenate([g.label_rows(1, int(s)) for s in seeds])


def seed_labels(g: LoadedGenerator, seeds) -> dict[str, np.ndarray]:
    """A conditional model's label for each seed, index per attribute."""
    rows = seed_label_rows(g, seeds)
    return {a: rows[:, i] for i, a in enumerate(g.labels.names)}


def worst_samples(g: LoadedGenerator, n: int = 256, k: int = 16, first_seed: int = 0) -> list[Failure]:
    """The k of n samples that the model's own discriminator/critic finds least real."""
    if k > n:
        raise ValueError(f"asked for the worst {k} of only {n} samples")
    seeds = np.arange(first_seed, first_seed + n)
    images = g.generate(seed_latents(g, seeds))
    rows = None if g.labels is None else seed_label_rows(g, seeds)
    scores = g.realism(images, rows)      # a conditional critic judges each sample against its own label
    order = np.argsort(scores)[:k]
    return [Failure("worst", g.path.parent.name, int(seeds[i]), score=float(scores[i]), image=images[i])
            for i in order]


def collapse_clusters(feats: np.ndarray, seeds: np.ndarray, threshold: float, mirrored=None) -> dict:
    """Near-duplicate groups among samples: pairs closer than `threshold` (in feature space) are linked;
    with the samples' `mirrored` features, a pair whose one is the other's mirror image counts too."""
    d = pairwise_distances(feats)
    if mirrored is not None:
        across = pairwise_distances(feats, mirrored)
        d = np.minimum(d, np.minimum(across, across.T))
    np.fill_diagonal(d, np.inf)
    close = d < threshold
    n_groups, label = connected_components(csr_matrix(close), directed=False)
    sizes = np.bincount(label)
    groups = [np.nonzero(label == c)[0] for c in np.argsort(-sizes) if sizes[c] > 1]
    return {"duplicate_rate": float(close.any(1).mean()), "threshold": float(threshold),
            "clusters": [[int(seeds[i]) for i in grp] for grp in groups]}


def find_collapse(g: LoadedGenerator, index: NeighbourIndex, n: int = 256, first_seed: int = 0) -> dict:
    """Near-duplicates among n samples; "near" means closer than 99% of real images are to their nearest
    (the neighbour index's "memorised" threshold), mirror allowed on both sides.

    Distances are taken in the index's space, the dataset's robust one (the sticker space for the
    renderer's stickers: in EfficientNet's, invisible noise moves stickers further apart than two
    different ones are), whose real features are cached per dataset and shared with the other audits.
    """
    seeds = np.arange(first_seed, first_seed + n)
    images = g.generate(seed_latents(g, seeds))
    f, f_mirrored = np.split(index.space.features(np.concatenate([images, images[:, :, ::-1]])), 2)
    return {**collapse_clusters(f, seeds, index.thresholds["feature"][0], f_mirrored), "space": index.space.key}


def out_of_range(g: LoadedGenerator, seed: int = 0, scales=(1.0, 2.0, 4.0, 8.0)) -> list[Failure]:
    """The same latent pushed far outside N(0, I): the first seed's garbled colours."""
    images = g.generate(np.concatenate([g.latents(seed, 1, psi=s) for s in scales]))
    return [Failure("out_of_range", g.path.parent.name, seed, float(s), image=im) for s, im in zip(scales, images)]


def snapshots(model_folder: str | Path) -> list[Failure]:
    """Sample grids kept during training (samples/step_XXXXXX.png), oldest first."""
    folder = Path(model_folder) / "samples"
    out = []
    for p in sorted(folder.glob("step_*.png")) if folder.exists() else []:
        m = re.fullmatch(r"step_(\d+)\.png", p.name)
        if m:
            out.append(Failure("snapshot", Path(model_folder).name, step=int(m.group(1)), path=str(p)))
    return out
