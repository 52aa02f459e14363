"""Reading a run folder for display: metrics as columns, quality points, sample grids, the training time-lapse."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from catgan import media

QUALITY = "quality.jsonl"        # one line per quality point of the trainer's hook (catgan.train.quality)


def line_step(line: str) -> int | None:
    """The step of one JSON-lines log row (metrics.jsonl, quality.jsonl); None for a row without one or a
    half-written line."""
    try:
        return json.loads(line)["step"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


def read_metrics(run: Path) -> dict[str, list]:
    """metrics.jsonl as columns (missing values None); a half-written last line is skipped."""
    rows = []
    try:
        for line in (Path(run) / "metrics.jsonl").read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    except OSError:
        return {}
    keys = sorted({k for r in rows for k in r})
    return {k: [r.get(k) for r in rows] for k in keys}


def sample_grids(run: Path) -> list[tuple[int, Path]]:
    out = []
    for p in sorted((Path(run) / "samples").glob("step_*.png")):
        m = re.fullmatch(r"step_(\d+)\.png", p.name)
        if m:
            out.append((int(m.group(1)), p))
    return out


def thinned_steps(steps: list[int], keep: set[int] = frozenset(), limit: int = 40) -> list[int]:
    """At most `limit` of a model's grid steps for shipping: the first and the last, those in `keep` (the
    best point), and the rest spread evenly in log(step), where training changes most early on."""
    steps = sorted(set(steps))
    if len(steps) <= limit:
        return steps
    fixed = {steps[0], steps[-1], *(s for s in keep if s in steps)}
    positive = np.log(np.array([s for s in steps if s > 0], dtype=float))
    chosen, num = fixed, limit - len(fixed)
    while len(chosen) < limit:                 # nearby targets can land on one step: add targets till full
        targets = np.linspace(positive[0], positive[-1], num=num)
        picked = {int(round(np.exp(positive[np.argmin(np.abs(positive - t))]))) for t in targets}
        chosen, num = fixed | picked, num + 1
    while len(chosen) > limit:                 # the last round may overshoot by a step or two
        chosen.remove(max(chosen - fixed, key=lambda s: -s))
    return sorted(chosen)


def timelapse_gif(run: Path, fps: float = 4) -> bytes:
    grids = sample_grids(run)
    if not grids:
        raise ValueError(f"{run} has no sample grids yet")
    frames = [np.asarray(Image.open(p).convert("RGB")) for _, p in grids]
    size = frames[-1].shape
    frames = [f for f in frames if f.shape == size]
    return media.gif_bytes(np.stack(frames), fps=fps, loop=True)


def eta_seconds(status: dict, metrics: dict) -> float | None:
    """Remaining time from the recent step rate."""
    steps, times = metrics.get("step", []), metrics.get("time", [])
    total = status.get("total")
    if len(steps) < 2 or not total:
        return None
    k = max(0, len(steps) - 20)
    rate = (steps[-1] - steps[k]) / max(times[-1] - times[k], 1e-9)
    return (total - steps[-1]) / rate if rate > 0 else None


def _is_training_run(p: Path) -> bool:
    if (p / "config.json").exists():
        return True
    try:            # launched from the app, but the trainer has not written its config yet
        return json.loads((p / "job.json").read_text()).get("kind") == "train"
    except (OSError, json.JSONDecodeError):
        return False


def list_runs(runs: Path) -> list[Path]:
    """Training run folders, and those of sweeps one level down (a folder with sweep.json), newest first."""
    if not Path(runs).exists():
        return []
    folders = [p for p in Path(runs).glob("*") if p.is_dir()]
    folders += [p for s in folders if (s / "sweep.json").exists() for p in s.glob("*") if p.is_dir()]
    found = [p for p in folders if _is_training_run(p)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def check_run_name(name: str) -> str:
    """Run names become folder names: letters, digits, '.', '_' and '-' only."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", name or ""):
        raise ValueError(f"run name {name!r}: use 1-80 letters, digits, '.', '_' or '-' (no spaces or slashes)")
    return name


def train_args(model: str, data: str, out: Path, steps: int, resolution: int = 64, preset: str = "cpu",
               batch: int | None = None, lr: float | None = None, seed: int = 0, precision: str = "auto",
               bf16: bool = False, sample_every: int = 250, overrides: dict | None = None,
               eval_kimg: float | None = None, eval_n: int | None = None, eval_space: str | None = None,
               patience_kimg: float | None = None, max_minutes: float | None = None,
               max_kimg: float | None = None, threads: int | None = None, keep_points: bool = False,
               cond: str | None = None, **_) -> list[str]:
    """`catgan train` arguments; the same from a form or from a run's saved config.json."""
    args = ["train", "--model", model, "--preset", preset, "--data", str(data), "--out", str(out),
            "--steps", str(steps), "--resolution", str(resolution), "--seed", str(seed),
            "--sample-every", str(sample_every)]
    args += ["--batch", str(batch)] if batch else []
    args += ["--lr", str(lr)] if lr else []
    args += ["--precision", "bf16" if bf16 else precision]    # bf16: what configs before --precision said
    args += ["--keep-points"] if keep_points else []
    for flag, value in (("--eval-kimg", eval_kimg), ("--eval-n", eval_n), ("--eval-space", eval_space),
                        ("--patience-kimg", patience_kimg), ("--minutes", max_minutes), ("--kimg", max_kimg),
                        ("--threads", threads), ("--cond", cond)):
        args += [flag, str(value)] if value is not None else []
    for k, v in (overrides or {}).items():
        args += ["--set", f"{k}={json.dumps(v)}"]
    return args


def resume_args(run: Path) -> list[str]:
    """Arguments that continue a run exactly as it was configured (the trainer resumes its checkpoint)."""
    try:
        cfg = json.loads((Path(run) / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise ValueError(f"{run} has no readable config.json, so it cannot be resumed")
    return train_args(**{**cfg, "out": run})


def read_quality(run: str | Path) -> list[dict]:
    """quality.jsonl as rows; a half-written last line is skipped; none for runs from before the hook."""
    rows = []
    try:
        lines = (Path(run) / QUALITY).read_text().splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("fd"), (int, float)) and "step" in row:
            rows.append(row)
    return rows


BLUR_MARGIN = 0.05   # in `hf`; neighbouring points of one run differ by about 0.02


def better(new: dict, old: dict | None) -> bool:
    """Whether a quality point should replace the kept one. Where both carry detectability
    (catgan.audit.detect): the less detectable, unless the two are within a standard error, when the
    lower FD decides; so a blurrier point, which an FD blind to blur may prefer, wins only when the
    detector cannot tell it apart. Detection is rare in a long run (its time budget), so where either
    lacks it the lower FD decides, unless the lower-FD point is blurrier by its spectrum (`hf` lower by
    more than BLUR_MARGIN): a judged first point must not hold off every better point after it."""
    if not np.isfinite(new["fd"]):
        return False
    if old is None:
        return True
    nd, od = new.get("detectability"), old.get("detectability")
    if nd is not None and od is not None:
        if abs(nd - od) <= max(new.get("detect_stderr", 0.0), old.get("detect_stderr", 0.0)):
            return new["fd"] < old["fd"]
        return nd < od
    blurrier = new.get("hf", 0.0) < old.get("hf", 0.0) - BLUR_MARGIN
    return new["fd"] < old["fd"] and not blurrier


def best_row(rows: list[dict]) -> dict | None:
    """The kept point: each point in turn replaces the kept one when it is better (see `better`), as
    the trainer did when it saved that point's weights."""
    best = None
    for r in rows:
        if better(r, best):
            best = r
    return best
