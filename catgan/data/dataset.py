"""The prepared-dataset folder: `images.npy` (uint8 N x H x W x 3) + `dataset.json`.

Every source (the embedded stickers, a sticker folder, the CAT dataset) ends up in
this one format, so training, auditing and the app never care where data came from.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock
from tqdm import tqdm

from catgan.io import atomic_dir
from catgan.data import render

DEFAULT_NAME = "stickers"
DEFAULT_N = 10_000
FORMAT_VERSION = 1


class DatasetError(ValueError):
    pass


@dataclass
class Dataset:
    path: Path
    images: np.ndarray          # memory-mapped, uint8 N x H x W x 3
    info: dict

    def __len__(self) -> int:
        return len(self.images)

    @property
    def resolution(self) -> int:
        return int(self.images.shape[1])

    @property
    def labels(self) -> dict[str, np.ndarray] | None:
        """Per-image integer labels by attribute (pose, item, ...), where the source knows them."""
        lab = self.info.get("labels")
        return {k: np.asarray(v) for k, v in lab.items()} if lab else None

    @property
    def originals(self) -> int:
        """How many distinct images the set was made from (before flips, rotations and zooms)."""
        given = self.info.get("originals")
        if isinstance(given, list):          # `catgan prepare stickers` keeps the original file names
            return len(given)
        return int(given) if given else len(self)

    @property
    def label_names(self) -> dict[str, list[str]]:
        return self.info.get("label_names", {})

    @property
    def fingerprint(self) -> str:
        """Identifies the content: changes whenever images.npy is rewritten."""
        st = (self.path / "images.npy").stat()
        return f"{st.st_size}-{st.st_mtime_ns}-{self.info.get('created', '')}"


def cache_root() -> Path:
    return Path(os.environ.get("CATGAN_CACHE", Path.home() / ".cache" / "catgan"))


def write_dataset(out: str | Path, images: np.ndarray, info: dict) -> Dataset:
    images = np.ascontiguousarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise DatasetError(f"images must be uint8 N x H x W x 3, got {images.dtype} {images.shape}")
    if len(images) == 0:
        raise DatasetError(f"refusing to write an empty dataset to {out}: no usable images")
    info = {"format": FORMAT_VERSION, "count": len(images), "resolution": int(images.shape[1]),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **info}
    with atomic_dir(out) as tmp:
        np.save(tmp / "images.npy", images)
        (tmp / "dataset.json").write_text(json.dumps(info))
    return load_dataset(out)


def load_dataset(path: str | Path) -> Dataset:
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"dataset folder {path} does not exist; make one with `catgan prepare ...` "
                           f"or use the embedded default '{DEFAULT_NAME}'")
    npy, meta = path / "images.npy", path / "dataset.json"
    if not npy.is_file() or not meta.is_file():
        raise DatasetError(f"{path} is not a prepared dataset (needs images.npy and dataset.json); "
                           "prepare one with `catgan prepare stickers|cat-faces|synthetic`")
    try:
        info = json.loads(meta.read_text())
        images = np.load(npy, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DatasetError(f"{path} is damaged ({e}); prepare it again") from e
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2]:
        raise DatasetError(f"{npy} holds {images.dtype} {images.shape}; expected uint8 N x S x S x 3")
    if len(images) == 0:
        raise DatasetError(f"{path} holds no images")
    return Dataset(path, images, info)


def render_stickers(n: int, size: int, seed: int, progress: bool = True) -> tuple[np.ndarray, dict]:
    images = np.empty((n, size, size, 3), np.uint8)
    labels = {k: np.empty(n, np.int16) for k in render.LABEL_NAMES}
    for i in tqdm(range(n), desc=f"rendering {n} stickers", disable=not progress, leave=False):
        images[i], lab = render.render_one(seed, i, size)
        for k, v in lab.items():
            labels[k][i] = render.LABEL_NAMES[k].index(v)
    return images, {k: v.tolist() for k, v in labels.items()}


def make_synthetic(out: str | Path, n: int, size: int, seed: int = 0, originals: int | None = None,
                   progress: bool = True) -> Dataset:
    """Render `n` stickers; with `originals`, render that many and expand them to `n` by augmentation."""
    from catgan.data.augment import augment_many
    info = {"source": "synthetic", "renderer_version": render.RENDERER_VERSION, "seed": seed,
            "label_names": {k: list(v) for k, v in render.LABEL_NAMES.items()}}
    if originals:
        base, base_labels = render_stickers(originals, size, seed, progress)
        images, parent = augment_many(base, n, size, np.random.default_rng([seed, 1]), progress=progress)
        labels = {k: [v[p] for p in parent] for k, v in base_labels.items()}
        info.update(originals=originals, augmented=True)
    else:
        images, labels = render_stickers(n, size, seed, progress)
    return write_dataset(out, images, {**info, "labels": labels})


def default_dataset(size: int = 64, n: int = DEFAULT_N, seed: int = 0, progress: bool = True) -> Dataset:
    """The embedded sticker dataset, rendered once into the cache folder and reused after."""
    path = cache_root() / "datasets" / f"{DEFAULT_NAME}-{size}px-{n}-seed{seed}-r{render.RENDERER_VERSION}"
    if not (path / "dataset.json").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):         # two processes on first use: one renders
            if not (path / "dataset.json").exists():
                make_synthetic(path, n, size, seed, progress=progress)
    return load_dataset(path)


def resolve_dataset(name_or_path: str | Path, size: int = 64) -> Dataset:
    """A dataset by path, or the embedded default by name ('stickers')."""
    if str(name_or_path) == DEFAULT_NAME:
        return default_dataset(size)
    return load_dataset(name_or_path)


def dataset_for(meta: dict):
    """The dataset a model was trained on: the embedded default by name, else its recorded folder."""
    info = meta.get("dataset", {})
    path = Path(info.get("path", ""))
    if info.get("name") == DEFAULT_NAME or (info.get("source") == "synthetic" and not path.exists()):
        return resolve_dataset(DEFAULT_NAME, int(meta["resolution"]))
    return load_dataset(path)
