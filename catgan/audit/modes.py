"""Mode coverage on a labelled dataset (the embedded stickers know each image's pose, item, coat).

A logistic-regression probe on the pretrained features learns each attribute from
real images; it then labels generated images, and we compare the two histograms.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from catgan.audit.features import dataset_key
from catgan.data.dataset import Dataset, cache_root
from catgan.io import atomic_write_bytes

ATTRIBUTES = ("pose", "item", "coat")
COVERED_FRACTION = 0.25   # a mode is covered when its generated share is >= 1/4 of its real share


@dataclass
class AttributeProbe:
    """Per attribute: standardiser + linear classifier, stored as plain arrays (no pickle)."""
    names: dict[str, list[str]]
    mean: np.ndarray
    scale: np.ndarray
    coef: dict[str, np.ndarray]
    intercept: dict[str, np.ndarray]
    accuracy: dict[str, float]

    def predict(self, feats: np.ndarray) -> dict[str, np.ndarray]:
        z = (feats - self.mean) / self.scale
        return {a: (z @ self.coef[a].T + self.intercept[a]).argmax(1) for a in self.coef}

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {"mean": self.mean, "scale": self.scale}
        for a in self.coef:
            arrays[f"coef_{a}"], arrays[f"intercept_{a}"] = self.coef[a], self.intercept[a]
            arrays[f"acc_{a}"] = np.array(self.accuracy[a])
            arrays[f"names_{a}"] = np.array(self.names[a])
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_file(cls, path) -> "AttributeProbe":
        z = np.load(path, allow_pickle=False)
        attrs = [k[5:] for k in z.files if k.startswith("coef_")]
        return cls({a: [str(n) for n in z[f"names_{a}"]] for a in attrs}, z["mean"], z["scale"],
                   {a: z[f"coef_{a}"] for a in attrs}, {a: z[f"intercept_{a}"] for a in attrs},
                   {a: float(z[f"acc_{a}"]) for a in attrs})


def train_probe(ds: Dataset, feats: np.ndarray, holdout: float = 0.2, seed: int = 0) -> AttributeProbe:
    labels = ds.labels
    if not labels:
        raise ValueError(f"{ds.path} has no per-image labels, so mode coverage cannot be measured "
                         "(only the embedded sticker dataset carries them)")
    n = len(feats)
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:int(n * holdout)], order[int(n * holdout):]
    scaler = StandardScaler().fit(feats[train])
    x = scaler.transform(feats)
    coef, intercept, acc, names = {}, {}, {}, {}
    for a in ATTRIBUTES:
        y = labels[a]
        clf = LogisticRegression(max_iter=300, C=0.5).fit(x[train], y[train])
        k = len(ds.label_names[a])
        # expand to every class of the attribute, even ones absent from the training split
        coef[a] = np.full((k, x.shape[1]), 0.0)
        intercept[a] = np.full(k, -1e9)
        coef[a][clf.classes_], intercept[a][clf.classes_] = clf.coef_, clf.intercept_
        acc[a] = float((clf.predict(x[test]) == y[test]).mean())
        names[a] = list(ds.label_names[a])
    return AttributeProbe(names, scaler.mean_, scaler.scale_, coef, intercept, acc)


def probe_for(ds: Dataset, feats: np.ndarray) -> AttributeProbe:
    """The probe for a dataset, trained once and cached beside its features."""
    path = cache_root() / "features" / f"probe-{dataset_key(ds)}.npz"
    if path.exists():
        return AttributeProbe.from_file(path)
    probe = train_probe(ds, feats)
    atomic_write_bytes(path, probe.to_bytes())
    return probe


def mode_coverage(ds: Dataset, probe: AttributeProbe, fake_feats: np.ndarray) -> dict:
    real = {a: ds.labels[a] for a in ATTRIBUTES}
    fake = probe.predict(fake_feats)
    hist = {}
    for a in ATTRIBUTES:
        k = len(probe.names[a])
        r = np.bincount(real[a], minlength=k) / len(real[a])
        f = np.bincount(fake[a], minlength=k) / len(fake[a])
        hist[a] = {name: {"real": float(r[i]), "generated": float(f[i])} for i, name in enumerate(probe.names[a])}
    kp, ki = len(probe.names["pose"]), len(probe.names["item"])
    joint_r = np.bincount(real["pose"] * ki + real["item"], minlength=kp * ki) / len(real["pose"])
    joint_f = np.bincount(fake["pose"] * ki + fake["item"], minlength=kp * ki) / len(fake["pose"])
    present = joint_r > 0
    covered = (joint_f >= COVERED_FRACTION * joint_r) & present
    eps = 1e-6
    kl = float(np.sum(joint_r[present] * np.log(joint_r[present] / (joint_f[present] + eps))))
    return {"probe_accuracy": probe.accuracy, "histograms": hist,
            "modes": int(present.sum()), "modes_covered": int(covered.sum()),
            "mode_coverage": float(covered.sum() / present.sum()), "kl_real_to_generated": kl}
