"""Detectability and FD against images seen, for a run trained with --keep-points.

    python scripts/detect_curve.py RUN_FOLDER [--every 2] [--fits 1] [--out curve.json]

Each kept point (points/step_*.safetensors) is judged by catgan.audit.detect on 3,000 samples, one fit
by default (as the trainer's quality hook does; its standard error is then detect.FIT_SD), beside the
FD, pose x item coverage and KL the hook logged at the same step (quality.jsonl); for a BEGAN also its D's
L1 reconstruction of 256 unseen stickers (catgan.audit.reconstruction), its own convergence measure beside
M_global. Prints a row a point
and writes a table (`how` and `rows`) that a model card shows as curve.json. One thread, so a run can
go on beside it; a point already judged (in the cache, under detect-curve/) is read back.
"""
import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from catgan.audit import detect, reconstruction
from catgan.audit.evaluate import generate, model_and_data
from catgan.catalogue import kept_points
from catgan.generator import load_generator
from catgan.data.dataset import cache_root
from catgan.io import atomic_write_json
from catgan.runs import read_quality
from catgan.checkpoint import read_meta


def judge(point: Path, p: detect.Protocol) -> dict:
    cache = cache_root() / "detect-curve" / f"{point.parent.parent.name}-{point.stem}-{p.key()}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    g, ds = model_and_data(point, None)
    real, _ = detect.real_halves(np.asarray(ds.images), p)
    result = detect.detectability(real, generate(g, p.n_train + p.n_test, progress=False), p)
    critic = load_generator(point, device="cpu", with_critic=True)
    if reconstruction.applies(critic):
        result["d_recon_l1"] = round(reconstruction.held_out(critic)[2], 5)
    atomic_write_json(cache, result)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--every", type=int, default=1, help="judge every n-th point (the last always)")
    ap.add_argument("--steps", help="judge only the points at these steps, e.g. 7813,15625")
    ap.add_argument("--fits", type=int, default=1, choices=[1, 2, 3])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    points = kept_points(a.run)
    points = [pt for i, pt in enumerate(points) if i % a.every == 0 or pt == points[-1]]
    if a.steps:
        wanted = {int(s) for s in a.steps.split(",")}
        points = [pt for pt in kept_points(a.run) if read_meta(pt)["step"] in wanted]
    p = detect.Protocol()
    p = dataclasses.replace(p, seeds=p.seeds[:a.fits])
    hook = {r["step"]: r for r in read_quality(a.run)}
    rows = []
    for pt in points:
        meta, d = read_meta(pt), judge(pt, p)
        q = hook.get(meta["step"], {})
        batch = meta["config"]["batch"] * meta.get("world_size", 1)
        rows.append({"step": meta["step"], "M images": round(meta["step"] * batch / 1e6, 3),
                     "detectability": d["detectability"], "±": d["stderr"], "detector's quiz": d.get("quiz"),
                     "hook fd": q.get("fd"), "pose×item coverage": q.get("mode_coverage"),
                     "KL(real‖gen)": q.get("kl"),
                     **({"D recon L1 (unseen)": d["d_recon_l1"]} if "d_recon_l1" in d else {})})
        print(json.dumps(rows[-1]), flush=True)
    table = {"how": f"Each kept point judged by fake detectability ({a.fits} fit{'s' * (a.fits > 1)} of the "
                    "protocol on 3,000 samples), beside the FD (sticker space, 1,000 samples), pose x item coverage "
                    "and KL the trainer's quality hook logged at that step; `scripts/detect_curve.py`.", "rows": rows}
    if a.out:
        atomic_write_json(a.out, table)


if __name__ == "__main__":
    main()
