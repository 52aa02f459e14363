"""Runs side by side: their quality curves at equal images seen, what their configs differ in, their grids.

Read-only over run folders (and shipped models' curve tables); the Compare runs page and the Training
page draw what these functions return.
"""
from __future__ import annotations

import json
from pathlib import Path

from catgan.runs import best_row, read_quality, sample_grids

CURVE_METRICS = {"detectability": "detectability (0.5 is chance)", "fd": "FD (lower is better)",
                 "coverage": "coverage", "mode_coverage": "pose×item coverage",
                 "agreement": "label agreement (drawn as asked)",
                 "hf": "detail hf (0 is real, below blurrier)",
                 "d_recon_l1": "D's L1 on unseen stickers (BEGAN)"}
# shipped models' curve.json (scripts/fd_curve.py) name the same figures differently
_SHIPPED_KEYS = {"detectability": "detectability", "fd": "sticker fd", "coverage": "sticker coverage",
                 "mode_coverage": "pose×item coverage", "hf": "detail hf"}


def run_label(run: Path, root: Path) -> str:
    """A run's name as the pages show it: its path under the runs folder (sweep/run for a sweep's runs)."""
    return run.relative_to(root).as_posix() if run.is_relative_to(root) else run.name


def curve_points(name: str, rows: list[dict]) -> list[dict]:
    """Long-form rows for a chart: one per quality point, the best one flagged."""
    best = best_row(rows)
    return [{"run": name, "k images": round(r["images"] / 1000, 2), "step": r["step"],
             **{k: r.get(k) for k in CURVE_METRICS}, "best": best is not None and r["step"] == best["step"]}
            for r in rows]


def run_curve(run: Path, name: str | None = None) -> list[dict]:
    return curve_points(name or run.name, read_quality(run))


def shipped_curve(name: str, curve: dict) -> list[dict]:
    """A shipped model's FD-against-images table (card curve.json), as chart rows; its own n and protocol."""
    out = []
    for r in sorted(curve.get("rows", []), key=lambda r: r.get("M images", 0)):
        if r.get("M images") is None or r.get(_SHIPPED_KEYS["fd"]) is None:
            continue
        out.append({"run": f"{name} (shipped, rescored)", "k images": round(r["M images"] * 1000, 1),
                    "step": r.get("step"), **{k: r.get(v) for k, v in _SHIPPED_KEYS.items()}, "best": False})
    return out


def _config(run: Path) -> dict:
    try:
        return json.loads((Path(run) / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def read_config(run: Path) -> dict:
    """A run's settings as one flat dict: train options, then the family's config keys."""
    cfg = _config(run)
    if not cfg:
        return {}
    flat = {k: v for k, v in cfg.items() if k not in ("model_config", "machine", "overrides", "out", "progress",
                                                      "resumed_from", "bf16")}
    flat.update(cfg.get("model_config") or {})
    flat["machine"] = (cfg.get("machine") or {}).get("cpu_capability")
    return flat


def config_diff(configs: dict[str, dict]) -> dict[str, dict]:
    """Only the keys whose values differ between runs: {key: {run: value}} (missing shows as None)."""
    keys = sorted({k for c in configs.values() for k in c})
    out = {}
    for k in keys:
        values = {name: c.get(k) for name, c in configs.items()}
        if len({json.dumps(v, sort_keys=True, default=str) for v in values.values()}) > 1:
            out[k] = values
    return out


def grid_near(run: Path, k_images: float) -> tuple[int, Path] | None:
    """The sample grid (16 fixed latents) of a run whose step is nearest to `k_images` thousand images."""
    grids = sample_grids(run)
    batch = (_config(run).get("model_config") or {}).get("batch")
    if not grids or not isinstance(batch, int) or batch <= 0:
        return None
    return min(grids, key=lambda g: abs(g[0] * batch / 1000 - k_images))
