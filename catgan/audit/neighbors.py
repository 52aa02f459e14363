"""Nearest training images of a generated (or uploaded) image, in three spaces.

- pixel:      L2 between raw pixels (the cat-face seed's check)
- pixel_flip: the same, but a mirrored query may match too (a flip is no new cat)
- feature:    L2 in the dataset's robust feature space (catgan.audit.spaces: the sticker space for the
              renderer's stickers, EfficientNet otherwise), mirror allowed too: far for a mere colour
              shift, and a flip finds its original whether or not the space itself ignores flips

A verdict compares a sample's nearest distance with the dataset's own nearest-
neighbour distances (real to real): below the 1st percentile is "memorised",
below the 5th "near", otherwise "novel".
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from sklearn.neighbors import NearestNeighbors

from catgan.audit import spaces as feature_spaces
from catgan.data.dataset import Dataset, cache_root
from catgan.io import atomic_write_json

SPACES = ("pixel", "pixel_flip", "feature")
MEMORISED_PCT, NEAR_PCT = 1.0, 5.0


@dataclass
class Match:
    index: int          # into the training set
    distance: float
    flipped: bool = False


@dataclass
class Neighbours:
    space: str
    matches: list[Match]
    verdict: str


@dataclass
class NeighbourIndex:
    dataset: Dataset
    resolution: int
    pixels: NearestNeighbors           # fitted on 0-255 float pixels: distances are divided by 255
    features: NearestNeighbors
    space: feature_spaces.FeatureSpace
    fingerprint: str                   # the dataset's when the index was built
    thresholds: dict = field(default_factory=dict)    # space -> (memorised, near) distance

    def stale(self) -> bool:
        """Whether the dataset has been rewritten (or removed) since."""
        try:
            return self.dataset.fingerprint != self.fingerprint
        except OSError:
            return True

    def query(self, images: np.ndarray, k: int = 5) -> list[dict[str, Neighbours]]:
        """For each image (uint8 N x H x W x 3, any size), its k nearest in every space."""
        images = _check_images(images)
        k = min(k, len(self.dataset))
        n = len(images)
        both = np.concatenate([images, images[:, :, ::-1]])     # plain and mirrored queries in one pass
        d_px, i_px = self.pixels.kneighbors(_as_pixels(both, self.resolution), k)
        d_ft, i_ft = self.features.kneighbors(self.space.features(both), k)
        out = []
        for j in range(n):
            plain = _matches(d_px[j] / 255, i_px[j])
            either = _either(plain, _matches(d_px[n + j] / 255, i_px[n + j], True), k)
            feat = _either(_matches(d_ft[j], i_ft[j]), _matches(d_ft[n + j], i_ft[n + j], True), k)
            out.append({s: Neighbours(s, ms, self.verdict(s, ms[0].distance))
                        for s, ms in (("pixel", plain), ("pixel_flip", either), ("feature", feat))})
        return out

    def verdict(self, space: str, distance: float) -> str:
        memorised, near = self.thresholds[space]
        return "memorised" if distance < memorised else "near" if distance < near else "novel"


def _matches(distances, indices, flipped=False) -> list[Match]:
    return [Match(int(i), float(d), flipped) for d, i in zip(distances, indices)]


def _either(plain: list[Match], mirrored: list[Match], k: int) -> list[Match]:
    """The k nearest training images when the query or its mirror may match, each image once."""
    best: dict[int, Match] = {}
    for m in sorted(plain + mirrored, key=lambda m: m.distance):
        best.setdefault(m.index, m)
    return sorted(best.values(), key=lambda m: m.distance)[:k]


def _check_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] not in (3, 4) or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 RGB images (N x H x W x 3), got {images.dtype} {images.shape}")
    return images[..., :3]


def _as_pixels(images: np.ndarray, resolution: int) -> np.ndarray:
    if images.shape[1:3] != (resolution, resolution):
        images = np.stack([np.asarray(Image.fromarray(im).resize((resolution, resolution), Image.Resampling.LANCZOS))
                           for im in images])
    return images.reshape(len(images), -1).astype(np.float32)      # 0-255: one pass over 10,000 images


def nearest_by_pixels(images: np.ndarray, queries: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each query's nearest image by pixel L2 (same size, uint8), searched in chunks: no index to build."""
    q = queries.reshape(len(queries), -1).astype(np.float32)
    best_d, best_i = np.full(len(q), np.inf, np.float32), np.zeros(len(q), np.int64)
    for start in range(0, len(images), chunk):
        x = np.asarray(images[start:start + chunk]).reshape(-1, q.shape[1]).astype(np.float32)
        d = (q ** 2).sum(1)[:, None] - 2 * q @ x.T + (x ** 2).sum(1)[None]
        j = d.argmin(1)
        better = d[np.arange(len(q)), j] < best_d
        best_d[better], best_i[better] = d[np.arange(len(q)), j][better], start + j[better]
    return np.sqrt(np.maximum(best_d, 0)) / 255.0, best_i


