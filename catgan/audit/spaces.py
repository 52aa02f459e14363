"""The feature spaces quality is measured in, their cached dataset features, and how robust each is.

- sticker:      the sticker space (catgan.audit.sticker_space), for the embedded synthetic stickers
- efficientnet: EfficientNet-Lite0 with ImageNet weights, for any data (CAT photos, your stickers)

rho_T (REFERENCE section 11) says whether a space can tell a model from invisible noise:
the median feature shift a nuisance T causes, over the median 5-NN radius of real
features. Above about 0.5 the k-NN metrics in that space measure the nuisance.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np

from catgan.audit import degrade, features as effnet, sticker_space
from catgan.audit.metrics import knn_radii
from catgan.data.dataset import Dataset, cache_root
from catgan.io import atomic_write_bytes


@dataclass(frozen=True)
class FeatureSpace:
    key: str
    description: str
    features: Callable[..., np.ndarray]         # uint8 N x H x W x 3 (, progress=) -> float32 N x dim
    version: Callable[[], str]                  # changes whenever the space's weights change


@cache
def _sticker_version() -> str:
    return hashlib.sha256(sticker_space.WEIGHTS.read_bytes()).hexdigest()[:16]


SPACES = {
    "sticker": FeatureSpace("sticker", sticker_space.SPACE, sticker_space.features, _sticker_version),
    "efficientnet": FeatureSpace("efficientnet", effnet.SPACE, effnet.features, lambda: "imagenet"),
}


def spaces_for(ds: Dataset) -> list[FeatureSpace]:
    """The robust sticker space first where it applies (the renderer's stickers), then the general one."""
    own = [SPACES["sticker"]] if ds.info.get("source") == "synthetic" else []
    return own + [SPACES["efficientnet"]]


def dataset_key(ds: Dataset, space: FeatureSpace) -> str:
    """Names a dataset's content in a feature space; a rewritten dataset or new weights get a new key."""
    text = f"{ds.path.resolve()}|{ds.fingerprint}|{space.description}|{space.version()}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def features_path(ds: Dataset, space: FeatureSpace):
    """Where a dataset's features in a space are cached."""
    return cache_root() / "features" / f"{space.key}-{dataset_key(ds, space)}.npy"


def dataset_features(ds: Dataset, space: FeatureSpace | str = "efficientnet", progress: bool = True,
                     on_batch=None) -> np.ndarray:
    """Features of every image of a dataset, computed once and cached by content."""
    space = SPACES[space] if isinstance(space, str) else space
    path = features_path(ds, space)
    if path.exists():
        try:
            f = np.load(path, allow_pickle=False)
            if len(f) == len(ds):
                return f
        except (ValueError, OSError):
            pass                                 # damaged cache: recompute
    f = space.features(np.asarray(ds.images), progress=progress, on_batch=on_batch)
    buf = io.BytesIO()
    np.save(buf, f)
    atomic_write_bytes(path, buf.getvalue())
    return f


def rho(space: FeatureSpace, images: np.ndarray, reference: np.ndarray, k: int = 5) -> dict[str, float]:
    """rho_T for each nuisance: median feature shift of `images` / median k-NN radius of `reference` features."""
    radius = float(np.median(knn_radii(reference, k)))
    clean = space.features(images)
    return {name: float(np.median(np.linalg.norm(space.features(t(images)) - clean, axis=1)) / radius)
            for name, t in degrade.NUISANCES.items()}
