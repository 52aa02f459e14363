"""Fork a training run: copy its checkpoint into a new run folder with some config keys changed.

Pilots that compare a late-training choice (e.g. the progressive GAN's penalty schedule at 32 px) start
from the same checkpoint of a long run and train for the same minutes; `catgan train --out DST` then
resumes the fork with its changed config. Usage:
    python scripts/fork_run.py SRC_RUN DST_RUN key=json_value [key=json_value ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from catgan.train.checkpoint import load_checkpoint, save_checkpoint


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit(__doc__)
    src, dst = Path(argv[0]).expanduser(), Path(argv[1]).expanduser()
    if (dst / "checkpoint.safetensors").exists():
        sys.exit(f"{dst} already holds a run; choose another folder")
    tensors, meta = load_checkpoint(src / "checkpoint.safetensors")
    for item in argv[2:]:
        key, _, value = item.partition("=")
        if key not in meta["config"]:
            sys.exit(f"{key}: not a config key of this run; keys: {sorted(meta['config'])}")
        meta["config"][key] = json.loads(value)
    dst.mkdir(parents=True, exist_ok=True)
    metrics = src / "metrics.jsonl"
    if metrics.exists():
        (dst / "metrics.jsonl").write_bytes(metrics.read_bytes())
    save_checkpoint(dst / "checkpoint.safetensors", tensors, meta)
    print(f"forked {src} at step {meta['step']} into {dst}: {' '.join(argv[2:])}")


if __name__ == "__main__":
    main(sys.argv[1:])
