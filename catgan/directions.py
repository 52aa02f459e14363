"""Latent directions that mean something, for any generator.

Principal directions (GANSpace-style, no labels needed): PCA of many samples, taken on the images
shrunk to 16 px (the same for every family, no hooks into the nets), mapped back to latent space by
least squares, so that moving z along a component moves the images along that principal component.

Named directions (InterFaceGAN-style), where the model learnt the renderer's stickers: the sticker
space's classifier labels the samples (pose, item, coat, eyes) and a linear boundary per label value
(logistic regression on z) gives a unit normal pointing towards that value, made orthogonal to the
other attributes' normals (the conditional edit) so it changes its own attribute first.

Every direction has unit length in z; an amount of 3 moves z by three standard deviations, the range
InterFaceGAN edits over. In W (a model with a mapping network) the same holds: a direction's length is
the standard deviation of the model's latents along it, so an amount still counts standard deviations.
`effect` is the mean pixel change (0-255) that amount causes, measured on
fixed seeds, and the directions report it beside that of random directions of the same length.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from catgan.data.dataset import cache_root
from catgan.io import atomic_write_bytes

VERSION = 2                   # bump when directions are found differently: old cache files go stale
N_SAMPLES = 3000
N_COMPONENTS = 8
PROBE_SEEDS = 32              # seeds an effect is measured on
AMOUNT = 3.0
MIN_LABEL_SHARE = 0.01        # a label value the model almost never draws gets no direction


@dataclass
class Direction:
    name: str                  # "coat: orange", "pc 1"
    kind: str                  # "label" or "pc"
    vector: np.ndarray         # one standard deviation of the latents along it (unit length in z), latent_dim
    effect: float              # mean |pixel change| (0-255) of moving PROBE_SEEDS latents by AMOUNT

    def summary(self) -> dict:
        return {"name": self.name, "kind": self.kind, "effect": round(self.effect, 2)}


@dataclass
class DirectionSet:
    directions: list[Direction]
    random_effect: float        # the same measure for random unit directions (the baseline)
    samples: int

    def by_name(self, name: str) -> Direction:
        for d in self.directions:
            if d.name == name:
                return d
        raise ValueError(f"no direction named {name!r}; this model has: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [d.name for d in self.directions]

    def summary(self) -> dict:
        return {"samples": self.samples, "random_effect": round(self.random_effect, 2),
                "directions": [d.summary() for d in self.directions]}


def has_labels(meta: dict) -> bool:
    """Whether the model learnt the renderer's stickers, whose labels the sticker space can read."""
    return meta.get("dataset", {}).get("source") == "synthetic"


def effect(g, vector: np.ndarray, amount: float = AMOUNT, seeds: int = PROBE_SEEDS) -> float:
    """Mean absolute pixel change (0-255) when fixed latents move by `amount` along `vector`."""
    z = g.random_latents(seeds, seed=1)
    before = g.generate(z).astype(np.float32)
    after = g.generate(z + amount * vector[None]).astype(np.float32)
    return float(np.abs(after - before).mean())


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(np.linalg.norm(v), 1e-12)).astype(np.float32)


def _per_sd(v: np.ndarray, latents: np.ndarray, space: str) -> np.ndarray:
    """A unit direction scaled to one standard deviation of the latents along it: itself in z (N(0, I)
    has 1 along every direction), W's own spread for a mapping network's latents."""
    return v if space == "z" else (v * float((latents @ v).std())).astype(np.float32)


def principal_directions(z: np.ndarray, images: np.ndarray, k: int = N_COMPONENTS) -> list[np.ndarray]:
    """GANSpace in image space: PCA of the samples at 16 px, each component regressed back onto z."""
    from sklearn.decomposition import PCA
    small = _shrink(images).reshape(len(images), -1)
    coords = PCA(n_components=k, random_state=0).fit_transform(small)          # n x k
    coords /= coords.std(axis=0, keepdims=True) + 1e-8
    basis, *_ = np.linalg.lstsq(coords, z - z.mean(0), rcond=None)              # k x latent_dim
    return [_unit(b) for b in basis]


def _shrink(images: np.ndarray, size: int = 16) -> np.ndarray:
    n, h = images.shape[:2]
    f = h // size
    return images.reshape(n, size, f, size, f, 3).mean(axis=(2, 4)).astype(np.float32) / 255.0


