"""`catgan eval`: every quality number for one model, saved beside it as eval.json."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from catgan.audit import features as feats
from catgan.audit.failures import seed_latents
from catgan.audit.metrics import all_metrics
from catgan.audit.modes import mode_coverage, probe_for
from catgan.audit.neighbors import build_index, memorisation_rate
from catgan.data.dataset import Dataset, resolve_dataset
from catgan.generator import load_generator
from catgan.io import atomic_write_json
from catgan.zoo import dataset_for

EVAL_FILE = "eval.json"
EVAL_SEED = 1_000_000       # generated samples use seeds EVAL_SEED, EVAL_SEED + 1, ...


def _check_n(ds: Dataset, n: int, need: int):
    if n < 10:
        raise ValueError(f"--n {n} is too small for meaningful metrics; use at least 10")
    if need > len(ds):
        raise ValueError(f"--n {n} needs {need} real images but {ds.path} holds {len(ds)}; "
                         f"use --n {len(ds) // (need // n)} or less")


def generate_features(g, n: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    images, out = [], []
    for i in tqdm(range(0, n, 256), desc="generating", disable=not progress, leave=False):
        batch = g.generate(seed_latents(g, range(EVAL_SEED + i, EVAL_SEED + min(i + 256, n))))
        images.append(batch)
        out.append(feats.features(batch))
    return np.concatenate(images), np.concatenate(out)


def real_vs_real(ds: Dataset, n: int, seed: int = 0) -> dict:
    """The floor: the same metrics between two disjoint halves of the real data."""
    n = min(n, len(ds) // 2)
    f = feats.dataset_features(ds)
    order = np.random.default_rng(seed).permutation(len(ds))
    return all_metrics(f[order[:n]], f[order[n:2 * n]], feats.SPACE)


def evaluate(checkpoint: str | Path, data: str | None = None, n: int = 5000, memorisation_n: int = 1000,
             out: str | Path | None = None, progress: bool = True) -> dict:
    t0 = time.time()
    g = load_generator(checkpoint)
    ds = resolve_dataset(data, g.resolution) if data else dataset_for(g.meta)
    _check_n(ds, n, n)
    real_all = feats.dataset_features(ds, progress=progress)
    pick = np.random.default_rng(0).choice(len(ds), n, replace=False)
    images, fake = generate_features(g, n, progress)
    report = {"model": str(checkpoint), "family": g.family, "step": g.meta.get("step"), "dataset": str(ds.path),
              **all_metrics(real_all[pick], fake, feats.SPACE)}
    if ds.labels:
        report["modes"] = mode_coverage(ds, probe_for(ds, real_all), fake)
    index = build_index(ds, progress=progress)
    report["memorisation"] = memorisation_rate(index, images[:memorisation_n])
    report["seconds"] = round(time.time() - t0, 1)
    target = Path(out) if out else Path(checkpoint).parent / EVAL_FILE
    atomic_write_json(target, report)
    return report
