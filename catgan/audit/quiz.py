"""Real or fake? Rows of five training images and one sample; people pick the fake.

The second seed opens with this game. A round (one row) is fully determined by its
seed, so a reveal shows exactly what was asked. Tallies per model (rounds played,
fakes found) live in one JSON file, written atomically under a lock: two tabs
answering at once both count, and a restart keeps them. The human detection rate
with its 95% (Wilson) interval is the reference other metrics try to predict; chance
is 1/6.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock

from catgan.data.dataset import cache_root
from catgan.io import atomic_write_json

ROW = 6
CHANCE = 1 / ROW
QUIZ_SEED = 2_000_000_000     # fake samples use seeds from here on, apart from the eval's


@dataclass(frozen=True)
class Round:
    seed: int                   # the round's own seed
    reals: tuple[int, ...]      # 5 training-image indices
    fake_seed: int              # the generator's latent seed
    fake_position: int          # 0..5: where the fake sits in the row


def make_round(seed: int, n_real: int) -> Round:
    rng = np.random.default_rng([seed, 7])
    reals = tuple(int(i) for i in rng.choice(n_real, ROW - 1, replace=False))
    return Round(seed, reals, QUIZ_SEED + seed % 100_000_000, int(rng.integers(ROW)))


def tallies_path() -> Path:
    return cache_root() / "quiz" / "tallies.json"


def read_tallies(path: Path | None = None) -> dict[str, dict]:
    path = path or tallies_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and {"rounds", "found"} <= set(v)}


def record(model: str, rounds: int, found: int, path: Path | None = None) -> dict:
    """Add answered rounds to a model's tally; returns the new tally."""
    if not 0 <= found <= rounds:
        raise ValueError(f"found ({found}) must be between 0 and rounds ({rounds})")
    path = path or tallies_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=10):
        data = read_tallies(path)
        t = data.get(model, {"rounds": 0, "found": 0})
        data[model] = {"rounds": t["rounds"] + rounds, "found": t["found"] + found}
        atomic_write_json(path, data)
    return data[model]


def wilson(found: int, rounds: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (sane at 0 and at small counts)."""
    if rounds == 0:
        return 0.0, 1.0
    p = found / rounds
    centre = (p + z * z / (2 * rounds)) / (1 + z * z / rounds)
    half = z * math.sqrt(p * (1 - p) / rounds + z * z / (4 * rounds * rounds)) / (1 + z * z / rounds)
    return max(0.0, centre - half), min(1.0, centre + half)


def detection(model: str, path: Path | None = None) -> dict:
    t = read_tallies(path).get(model, {"rounds": 0, "found": 0})
    lo, hi = wilson(t["found"], t["rounds"])
    rate = t["found"] / t["rounds"] if t["rounds"] else None
    return {**t, "rate": rate, "low": lo, "high": hi, "chance": CHANCE}


def people_beside_machine(machine_quiz: float | None, found: int, rows: int, who: str = "people") -> str | None:
    """The detector's quiz rate (the chance it picks the fake in a row of five reals and one sample) beside how
    often people found the fake, in words; says by how much they disagree where the machine's rate falls
    outside people's 95% interval. None where either is missing."""
    if machine_quiz is None or not rows:
        return None
    lo, hi = wilson(found, rows)
    line = (f"{who} found the fake in {found} of {rows} rows ({found / rows:.0%}, 95% {lo:.0%}-{hi:.0%}); "
            f"the detector's quiz {machine_quiz:.0%}")
    if lo <= machine_quiz <= hi:
        return line + ": they agree"
    gap = lo - machine_quiz if machine_quiz < lo else machine_quiz - hi
    side = "finds fewer fakes than" if machine_quiz < lo else "finds more fakes than"
    return line + f": they disagree, the detector {side} {who} by at least {gap:.0%} (outside their interval)"
