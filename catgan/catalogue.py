"""The catalogue: shipped models under checkpoints/, and training runs (finished or stopped) under runs/.

A run appears by its best snapshot (best.safetensors, the lowest FD measured while it trained) when it
has one, else by its last checkpoint; a run whose best point is not its last step shows that too.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from catgan.checkpoint import CheckpointError, read_meta

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = "model.safetensors"
POINTS = "points"              # in a run folder: the quality points kept with --keep-points


def checkpoints_dir() -> Path:
    return Path(os.environ.get("CATGAN_CHECKPOINTS", ROOT / "checkpoints"))


def runs_dir() -> Path:
    return Path(os.environ.get("CATGAN_RUNS", ROOT / "runs"))


@dataclass
class ModelEntry:
    name: str
    path: Path                  # the .safetensors file
    kind: str                   # "shipped" or "run"
    meta: dict | None = None    # None when the file could not be read
    error: str | None = None

    @property
    def label(self) -> str:
        if self.meta is None:
            return f"{self.name} (unreadable)"
        return f"{self.name} · {self.meta['family']} · {self.meta['resolution']}px"

    @property
    def folder(self) -> Path:
        return self.path.parent

    def card(self) -> dict:
        return read_json(self.folder / "card.json")

    def eval_report(self) -> dict:
        """The model's eval.json (catgan eval, detect, truncation); {} where it has none."""
        return read_json(self.folder / "eval.json")


def _entry(name, path, kind) -> ModelEntry:
    try:
        return ModelEntry(name, path, kind, read_meta(path))
    except CheckpointError as e:
        return ModelEntry(name, path, kind, None, str(e))


def run_weights(run: Path, prefer_last: bool = False) -> Path:
    """The file a run is sampled from: its best snapshot where it has one (unless prefer_last), else its last."""
    best = Path(run) / "best.safetensors"
    return best if best.exists() and not prefer_last else Path(run) / "checkpoint.safetensors"


def kept_points(run: Path) -> list[Path]:
    """A run's kept quality points (trained with --keep-points), oldest first."""
    points = sorted((Path(run) / POINTS).glob("step_*.safetensors"))
    if not points:
        raise ValueError(f"{run} keeps no points: train it with --keep-points")
    return points


def kept_point(run: Path, step: int) -> Path:
    """The kept quality point of a run at `step`."""
    points = {int(path.stem.split("_")[1]): path for path in kept_points(run)}
    if step not in points:
        raise ValueError(f"{run} kept no point at step {step:,}; its kept points are at steps "
                         + ", ".join(f"{s:,}" for s in points))
    return points[step]


def list_models(checkpoints: Path | None = None, runs: Path | None = None) -> list[ModelEntry]:
    """Every shipped model, then every finished (or stopped) training run, a sweep's runs included.

    A run is listed by its best quality point as run/NAME and, where that is not its last checkpoint,
    by the last one too, as run/NAME@last.
    """
    checkpoints, runs = checkpoints or checkpoints_dir(), runs or runs_dir()
    out = [_entry(d.name, d / MODEL_FILE, "shipped")
           for d in sorted(checkpoints.glob("*")) if (d / MODEL_FILE).exists()]
    default = (checkpoints / "default.txt").read_text().strip() if (checkpoints / "default.txt").exists() else ""
    out.sort(key=lambda e: e.name != default)              # the model the app opens on comes first
    folders = sorted(runs.glob("*")) if runs.exists() else []
    folders += [p for s in folders if (s / "sweep.json").exists() for p in sorted(s.glob("*"))]
    for d in folders:
        last = d / "checkpoint.safetensors"
        if last.exists() and read_json(d / "status.json").get("state") in ("finished", "stopped"):
            name = f"run/{d.relative_to(runs).as_posix()}"
            best = _entry(name, run_weights(d), "run")
            out.append(best)
            if best.path != last and (best.meta or {}).get("step") != _entry(name, last, "run").meta.get("step"):
                out.append(_entry(f"{name}@last", last, "run"))
    return sorted(out, key=lambda e: e.error is not None)     # readable first: the default is usable


def read_json(p: Path) -> dict:
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def lineage(model: str | Path) -> list[dict]:
    """A model file and the models it descends from (`--init-from`), oldest first, each with its step,
    training time and machine: an exported model names its parents, a run's checkpoint its run's."""
    try:
        meta = read_meta(model)
    except (CheckpointError, OSError):
        return [{"model": str(model)}]          # moved or deleted since: the name is what is left
    earlier = meta.get("parents") or run_parents(Path(model).parent)
    return earlier + [{"model": str(model), "step": meta.get("step"), "train_seconds": meta.get("train_seconds"),
                       "machine": meta.get("machine")}]


def machine_of(meta: dict, fallback: str = "") -> str:
    """Where a model was trained, in words: CPU kind and precision (recorded since --precision)."""
    m = meta.get("machine")
    if not m:
        return fallback or "unrecorded machine"
    where = m.get("gpu") or f"{m.get('device', 'cpu')} {m.get('cpu_capability', '?')}"
    return f"{where}, {m.get('precision', 'fp32')}"


def stretches(meta: dict, fallback: str = "") -> list[tuple[float, str]]:
    """(minutes, machine) for each stretch of a model's training: its parents' (runs it was started
    --init-from), oldest first, then its own; neighbouring stretches on the same kind of machine as one."""
    out: list[tuple[float, str]] = []
    for m in [*meta.get("parents", []), meta]:
        minutes, where = (m.get("train_seconds") or 0) / 60, machine_of(m, fallback)
        if out and out[-1][1] == where:
            out[-1] = (out[-1][0] + minutes, where)
        else:
            out.append((minutes, where))
    return out


def lineage_minutes(meta: dict) -> float:
    """A model's whole training time: its parents' stretches and its own."""
    return sum(minutes for minutes, _ in stretches(meta))


def run_parents(run: Path) -> list[dict]:
    """The models a run started from, as its config.json recorded them when it started (a file named by
    `--init-from` may since have been replaced, e.g. by a model exported from this very run); a run
    from before that record has them read now."""
    cfg = read_json(Path(run) / "config.json")
    if cfg.get("parents") is not None:
        return cfg["parents"]
    return lineage(cfg["init_from"]) if cfg.get("init_from") else []
