"""Sample-quality metrics on feature vectors: FID, KID, precision/recall, density/coverage.

They are only comparable within one feature space: every report names it.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import pairwise_distances


def fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    return frechet(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))


def frechet(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Frechet distance between two Gaussians given by mean and covariance."""
    # tr(sqrt(S1 S2)) = tr(sqrt(A S2 A)) with A = S1^(1/2); A S2 A is symmetric PSD, so eigh is stable.
    lam, u = np.linalg.eigh(s1)
    a = (u * np.sqrt(lam.clip(0))) @ u.T
    covmean_trace = np.sqrt(np.linalg.eigvalsh(a @ s2 @ a).clip(0)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * covmean_trace)


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance: unbiased MMD^2, cubic polynomial kernel; mean and std over subsets."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    d = real.shape[1]
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError("KID needs at least 2 real and 2 generated samples")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Each vector's distance to its k-th nearest other vector in the same set."""
    d = pairwise_distances(x, x)
    return np.partition(d, k, axis=1)[:, k]         # column 0 is the point itself


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict:
    """Precision/recall (Kynkaanniemi 2019) and density/coverage (Naeem 2020) with k-NN balls."""
    real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall need more than k={k} samples on each side")
    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    d = pairwise_distances(real, fake)               # real x fake
    inside_real = d <= r_real[:, None]
    return {"precision": float(inside_real.any(0).mean()),
            "recall": float((d <= r_fake[None, :]).any(1).mean()),
            "density": float(inside_real.sum() / (k * len(fake))),
            "coverage": float((d.min(1) <= r_real).mean())}
