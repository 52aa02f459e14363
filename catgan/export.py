"""A finished run -> a shippable model folder: the best snapshot by default, no optimiser state.

A run started `--init-from` a model carries on that model's training, so its export records where it
came from (meta "parents", oldest first: step, training time, machine) and its logs start with its
ancestors', each up to the step where the next run took over (a kept point's logs are its run's); so do
its fixed-latent sample grids, so the reader sees the whole line's samples from step 0. The grids end at
the exported weights' step (the last grid is what the model draws); the logs run on to the run's end, so
the card can say where the run went after the chosen point.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from catgan.catalogue import MODEL_FILE, kept_point, run_parents, run_weights
from catgan.io import atomic_write_bytes
from catgan.runs import line_step, sample_grids, thinned_steps
from catgan.checkpoint import load_checkpoint, save_checkpoint

RUN_FILES = ("config.json",)
LOG_FILES = ("metrics.jsonl", "quality.jsonl")
MAX_GRIDS = 40              # a model's fixed-latent grids: log-spaced steps and its own (runs.thinned_steps)


def _rows(path: Path) -> list[tuple[int | None, str]]:
    """(step, line) for each line of a JSON-lines log; none where it is missing."""
    return [(line_step(ln), ln) for ln in path.read_text().splitlines()] if path.exists() else []


def _joined(parts: list[list[tuple[int, object]]]) -> list:
    """(step, item) pairs of a lineage's runs, oldest run first, joined into one list of items: each
    run's items up to the step where the next run took over."""
    joined: list[tuple[int, object]] = []
    for own in parts:
        if own:
            first = min(s for s, _ in own)
            joined = [(s, x) for s, x in joined if s < first] + own
    return [x for _, x in joined]


def _joined_log(logs: list[Path]) -> str:
    """One log across a lineage (rows without a step, e.g. a half-written last line, are left out)."""
    lines = _joined([[(s, ln) for s, ln in _rows(path) if s is not None] for path in logs])
    return "\n".join(lines) + "\n" if lines else ""


def _run_folder(model: str | Path) -> Path:
    """Where a parent model's logs are: a kept point's run folder, else the file's own folder."""
    folder = Path(model).parent
    return folder.parent if folder.name == "points" else folder


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
    folders = [_run_folder(p["model"]) for p in parents] + [run]
    logs = {name: _joined_log([folder / name for folder in folders]) for name in LOG_FILES}
    until = meta.get("step", float("inf"))
    grids = _joined([[(s, (s, p)) for s, p in sample_grids(folder) if s <= until] for folder in folders])
    shipped = set(thinned_steps([s for s, _ in grids], keep={until}, limit=MAX_GRIDS))
    grids = [p for s, p in grids if s in shipped]
    out.mkdir(parents=True, exist_ok=True)         # (out may be the parent's folder: its logs are read above)
    save_checkpoint(out / MODEL_FILE, slim, meta)
    samples = out / "samples"
    for grid in grids:
        if grid.parent != samples:
            samples.mkdir(exist_ok=True)
            shutil.copy2(grid, samples / grid.name)
    for step, grid in sample_grids(out):          # the folder's own grids of earlier exports, thinned alike
        if step not in shipped:
            grid.unlink()
    for name in RUN_FILES:
        if (run / name).exists():
            shutil.copy2(run / name, out / name)
    for name, text in logs.items():
        if text:
            atomic_write_bytes(out / name, text.encode())
    return out / MODEL_FILE
