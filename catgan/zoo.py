"""The model zoo: shipped models under checkpoints/, finished runs under runs/."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from catgan.train.checkpoint import CheckpointError, load_checkpoint, read_meta, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent

def checkpoints_dir() -> Path:
    return Path(os.environ.get("CATGAN_CHECKPOINTS", ROOT / "checkpoints"))


def runs_dir() -> Path:
    return Path(os.environ.get("CATGAN_RUNS", ROOT / "runs"))

MODEL_FILE = "model.safetensors"


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


def _entry(name, path, kind) -> ModelEntry:
    try:
        return ModelEntry(name, path, kind, read_meta(path))
    except CheckpointError as e:
        return ModelEntry(name, path, kind, None, str(e))


def list_models(checkpoints: Path | None = None, runs: Path | None = None) -> list[ModelEntry]:
    """Every shipped model, then every finished (or stopped) training run that has a checkpoint."""
    checkpoints, runs = checkpoints or checkpoints_dir(), runs or runs_dir()
    out = [_entry(d.name, d / MODEL_FILE, "shipped")
           for d in sorted(checkpoints.glob("*")) if (d / MODEL_FILE).exists()]
    default = (checkpoints / "default.txt").read_text().strip() if (checkpoints / "default.txt").exists() else ""
    out.sort(key=lambda e: e.name != default)              # the model the app opens on comes first
    for d in sorted(runs.glob("*")) if runs.exists() else []:
        ck = d / "checkpoint.safetensors"
        status = read_json(d / "status.json")
        if ck.exists() and status.get("state") in ("finished", "stopped"):
            out.append(_entry(f"run/{d.name}", ck, "run"))
    return sorted(out, key=lambda e: e.error is not None)     # readable first: the default is usable


def read_json(p: Path) -> dict:
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def dataset_for(meta: dict):
    """The dataset a model was trained on: the embedded default by name, else its recorded folder."""
    from catgan.data.dataset import DEFAULT_NAME, load_dataset, resolve_dataset
    info = meta.get("dataset", {})
    path = Path(info.get("path", ""))
    if info.get("name") == DEFAULT_NAME or (info.get("source") == "synthetic" and not path.exists()):
        return resolve_dataset(DEFAULT_NAME, int(meta["resolution"]))
    return load_dataset(path)


def export_run(run: str | Path, out: str | Path) -> Path:
    """Strip optimiser state (and the non-EMA G where an EMA exists); copy grids and metrics."""
    run, out = Path(run), Path(out)
    tensors, meta = load_checkpoint(run / "checkpoint.safetensors")
    keep = (meta.get("sample_net", "G"), "D")
    slim = {k: v for k, v in tensors.items() if k.split(".", 1)[0] in keep}
    meta = {k: v for k, v in meta.items() if k != "optimizer_groups"}
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / MODEL_FILE, slim, meta)
    if (run / "samples").exists():
        shutil.copytree(run / "samples", out / "samples", dirs_exist_ok=True)
    for name in ("metrics.jsonl", "config.json"):
        if (run / name).exists():
            shutil.copy2(run / name, out / name)
    return out / MODEL_FILE


TRAIN_COMMANDS = {   # how each shipped model was trained: scripts/train_zoo.sh NAME
    name: f"scripts/train_zoo.sh {name}"
    for name in ("dcgan-stickers64", "began-stickers64", "pgwgan-stickers64", "began-kstuck-stickers64")}


def machine_of(meta: dict, fallback: str = "") -> str:
    """Where a model was trained, in words: CPU kind and precision (recorded since --precision)."""
    m = meta.get("machine")
    if not m:
        return fallback or "unrecorded machine"
    where = m.get("gpu") or f"{m.get('device', 'cpu')} {m.get('cpu_capability', '?')}"
    return f"{where}, {m.get('precision', 'fp32')}"


def write_card(folder: str | Path, machine: str = "") -> dict:
    """card.json (for the app) and card.md (for people) from the model's metadata, eval and logs.

    `machine` describes where it was trained, for models saved before runs recorded it themselves.
    """
    from catgan import load_generator, media
    from catgan.audit import report as rep
    from catgan.io import atomic_write_bytes, atomic_write_json
    from catgan.runs import read_metrics
    folder = Path(folder)
    g = load_generator(folder / MODEL_FILE, device="cpu")
    meta, report = g.meta, read_json(folder / "eval.json")
    atomic_write_bytes(folder / "samples" / "final.png", media.grid_png(g.generate(g.latents(0, 64)), cols=8))
    metrics = read_metrics(folder)
    every = max(1, len(metrics.get("step", [])) // 200)
    history = {k: v[::every] for k, v in metrics.items() if k != "time"}
    ips = [v for v in metrics.get("images_per_s", []) if v]
    steps, batch = meta.get("step", 0), meta["config"].get("batch", 0)
    trained_on = machine_of(meta, machine)
    card = {"name": folder.name, "family": g.family, "preset": meta["config"].get("preset"),
            "resolution": g.resolution, "latent_dim": g.latent_dim, "config": meta["config"],
            "dataset": meta.get("dataset"), "steps": steps, "images_seen": steps * batch * meta.get("world_size", 1),
            "train_minutes": round(meta.get("train_seconds", 0) / 60, 1), "bf16": meta.get("bf16"),
            "images_per_s_median": float(sorted(ips)[len(ips) // 2]) if ips else None, "machine": trained_on,
            "command": TRAIN_COMMANDS.get(folder.name, "catgan train ..."),
            "quality": rep.row(folder.name, report) if report.get("spaces") else {},
            "ladders": rep.ladders(report), "labels": {k: v for k, v in report.get("labels", {}).items()
                                                       if k != "histograms"},
            "memorisation": report.get("memorisation"), "pilots": read_json(folder / "pilots.json"),
            "curve": read_json(folder / "curve.json"), "history": history,
            "summary": f"{g.family.upper()} · {steps:,} steps · {steps * batch / 1e6:.2f} M images · "
                       f"{meta.get('train_seconds', 0) / 60:.0f} min on {trained_on}"}
    atomic_write_json(folder / "card.json", card)
    lines = [f"# {folder.name}", "", card["summary"], "",
             f"- family: {g.family}, preset `{card['preset']}`, {g.resolution} px, latent {g.latent_dim}",
             f"- DiffAugment: {meta['config'].get('diffaug') or 'off'}"
             + (f" ({meta['config']['diffaug_reason']})" if meta["config"].get("diffaug_reason") else ""),
             f"- dataset: {card['dataset'].get('name') or card['dataset'].get('path')} "
             f"({card['dataset'].get('count')} images)",
             f"- trained: {steps:,} steps, {card['images_seen']:,} images, {card['train_minutes']} min "
             f"(median {_fmt(card['images_per_s_median'])} images/s) on {trained_on}",
             f"- retrain: `{card['command']}`", "", "## Quality", "",
             *_md_table(["figure", "value"], [[k, _fmt(v)] for k, v in card["quality"].items()]), "",
             "## Ladders (FD of real images, and made slightly worse) and rho", "",
             *_ladder_table(card["ladders"]), "",
             *_rows_section("Training curves", {"how": CURVES_HOW, "rows": training_curve(metrics, g.family, batch)}),
             *_rows_section("Phases", {"how": PHASES_HOW, "rows": phases(metrics, batch)}),
             *_rows_section("Pilots", card["pilots"]), *_rows_section("Robust FD against images seen", card["curve"]),
             "Samples: `samples/final.png`; training snapshots: `samples/step_*.png`; losses: `metrics.jsonl`."]
    atomic_write_bytes(folder / "card.md", ("\n".join(lines) + "\n").encode())
    return card


CURVE_KEYS = {"began": ["k_t", "M_global", "L_real", "L_fake"], "pgwgan": ["resolution", "wasserstein", "gp", "drift"],
              "dcgan": ["loss_D", "loss_G", "D_x", "D_G_z"]}
CURVES_HOW = "Logged values averaged over ten equal stretches of training (the full log is metrics.jsonl)."
PHASES_HOW = "Each resolution's fade-in (alpha < 1) and stable part, from the log: steps, images and speed."


def training_curve(metrics: dict, family: str, batch: int, rows: int = 10) -> list[dict]:
    """The family's balance figures (k_t and M_global, Wasserstein and penalty, ...) at `rows` points."""
    steps = metrics.get("step", [])
    keys = [k for k in CURVE_KEYS.get(family, []) if k in metrics]
    out = []
    for part in range(rows):
        lo, hi = len(steps) * part // rows, len(steps) * (part + 1) // rows
        if hi <= lo:
            continue
        row = {"step": steps[hi - 1], "M images": round(steps[hi - 1] * batch / 1e6, 3)}
        for k in keys:
            if k == "resolution":                    # a state, not a figure: where the stretch ends
                row[k] = metrics[k][hi - 1]
                continue
            vals = [v for v in metrics[k][lo:hi] if v is not None]
            row[k] = round(sum(vals) / len(vals), 4) if vals else None
        out.append(row)
    return out


