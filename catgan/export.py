"""A finished run -> a shippable model folder: the best snapshot by default, no optimiser state.

A run started `--init-from` a model carries on that model's training, so its export records where it
came from (meta "parents", oldest first: step, training time, machine) and its logs start with the
parent's, up to the step where this run took over.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from catgan.catalogue import MODEL_FILE, kept_point, run_parents, run_weights
from catgan.io import atomic_write_bytes
from catgan.runs import line_step
from catgan.train.checkpoint import load_checkpoint, save_checkpoint

RUN_FILES = ("config.json",)
LOG_FILES = ("metrics.jsonl", "quality.jsonl")


def _rows(path: Path | None) -> list[tuple[int | None, str]]:
    """(step, line) for each line of a JSON-lines log."""
    return [(line_step(ln), ln) for ln in path.read_text().splitlines()] if path and path.exists() else []


def _joined_log(parent_log: Path | None, run_log: Path) -> str:
    """The parent's rows (if any) before the run's first step, then the run's."""
    own = _rows(run_log)
    first = min((s for s, _ in own if s is not None), default=None)
    earlier = [ln for s, ln in _rows(parent_log) if first is not None and s is not None and s < first]
    lines = earlier + [ln for _, ln in own]
    return "\n".join(lines) + "\n" if lines else ""


def export_run(run: str | Path, out: str | Path, last: bool = False, step: int | None = None) -> Path:
    """The run's best snapshot (or, with `last` or where none was kept, its last checkpoint; or its kept
    quality point at `step`) without optimiser state or the non-EMA G; sample grids, logs and quality
    points beside it."""
    run, out = Path(run), Path(out)
    if last and step is not None:
        raise ValueError("choose one of --last and --step")
    tensors, meta = load_checkpoint(kept_point(run, step) if step is not None else run_weights(run, prefer_last=last))
    keep = (meta.get("sample_net", "G"), "D")
    slim = {k: v for k, v in tensors.items() if k.split(".", 1)[0] in keep}
    meta = {k: v for k, v in meta.items() if k != "optimizer_groups"}
    parents = run_parents(run)
    if parents:
        meta["parents"] = parents
    parent = Path(parents[-1]["model"]).parent if parents else None
    logs = {name: _joined_log(parent / name if parent else None, run / name) for name in LOG_FILES}
    out.mkdir(parents=True, exist_ok=True)         # (out may be the parent's folder: its logs are read above)
    save_checkpoint(out / MODEL_FILE, slim, meta)
    if (run / "samples").exists():
        shutil.copytree(run / "samples", out / "samples", dirs_exist_ok=True)
    for name in RUN_FILES:
        if (run / name).exists():
            shutil.copy2(run / name, out / name)
    for name, text in logs.items():
        if text:
            atomic_write_bytes(out / name, text.encode())
    return out / MODEL_FILE
