"""The robust FD against images seen, from checkpoints copied during a long run.

    python scripts/fd_curve.py OUT.json SNAPSHOT.safetensors [...] [--note "what the curve shows"]

Scores each snapshot by the sticker-space FD of 2,000 samples (one thread, so a run can go on beside it)
and writes a table that `catgan.card.write_card` puts in the model card as curve.json. A snapshot that was
already scored (its report sits in the cache, under curve-evals/) is read back, not scored again.
"""
import argparse
import json
from pathlib import Path

import torch

from catgan.audit.evaluate import evaluate
from catgan.data.dataset import cache_root
from catgan.io import atomic_write_json
from catgan.checkpoint import read_meta


def row(path: Path, cache: Path) -> dict:
    meta = read_meta(path)
    scored = cache / f"{path.stem}.json"
    if not scored.exists():
        evaluate(path, n=2000, spaces=["sticker"], out=scored, progress=False)
    report = json.loads(scored.read_text())
    sticker, labels = report["spaces"]["sticker"], report["labels"]
    batch = meta["config"]["batch"] * meta.get("world_size", 1)
    return {"step": meta["step"], "M images": round(meta["step"] * batch / 1e6, 2),
            "train min": round(meta.get("train_seconds", 0) / 60), "sticker fd": round(sticker["fd"], 2),
            "sticker coverage": round(sticker["coverage"], 3), "pose×item coverage": round(labels["mode_coverage"], 3),
            "KL(real‖gen)": round(labels["kl_real_to_generated"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("snapshots", nargs="+")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out, cache = Path(a.out), cache_root() / "curve-evals"
    cache.mkdir(parents=True, exist_ok=True)
    rows = sorted((row(Path(s), cache) for s in a.snapshots), key=lambda r: r["step"])
    atomic_write_json(out, {"how": "sticker-space FD of 2,000 samples (lower is better) of checkpoints copied "
                                   "during training; `scripts/fd_curve.py` rescores them. " + a.note, "rows": rows})
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