def label_directions(z: np.ndarray, labels: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """A unit normal per label value, pointing from the other values towards it."""
    from sklearn.linear_model import LogisticRegression
    from catgan.data.render import LABEL_NAMES
    out = []
    for attr, names in LABEL_NAMES.items():
        lab = labels[attr]
        for i, value in enumerate(names):
            y = lab == i
            if y.mean() < MIN_LABEL_SHARE or y.mean() > 1 - MIN_LABEL_SHARE:
                continue
            clf = LogisticRegression(C=0.1, max_iter=500).fit(z, y)
            out.append((attr, value, _unit(clf.coef_[0])))
    return [(f"{attr}: {value}", _orthogonal_to_other_attributes(v, attr, out)) for attr, value, v in out]


def _orthogonal_to_other_attributes(v: np.ndarray, attr: str, normals: list) -> np.ndarray:
    """InterFaceGAN's conditional edit: remove from v what the other attributes' normals span, so that
    "coat: orange" changes the coat and leaves pose, item and eyes alone as far as a linear model can.
    On the default DCGAN this made every named direction change its own label more than the others
    (eyes: 0.13 own vs 0.09 others, was 0.49 vs 0.55) at some cost in reach (orange 0.91, was 0.98)."""
    others = [u for a, _, u in normals if a != attr]
    if not others:
        return v
    basis = np.stack(others, axis=1)
    return _unit(v - basis @ np.linalg.lstsq(basis, v, rcond=None)[0])


def find(g, n: int = N_SAMPLES, on_progress=None, stopping=lambda: False) -> DirectionSet | None:
    """Every direction for a loaded generator (None if stopped). Named ones first, then components."""
    from catgan.audit import sticker_space
    report = on_progress or (lambda done, total: None)
    labelled = has_labels(g.meta)
    z = g.random_latents(n)
    chunks = []
    for i in range(0, n, 500):
        if stopping():
            return None
        chunks.append(g.generate(z[i:i + 500]))
        report(i + len(chunks[-1]), 2 * n)
    images = np.concatenate(chunks)
    found = label_directions(z, sticker_space.classify(images)) if labelled else []
    found = [(name, v, "label") for name, v in found]
    found += [(f"pc {i + 1}", v, "pc") for i, v in enumerate(principal_directions(z, images))]
    directions = []
    for j, (name, v, kind) in enumerate(found):
        if stopping():
            return None
        v = _per_sd(v, z, g.space)
        directions.append(Direction(name, kind, v, effect(g, v)))
        report(n + (j + 1) * n // len(found), 2 * n)
    rng = np.random.default_rng(2)
    randoms = [effect(g, _per_sd(_unit(rng.standard_normal(z.shape[1])), z, g.space)) for _ in range(4)]
    return DirectionSet(directions, float(np.mean(randoms)), n)


# --- the cache: one file per model file ----------------------------------------------------------
def cache_path(g):
    st = g.path.stat()
    key = hashlib.sha256(f"{g.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|v{VERSION}".encode()).hexdigest()[:20]
    return cache_root() / "directions" / f"{key}.npz"


def save(ds: DirectionSet, path) -> None:
    import io
    meta = {"random_effect": ds.random_effect, "samples": ds.samples,
            "directions": [{k: v for k, v in asdict(d).items() if k != "vector"} for d in ds.directions]}
    buf = io.BytesIO()
    np.savez(buf, vectors=np.stack([d.vector for d in ds.directions]), meta=np.array(json.dumps(meta)))
    atomic_write_bytes(path, buf.getvalue())


def load(path) -> DirectionSet:
    with np.load(path, allow_pickle=False) as f:
        vectors, meta = f["vectors"], json.loads(str(f["meta"]))
    dirs = [Direction(d["name"], d["kind"], vectors[i], d["effect"]) for i, d in enumerate(meta["directions"])]
    return DirectionSet(dirs, meta["random_effect"], meta["samples"])


def cached(g, on_progress=None, stopping=lambda: False) -> DirectionSet | None:
    """The model's directions: read from the cache, else found (slow, a few seconds) and saved."""
    path = cache_path(g)
    if path.exists():
        try:
            return load(path)
        except (OSError, ValueError, KeyError):
            pass                        # an unreadable cache file is found again and overwritten
    found = find(g, on_progress=on_progress, stopping=stopping)
    if found is not None:
        save(found, path)
    return found


def edit(z: np.ndarray, directions: DirectionSet, amounts: dict[str, float]) -> np.ndarray:
    """z moved by `amount` along each named direction."""
    z = np.array(z, dtype=np.float32, copy=True)
    for name, amount in amounts.items():
        if amount:
            z = z + amount * directions.by_name(name).vector
    return z.astype(np.float32)
