"""Quality measured while a GAN trains: the hook the trainer calls, as stylegan2-ada-pytorch's metric_main.

Every `every_kimg` thousand images the trainer hands the hook a function that draws uint8 samples
from its sampling net (EMA where there is one). The hook scores a fixed set of latents in the
dataset's robust feature space (the sticker space for the renderer's stickers, EfficientNet for
anything else) against real features computed once and cached per dataset: FD, precision, recall,
density, coverage, pose x item coverage where the space has label heads, and the spectrum's `hf` (fine
detail the robust spaces are blind to: below 0 is blurrier than the real images, see audit/spectrum).
Some points also carry the model's fake detectability (catgan.audit.detect, the eval's protocol with
one seed): the first point, then whenever its measured cost keeps detection within DETECT_BUDGET of
the training time so far. Each point is one JSON line in the run folder's quality.jsonl. Families
never see it.

Which point is best is decided by catgan.runs.best_row (detectability where both points carry it,
else FD with a blur guard); the trainer saves that point's weights.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from catgan.audit import detect, modes, reconstruction, spectrum, sticker_space
from catgan.labels import LabelSpace
from catgan.audit.metrics import frechet, prdc
from catgan.audit.spaces import FeatureSpace, dataset_features, spaces_for
from catgan.data.dataset import Dataset
from catgan.io import atomic_write_bytes
from catgan.runs import QUALITY, best_row, read_quality

BEST = "best.safetensors"
DEFAULT_N = {"sticker": 1000, "efficientnet": 300}   # samples per point: a few seconds each on 2 CPU cores
LATENT_SEED = 4242                                   # the same latents at every point, so points compare
DEFAULT_EVAL_KIMG = 25                               # for runs bounded by minutes, not steps
DETECT_BUDGET = 0.04          # detection's share of training time (FD points add about 1%: 5% in all)
DETECT = detect.Protocol().one_fit()
FitStopped = detect.FitStopped          # a point's detector fit given up on Stop (the trainer drops the point)


def default_eval_kimg(steps: int, batch: int, max_minutes: float | None = None,
                      max_kimg: float | None = None) -> float:
    """About 15 quality points over a run bounded by steps or images (a point then costs under 5% of the
    run's time for the cpu presets); every 25 k images for runs bounded by minutes."""
    total_kimg = steps * batch / 1000
    if max_kimg:
        total_kimg = min(total_kimg, max_kimg)
    elif max_minutes or total_kimg > 20 * 1000:
        return DEFAULT_EVAL_KIMG
    return max(round(total_kimg / 15, 1), 0.1)


@dataclass
class Reference:
    """A dataset's real side, once per run: feature mean and covariance, a subset for k-NN and its
    power spectrum, the dataset itself for its labels."""
    space: FeatureSpace
    mu: np.ndarray
    sigma: np.ndarray
    subset: np.ndarray          # n real features for precision / recall / density / coverage
    spectrum: np.ndarray        # the same n real images' radial log power
    dataset: Dataset


def reference(ds: Dataset, n: int, space: FeatureSpace | None = None) -> Reference:
    space = space or spaces_for(ds)[0]
    f = dataset_features(ds, space, progress=False).astype(np.float64)
    pick = np.sort(np.random.default_rng(0).choice(len(f), min(n, len(f)), replace=False))
    return Reference(space, f.mean(0), np.cov(f, rowvar=False), f[pick].astype(np.float32),
                     spectrum.radial_log_power(np.asarray(ds.images[pick])), ds)


def score(ref: Reference, images: np.ndarray, asked: dict[str, np.ndarray] | None = None) -> dict:
    """One quality point for uint8 samples N x H x W x 3; `asked`: a conditional model's labels for them (index
    per attribute), read back by the sticker space's heads as `agreement` (the mean over attributes)."""
    labelled = ref.space.key == "sticker" and ref.dataset.labels
    if labelled:              # the heads' labels come with the features, in one pass
        fake, labels = sticker_space.features_and_labels(images)
    else:
        fake = ref.space.features(images)
    fake = fake.astype(np.float64)
    row = {"fd": frechet(ref.mu, ref.sigma, fake.mean(0), np.cov(fake, rowvar=False)), **prdc(ref.subset, fake),
           "hf": spectrum.spectral_gap(ref.spectrum, spectrum.radial_log_power(images))["hf"]}
    if labelled:
        m = modes.label_measures(ref.dataset, None, fake_labels=labels)
        row.update(mode_coverage=m["mode_coverage"], kl=m["kl_real_to_generated"])
        if asked is not None and set(asked) <= set(labels):
            agree = modes.label_agreement(asked, {a: labels[a] for a in asked})
            row["agreement"] = float(np.mean([agree[a]["agreement"] for a in asked]))
    return {k: round(v, 5) for k, v in row.items()}


class QualityHook:
    """Decides when a point is due, measures it, appends it, and tracks the best point (runs.best_row)."""

    def __init__(self, out: Path, ds: Dataset, latent_dim: int, every_kimg: float, n: int | None = None,
                 space: str | None = None, labels: LabelSpace | None = None):
        self.out, self.ds, self.every = Path(out), ds, every_kimg * 1000
        spaces = {s.key: s for s in spaces_for(ds)}
        if space is not None and space not in spaces:
            raise ValueError(f"the {space!r} space does not fit {ds.path}; choose from {sorted(spaces)}")
        self.space = spaces[space] if space else next(iter(spaces.values()))
        self.n = n or DEFAULT_N[self.space.key]
        if self.n < 8:
            raise ValueError(f"--eval-n {self.n} is too few samples for a quality point; use at least 8 "
                             f"(default {DEFAULT_N[self.space.key]})")
        self.z = torch.randn(self.n, latent_dim, generator=torch.Generator().manual_seed(LATENT_SEED))
        self.detect_z = torch.randn(DETECT.n_train + DETECT.n_test, latent_dim,
                                    generator=torch.Generator().manual_seed(LATENT_SEED + 1))
        # a conditional model's fixed labels, drawn from the data's mix (None: unconditional)
        self.c = self.detect_c = self.asked = None
        if labels is not None:
            rows = labels.draw(self.n, torch.Generator().manual_seed(LATENT_SEED + 2))
            self.c, self.asked = labels.vectors(rows), {a: rows[:, i] for i, a in enumerate(labels.names)}
            self.detect_c = labels.vectors(labels.draw(len(self.detect_z), torch.Generator().manual_seed(LATENT_SEED + 3)))
        self.can_detect = len(ds) >= 2 * (DETECT.n_train + DETECT.n_test)
        self._ref: Reference | None = None
        self._judged: np.ndarray | None = None
        self._unseen: np.ndarray | None = None
        self.rows = read_quality(self.out)

    @property
    def best(self) -> dict | None:
        return best_row(self.rows)

    def due(self, images_seen: int, last_images: int) -> bool:
        """True when the images seen crossed a multiple of every_kimg during the last step."""
        return self.every > 0 and images_seen // self.every > last_images // self.every

    def detect_due(self, train_seconds: float | None) -> bool:
        """The first point, then whenever one more detection keeps detection within budget."""
        if not self.can_detect:
            return False
        done = [r["detect_seconds"] for r in self.rows if "detect_seconds" in r]
        if not done:
            return True
        return train_seconds is not None and sum(done) + done[-1] <= DETECT_BUDGET * train_seconds

    def detectability(self, sample: Callable[[torch.Tensor], np.ndarray], should_stop=None) -> dict:
        t0 = time.time()
        if self._judged is None:
            self._judged = detect.real_halves(np.asarray(self.ds.images), DETECT)[0]
        fake = self._draw(sample, self.detect_z, self.detect_c)
        r = detect.detectability(self._judged, fake, DETECT, should_stop=should_stop)
        return {"detectability": r["detectability"], "detect_auc": r["auc"], "detect_stderr": r["stderr"],
                "detect_seconds": round(time.time() - t0, 1)}

    def measure(self, step: int, images_seen: int, sample: Callable[[torch.Tensor], np.ndarray],
                train_seconds: float | None = None, reconstruct: Callable | None = None, should_stop=None) -> dict:
        """Score `sample(z)` (uint8 images), append the row; the row says whether it is the new best.
        `train_seconds` (the run's training time so far) paces detection. `reconstruct` (a BEGAN's D, an
        autoencoder) adds its L1 error on 256 rendered stickers the data does not hold: `d_recon_l1`.
        `should_stop()` is checked between the detector's steps: when it says stop, detect.FitStopped
        leaves this method and the point is not recorded."""
        t0 = time.time()
        if self._ref is None:
            self._ref = reference(self.ds, self.n, self.space)
        images = self._draw(sample, self.z, self.c)
        row = {"step": step, "images": images_seen, **score(self._ref, images, self.asked), "n": self.n,
               "space": self.space.key}
        if reconstruct is not None and self.ds.info.get("source") == "synthetic":
            if self._unseen is None:
                self._unseen = reconstruction.unseen_stickers(self.ds.info, images.shape[1])
            row["d_recon_l1"] = round(reconstruction.reconstruct(reconstruct, self._unseen)[1], 5)
        if self.detect_due(train_seconds):
            row.update(self.detectability(sample, should_stop))
        row.update(seconds=round(time.time() - t0, 2), time=round(time.time(), 3))
        self.rows.append(row)
        row["best"] = best_row(self.rows) is row
        with open(self.out / QUALITY, "a") as f:
            f.write(json.dumps(row) + "\n")
        return row

    @staticmethod
    def _draw(sample: Callable, z: torch.Tensor, c: torch.Tensor | None) -> np.ndarray:
        """sample(z) (with its labels where conditional) in chunks of 250."""
        chunks = range(0, len(z), 250)
        if c is None:
            return np.concatenate([sample(z[i:i + 250]) for i in chunks])
        return np.concatenate([sample(z[i:i + 250], c[i:i + 250]) for i in chunks])

    def forget_after(self, step: int) -> None:
        """On resume: forget points measured after the checkpoint (the run will measure them again)."""
        self.rows = [r for r in self.rows if r["step"] <= step]
        text = "".join(json.dumps(r) + "\n" for r in self.rows)
        if (self.out / QUALITY).exists():
            atomic_write_bytes(self.out / QUALITY, text.encode())

    def stale(self, images_seen: int, patience_kimg: float | None) -> bool:
        """True when the best point is more than patience_kimg thousand images old."""
        best = self.best
        return bool(patience_kimg) and best is not None and images_seen - best["images"] >= patience_kimg * 1000


