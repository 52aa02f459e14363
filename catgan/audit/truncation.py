"""Truncation chosen by detectability: the latent scale where a model's samples are least detectable
without losing pose x item combinations (as StyleGAN's truncation trades diversity for quality).

Each scale draws the same latents times the scale, and judges them with one seed of the detectability
protocol (a third of its cost; its standard error is then detect.FIT_SD) and, where the dataset has
labels, the sticker space's pose x item coverage.
"""
from __future__ import annotations

import numpy as np

from catgan.audit import detect
from catgan.audit.modes import label_measures
from catgan.data.dataset import Dataset

SCALES = (0.5, 0.7, 0.85, 1.0, 1.2)
PROTOCOL = detect.Protocol().one_fit()
COVERAGE_SLACK = 0.02     # a scale may lose at most this much pose x item coverage against scale 1


def sweep(generate, z: np.ndarray, ds: Dataset, scales=SCALES, p: detect.Protocol = PROTOCOL,
          progress: bool = False, centre: np.ndarray | float = 0.0) -> dict:
    """`generate(latents)` -> uint8 images; z: the protocol's latents at scale 1 (for a model with a mapping
    network they are w - w_avg, so the scale is StyleGAN's psi), scaled towards `centre` (the explorer's
    origin, LoadedGenerator.centre)."""
    judged, _ = detect.real_halves(np.asarray(ds.images), p)
    rows = []
    for s in scales:
        images = generate(centre + (z - centre) * s)
        r = detect.detectability(judged, images, p, progress=f"detector fits, scale {s:g}" if progress else None)
        row = {"scale": s, "detectability": r["detectability"], "stderr": r["stderr"]}
        if ds.labels:
            row["mode_coverage"] = round(label_measures(ds, images)["mode_coverage"], 4)
        rows.append(row)
    return {"rows": rows, "recommended": recommend(rows), "protocol": p.key()}


def recommend(rows: list[dict]) -> float:
    """The least detectable scale that keeps pose x item coverage within COVERAGE_SLACK of scale 1's; among
    scales within a standard error of it, the one nearest 1 (the least truncation)."""
    at_one = next((r for r in rows if r["scale"] == 1.0), None)
    keep = [r for r in rows if at_one is None or "mode_coverage" not in at_one
            or r["mode_coverage"] >= at_one["mode_coverage"] - COVERAGE_SLACK]
    least = min(keep, key=lambda r: r["detectability"])
    close = [r for r in keep if r["detectability"] <= least["detectability"] + least["stderr"]]
    return min(close, key=lambda r: abs(r["scale"] - 1.0))["scale"]


def recommended_scale(report: dict) -> float:
    """The scale a model's eval recommends, or 1 where none was measured."""
    return float(report.get("truncation", {}).get("recommended", 1.0))