def _nearest_other(nn: NearestNeighbors, queries: np.ndarray, own: np.ndarray) -> np.ndarray:
    d, i = nn.kneighbors(queries, 2)
    return np.where(i[:, 0] == own, d[:, 1], d[:, 0])


def build_index(ds: Dataset, reference: int = 1000, seed: int = 0, progress: bool = True,
                on_batch=None) -> NeighbourIndex:
    """Fit the searches and learn the distance thresholds from `reference` real images.

    The features are the dataset's cached ones in its robust space, shared with the quality hook and
    the Failure gallery; `on_batch(done, total)` reports their pass, the slow part of a first use.
    """
    res, space, fingerprint = ds.resolution, feature_spaces.spaces_for(ds)[0], ds.fingerprint
    images = np.asarray(ds.images)
    px = _as_pixels(images, res)
    ft = feature_spaces.dataset_features(ds, space, progress=progress, on_batch=on_batch)
    pixels = NearestNeighbors(algorithm="brute").fit(px)
    features = NearestNeighbors(algorithm="brute").fit(ft)
    index = NeighbourIndex(ds, res, pixels, features, space, fingerprint)
    key = feature_spaces.dataset_key(ds, space)
    cached = cache_root() / "features" / f"neighbours-{space.key}-{key}-{reference}-{seed}.json"
    try:
        index.thresholds = {k: tuple(v) for k, v in json.loads(cached.read_text()).items()}
        return index
    except (OSError, json.JSONDecodeError, AttributeError):
        pass
    # Real-to-real: each reference image's nearest *other* training image, plain and mirror allowed
    # (seconds of search and 1,000 mirrored features: cached).
    pick = np.random.default_rng(seed).choice(len(ds), size=min(reference, len(ds)), replace=False)
    mirrored = images[pick][:, :, ::-1]
    d_px = _nearest_other(pixels, px[pick], pick) / 255
    d_fl = np.minimum(d_px, _nearest_other(pixels, _as_pixels(mirrored, res), pick) / 255)
    d_ft = np.minimum(_nearest_other(features, ft[pick], pick),
                      _nearest_other(features, space.features(mirrored), pick))
    for name, d in (("pixel", d_px), ("pixel_flip", d_fl), ("feature", d_ft)):
        index.thresholds[name] = (float(np.percentile(d, MEMORISED_PCT)), float(np.percentile(d, NEAR_PCT)))
    atomic_write_json(cached, index.thresholds)
    return index


def memorisation_rate(index: NeighbourIndex, images: np.ndarray, space: str = "feature") -> dict:
    """Share of images whose nearest training image is closer than the memorised threshold."""
    verdicts = [r[space].verdict for r in index.query(images, k=1)]
    share = {v: verdicts.count(v) / len(verdicts) for v in ("memorised", "near", "novel")}
    return {"space": space, "features": index.space.key, "mirror_allowed": space != "pixel", "n": len(verdicts),
            **share}
