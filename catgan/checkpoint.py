"""Checkpoints: safetensors weights with the run's JSON metadata inside the same file; the one weights format that
sampling (catgan.generator, the catalogue, the export) and training (catgan.train) both read and write.

Loading never unpickles: safetensors holds raw tensors, the metadata is JSON text.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load, save as st_save

from catgan.io import atomic_write_bytes

FORMAT = "catgan/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the problem."""


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    blob = st_save(tensors, metadata={"catgan": json.dumps({"format": FORMAT, **meta})})
    atomic_write_bytes(path, blob)


def read_meta(path: str | Path) -> dict:
    """Only the JSON metadata (cheap: reads the header, not the weights)."""
    path = Path(path)
    _check_file(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: truncated (shorter than a safetensors header)")
        n = int.from_bytes(head, "little")
        if n <= 0 or n > 100_000_000 or n > path.stat().st_size - 8:
            raise CheckpointError(f"{path}: not a safetensors file (bad header length); is it a pickle/.pt file?")
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CheckpointError(f"{path}: damaged safetensors header")
    return _catgan_meta(path, header.get("__metadata__") or {})


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    path = Path(path)
    meta = read_meta(path)
    try:
        tensors = st_load(path.read_bytes())
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt weights ({e}); re-download or re-export it")
    return tensors, meta


def _check_file(path: Path):
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; pass the .safetensors file inside it")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file")


def _catgan_meta(path: Path, raw: dict) -> dict:
    if "catgan" not in raw:
        raise CheckpointError(f"{path}: a safetensors file, but not a catgan checkpoint (no catgan metadata)")
    try:
        meta = json.loads(raw["catgan"])
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: catgan metadata is not valid JSON")
    for key in ("family", "config"):
        if key not in meta:
            raise CheckpointError(f"{path}: catgan metadata lacks '{key}'")
    return meta


# --- optimiser state <-> flat tensors + JSON ------------------------------
def flatten_optimizer(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict, list]:
    sd = opt.state_dict()
    tensors = {f"{prefix}.{i}.{k}": v if torch.is_tensor(v) else torch.tensor(v)
               for i, st in sd["state"].items() for k, v in st.items()}
    return tensors, sd["param_groups"]


def unflatten_optimizer(prefix: str, tensors: dict, groups: list, opt: torch.optim.Optimizer) -> None:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith(prefix + "."):
            i, name = key[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(i), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": groups})
