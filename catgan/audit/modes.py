"""Label-based measures on a labelled dataset (the embedded stickers know each image's pose, item, coat, eyes).

The sticker space's heads label generated images; they were trained on degraded copies, so
pixel noise does not change a label. We then compare label histograms with the real ones:
per attribute, and over the pose x item combinations ("modes").
"""
from __future__ import annotations

import numpy as np

from catgan.audit import sticker_space
from catgan.data.dataset import Dataset

ATTRIBUTES = tuple(sticker_space.ATTRIBUTES)        # pose, item, coat, eyes
COVERED_FRACTION = 0.25   # a mode is covered when its generated share is >= 1/4 of its real share
KL_EPS = 1e-6             # a mode a model never draws costs log(share / 1e-6), not infinity


def combination_measures(real_pose, real_item, fake_pose, fake_item, n_pose: int, n_item: int) -> dict:
    """Pose x item: how many combinations present in the real data the model draws, and KL(real || generated)."""
    joint_r = np.bincount(np.asarray(real_pose) * n_item + real_item, minlength=n_pose * n_item) / len(real_pose)
    joint_f = np.bincount(np.asarray(fake_pose) * n_item + fake_item, minlength=n_pose * n_item) / len(fake_pose)
    present = joint_r > 0
    covered = (joint_f >= COVERED_FRACTION * joint_r) & present
    kl = float(np.sum(joint_r[present] * np.log(joint_r[present] / (joint_f[present] + KL_EPS))))
    return {"modes": int(present.sum()), "modes_covered": int(covered.sum()),
            "mode_coverage": float(covered.sum() / present.sum()), "kl_real_to_generated": kl}


def label_measures(ds: Dataset, fake_images: np.ndarray | None, check: np.ndarray | None = None,
                   fake_labels: dict[str, np.ndarray] | None = None) -> dict:
    """Histograms, combination coverage and KL for generated images against the dataset's labels.

    Pass `fake_labels` where the sticker space has already labelled the images. With `check`
    (indices into the dataset), also the classifier's accuracy on those real images.
    """
    if not ds.labels:
        raise ValueError(f"{ds.path} has no per-image labels, so label measures cannot be computed "
                         "(only the embedded sticker dataset carries them)")
    names = ds.label_names
    real = {a: np.asarray(ds.labels[a]) for a in ATTRIBUTES}
    fake = fake_labels if fake_labels is not None else sticker_space.classify(fake_images)
    hist = {}
    for a in ATTRIBUTES:
        k = len(names[a])
        r, f = np.bincount(real[a], minlength=k) / len(real[a]), np.bincount(fake[a], minlength=k) / len(fake[a])
        hist[a] = {name: {"real": float(r[i]), "generated": float(f[i])} for i, name in enumerate(names[a])}
    out = {"labelled_by": sticker_space.SPACE, "histograms": hist,
           **combination_measures(real["pose"], real["item"], fake["pose"], fake["item"],
                                  len(names["pose"]), len(names["item"]))}
    if check is not None:
        pred = sticker_space.classify(np.asarray(ds.images)[check])
        out["classifier_accuracy_on_real"] = {a: float((pred[a] == real[a][check]).mean()) for a in ATTRIBUTES}
    return out


def label_agreement(asked: dict[str, np.ndarray], read: dict[str, np.ndarray]) -> dict:
    """Does a conditional model draw the kind of cat it is asked for? Per attribute, the share of samples
    whose label read back (by the sticker space's heads) is the one asked, beside the share a model that
    ignored its labels would reach (sum over values of asked share x read share); "all": every attribute at
    once. The classifier's accuracy on real stickers is the ceiling."""
    out = {}
    for a in asked:
        want, got = np.asarray(asked[a]), np.asarray(read[a])
        k = int(max(want.max(initial=0), got.max(initial=0))) + 1
        chance = float(np.bincount(want, minlength=k) @ np.bincount(got, minlength=k)) / max(len(want), 1) ** 2
        out[a] = {"agreement": float((want == got).mean()), "if_ignored": chance}
    out["all"] = float(np.all([np.asarray(asked[a]) == np.asarray(read[a]) for a in asked], axis=0).mean())
    return out


