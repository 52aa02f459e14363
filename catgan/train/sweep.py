"""`catgan sweep`: every combination of some varied keys, each a `catgan train` run, k at a time.

The sweep folder holds sweep.json (the base arguments, the varied keys, each run's values) and one run
folder per combination. Runs go k at a time in subprocesses with the CPU threads split between them
(two 1-thread runs see more images than one 2-thread run on a 2-core CPU). Running the same command
again resumes: finished runs are skipped, stopped ones continue from their checkpoints. SIGTERM or
Ctrl-C stops the running runs, each saving a checkpoint first.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock, Timeout

from catgan.io import atomic_write_json
from catgan.runs import best_row, read_quality
from catgan.train.trainer import read_status

SWEEP = "sweep.json"
# keys of `catgan train` with their own option; any other varied key is a family config key (--set)
TRAIN_OPTIONS = {"data", "preset", "steps", "resolution", "batch", "lr", "seed", "precision", "minutes", "kimg",
                 "eval_kimg", "eval_n", "patience_kimg"}


def parse_vary(items: list[str]) -> dict[str, list[str]]:
    """["lr=5e-5,1e-4", "gamma=0.7,1.0"] -> {"lr": ["5e-5", "1e-4"], "gamma": ["0.7", "1.0"]}."""
    out = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip().replace("-", "_")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or not vals:
            raise ValueError(f"--vary {item!r}: write KEY=VALUE1,VALUE2,... (e.g. --vary lr=5e-5,1e-4)")
        if key in out:
            raise ValueError(f"--vary {key} is given twice; list all its values in one --vary")
        out[key] = vals
    if not out:
        raise ValueError("a sweep needs at least one --vary KEY=VALUES")
    return out


def run_name(values: dict[str, str]) -> str:
    """A folder name for one combination: lr-5e-05_gamma-0.7 (characters a run name allows)."""
    name = "_".join(f"{k}-{v}" for k, v in values.items())
    return re.sub(r"[^A-Za-z0-9._-]", "", name)[:80] or "run"


def combinations(vary: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(vary)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(vary[k] for k in keys))]


def train_command(base: list[str], values: dict[str, str], out: Path, threads: int) -> list[str]:
    """`python -m catgan train` with the base arguments, this combination's values, its folder and threads."""
    args = [sys.executable, "-m", "catgan", "train", *base]
    for key, value in values.items():
        args += [f"--{key.replace('_', '-')}", value] if key in TRAIN_OPTIONS else ["--set", f"{key}={value}"]
    return args + ["--out", str(out), "--threads", str(threads)]


def plan(out: Path, base: list[str], vary: dict[str, list[str]]) -> dict:
    """The sweep's plan, written once; a resumed sweep must ask for the same one."""
    out.mkdir(parents=True, exist_ok=True)
    runs = {run_name(v): v for v in combinations(vary)}
    if len(runs) != len(combinations(vary)):
        raise ValueError("two combinations give the same run name; use values that differ in letters or digits")
    wanted = {"base": base, "vary": vary, "runs": runs}
    path = out / SWEEP
    if path.exists():
        old = json.loads(path.read_text())
        if {k: old.get(k) for k in wanted} != wanted:
            raise ValueError(f"{out} holds a different sweep (base {old.get('base')}, vary {old.get('vary')}); "
                             "choose another --out, or repeat that sweep's command to resume it")
        return old
    atomic_write_json(path, {**wanted, "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return wanted


def run_sweep(out: str | Path, base: list[str], vary: dict[str, list[str]], parallel: int = 2,
              threads: int | None = None, log=print) -> list[dict]:
    """Train every combination not yet finished, `parallel` at a time; the summary rows."""
    out = Path(out)
    p = plan(out, base, vary)
    lock = FileLock(str(out / "sweep.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RuntimeError(f"{out} is already being swept by another process")
    per_run = threads or max(1, (os.cpu_count() or 1) // parallel)
    todo = [n for n in p["runs"] if (read_status(out / n) or {}).get("state") != "finished"]
    running: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True
        for proc in running.values():
            proc.send_signal(signal.SIGTERM)          # each run saves a checkpoint, then exits

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while (todo or running) and not (stopping and not running):
            while todo and len(running) < parallel and not stopping:
                name = todo.pop(0)
                (out / name).mkdir(exist_ok=True)
                with open(out / f"{name}.log", "ab") as f:
                    running[name] = subprocess.Popen(train_command(p["base"], p["runs"][name], out / name, per_run),
                                                     stdout=f, stderr=subprocess.STDOUT)
                log(f"sweep: started {name} ({per_run} thread{'s' * (per_run > 1)})")
            time.sleep(0.5)
            for name, proc in list(running.items()):
                if proc.poll() is not None:
                    del running[name]
                    log(f"sweep: {name} ended ({'ok' if proc.returncode == 0 else f'exit {proc.returncode}'})")
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        lock.release()
    rows = summary(out)
    atomic_write_json(out / "summary.json", {"rows": rows})
    return rows


def summary(out: str | Path) -> list[dict]:
    """One row per run of a sweep: its values, state, best FD and where, speed, final FD."""
    out = Path(out)
    try:
        p = json.loads((out / SWEEP).read_text())
    except (OSError, json.JSONDecodeError):
        raise ValueError(f"{out} is not a sweep folder (no readable {SWEEP})")
    rows = []
    for name, values in p["runs"].items():
        quality, status = read_quality(out / name), read_status(out / name) or {}
        best = best_row(quality)
        speeds = sorted(_speeds(out / name))
        rows.append({"run": name, **values, "state": status.get("state", "not started"),
                     "best fd": best["fd"] if best else None, "k images at best": _k(best),
                     "final fd": quality[-1]["fd"] if quality else None,
                     "k images": _k(quality[-1]) if quality else None,
                     "img/s": speeds[len(speeds) // 2] if speeds else None})
    return rows


def _k(row: dict | None):
    return round(row["images"] / 1000, 1) if row else None


def _speeds(run: Path) -> list[float]:
    out = []
    try:
        for line in (run / "metrics.jsonl").read_text().splitlines():
            try:
                v = json.loads(line).get("images_per_s")
            except json.JSONDecodeError:
                continue
            if isinstance(v, (int, float)):
                out.append(float(v))
    except OSError:
        pass
    return out


def table(rows: list[dict]) -> str:
    """The summary as aligned text columns."""
    if not rows:
        return "(no runs)"
    keys = list(rows[0])
    cells = [[_cell(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths))
    return "\n".join([line(keys), line(["-" * w for w in widths]), *map(line, cells)])


def _cell(v) -> str:
    return "-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