def phases(metrics: dict, batch: int) -> list[dict]:
    """A growing GAN's phases as logged; empty for families that do not grow."""
    if "resolution" not in metrics:
        return []
    out, prev_step = [], 0
    for step, res, alpha, ips in zip(metrics["step"], metrics["resolution"], metrics.get("alpha", []),
                                     metrics["images_per_s"]):
        name = f"{res} px " + ("fade-in" if alpha is not None and alpha < 1 else "stable")
        if not out or out[-1]["phase"] != name:
            out.append({"phase": name, "from step": prev_step, "steps": 0, "_ips": []})
        out[-1]["steps"] += step - prev_step
        out[-1]["_ips"].append(ips)
        prev_step = step
    for row in out:
        ips = sorted(row.pop("_ips"))
        row["k images"], row["median img/s"] = round(row["steps"] * batch / 1000), ips[len(ips) // 2]
    return out


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def _rows_section(title: str, table: dict) -> list[str]:
    """A card section from {"how": ..., "rows": [...]} beside the model (pilots.json, curve.json)."""
    if not table.get("rows"):
        return []
    head = list(table["rows"][0])
    return [f"## {title}", "", table.get("how", ""), "",
            *_md_table(head, [[_fmt(r.get(k)) for k in head] for r in table["rows"]]), ""]


def _ladder_table(ladders: dict) -> list[str]:
    if not ladders:
        return ["(not evaluated)"]
    cols = list(next(iter(ladders.values())))[1:]
    return _md_table(["space", *cols], [[k, *(_fmt(v.get(c)) for c in cols)] for k, v in ladders.items()])


def quality_markdown() -> str:
    """The README's table of shipped models in the robust space, then each space's ladder."""
    from catgan.audit import report as rep
    cols = ["on the ladder", "sticker fd", "pose×item coverage", "KL(real‖gen)", "sticker coverage",
            "sticker density", "memorised", "efficientnet fd"]
    rows, ladders = [], {}
    for e in [m for m in list_models() if m.kind == "shipped"]:
        report = read_json(e.folder / "eval.json")
        if not report.get("spaces"):
            continue
        card, r = e.card(), rep.row(e.name, report)
        rows.append([e.name, f"{card.get('steps', 0):,}", _fmt(card.get("images_seen", 0) / 1e6),
                     str(card.get("train_minutes", "")), card.get("machine", ""), *(_fmt(r.get(c)) for c in cols)])
        ladders = ladders or rep.ladders(report)
    return "\n".join(_md_table(["model", "steps", "M images", "train min", "trained on", *cols], rows)
                     + [""] + _ladder_table(ladders))