MIN_PER_PAIR = 20     # a pair's within-label diversity is measured where both sides have this many images


def within_pair_diversity(real_f, real_pose, real_item, fake_f, fake_pose, fake_item,
                          names: dict[str, list[str]]) -> dict:
    """Diversity within each kind: recall and coverage (k-NN balls in a feature space) of each pose x item
    pair's samples against that pair's real images, so a model that draws one cat per kind is caught even
    where its mix of kinds is right. The means over the pairs with MIN_PER_PAIR images on both sides, and
    the three least diverse pairs."""
    from catgan.audit.metrics import prdc
    n_item = len(names["item"])
    pair_r = np.asarray(real_pose) * n_item + np.asarray(real_item)
    pair_f = np.asarray(fake_pose) * n_item + np.asarray(fake_item)
    rows = []
    for pair in np.unique(pair_r):
        r, f = np.asarray(real_f)[pair_r == pair], np.asarray(fake_f)[pair_f == pair]
        if min(len(r), len(f)) < MIN_PER_PAIR:
            continue
        m = prdc(r, f)
        rows.append({"pose": names["pose"][pair // n_item], "item": names["item"][pair % n_item],
                     "recall": round(m["recall"], 3), "coverage": round(m["coverage"], 3), "n": int(len(f))})
    if not rows:
        return {"pairs_measured": 0}
    return {"pairs_measured": len(rows), "recall": round(float(np.mean([r["recall"] for r in rows])), 4),
            "coverage": round(float(np.mean([r["coverage"] for r in rows])), 4),
            "least_diverse": sorted(rows, key=lambda r: r["coverage"])[:3]}


RARE_RATIO = 0.5      # a pair is drawn rarely when its generated share is under half its real share
MIN_JUDGED = 20       # a pair's caught share is shown only when the detector judged this many of its samples


def pair_table(real_pose, real_item, fake_pose, fake_item, names: dict[str, list[str]],
               caught: np.ndarray | None = None) -> list[dict]:
    """Every pose x item pair present in the real data: its real and generated shares, and, with `caught`
    (per generated image: 1 the detector called it fake, 0 real, -1 not judged), the share of the pair's
    judged samples caught. Sorted from the rarest drawn (generated / real share) up."""
    n_item = len(names["item"])
    pair_r = np.asarray(real_pose) * n_item + np.asarray(real_item)
    pair_f = np.asarray(fake_pose) * n_item + np.asarray(fake_item)
    rows = []
    for pair in np.unique(pair_r):
        share_r, share_f = float((pair_r == pair).mean()), float((pair_f == pair).mean())
        row = {"pose": names["pose"][pair // n_item], "item": names["item"][pair % n_item],
               "real": round(share_r, 4), "generated": round(share_f, 4), "ratio": round(share_f / share_r, 3)}
        if caught is not None:
            judged = caught[(pair_f == pair) & (caught >= 0)]
            row.update(judged=int(len(judged)), caught=round(float(judged.mean()), 3) if len(judged) else None)
        rows.append(row)
    return sorted(rows, key=lambda r: r["ratio"])


def gaps(rows: list[dict], k: int = 5) -> dict[str, list[dict]]:
    """The pairs a model draws rarely (under RARE_RATIO of their real share) and, of those it draws
    often enough to judge, the k the detector catches most often."""
    judged = [r for r in rows if (r.get("judged") or 0) >= MIN_JUDGED]
    return {"rare": [r for r in rows if r["ratio"] < RARE_RATIO],
            "caught": sorted(judged, key=lambda r: -r["caught"])[:k]}
