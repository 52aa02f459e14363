"""A finished run -> a shippable model folder: the best snapshot by default, no optimiser state."""
from __future__ import annotations

import shutil
from pathlib import Path

from catgan.catalogue import MODEL_FILE, run_weights
from catgan.train.checkpoint import load_checkpoint, save_checkpoint

RUN_FILES = ("metrics.jsonl", "config.json", "quality.jsonl")


def export_run(run: str | Path, out: str | Path, last: bool = False) -> Path:
    """The run's best snapshot (or, with `last` or where none was kept, its last checkpoint) without
    optimiser state or the non-EMA G; sample grids, logs and quality points beside it."""
    run, out = Path(run), Path(out)
    tensors, meta = load_checkpoint(run_weights(run, prefer_last=last))
    keep = (meta.get("sample_net", "G"), "D")
    slim = {k: v for k, v in tensors.items() if k.split(".", 1)[0] in keep}
    meta = {k: v for k, v in meta.items() if k != "optimizer_groups"}
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / MODEL_FILE, slim, meta)
    if (run / "samples").exists():
        shutil.copytree(run / "samples", out / "samples", dirs_exist_ok=True)
    for name in RUN_FILES:
        if (run / name).exists():
            shutil.copy2(run / name, out / name)
    return out / MODEL_FILE
