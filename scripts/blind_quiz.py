"""The blind quiz you take yourself: rows of five training images and one sample, the answers kept apart.

    .venv/bin/python scripts/blind_quiz.py checkpoints/dcgan-stickers64/model.safetensors --out quiz/
    # look at quiz/rows.png, write your picks (one position 1-6 per row), then:
    .venv/bin/python scripts/blind_quiz.py --score quiz/ 3,5,1,6,2,2,4,1,5,3

Writes rows.png (the rows at 2x, numbered positions) and key.json (the fakes' positions, seeds and
model); nothing on the PNG gives the answer away. The rows are the app's Real or fake rounds
(catgan.audit.quiz.make_round), from round seed --first on. A score is kept beside the model, in
blind_quiz.json (every take, newest last), which the model card shows.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from catgan import load_generator, media  # noqa: E402
from catgan.audit import quiz  # noqa: E402
from catgan.catalogue import read_json  # noqa: E402
from catgan.data.dataset import dataset_for  # noqa: E402
from catgan.io import atomic_write_bytes, atomic_write_json  # noqa: E402


QUIZ_FILE = "blind_quiz.json"


def write_quiz(model: Path, out: Path, rows: int, first: int) -> dict:
    g = load_generator(model)
    ds = dataset_for(g.meta)
    rounds = [quiz.make_round(first + i, len(ds)) for i in range(rows)]
    fakes = g.generate(np.concatenate([g.latents(r.fake_seed, 1) for r in rounds]))
    tiles = []
    for r, fake in zip(rounds, fakes):
        row = [np.asarray(ds.images[i]) for i in r.reals]
        row.insert(r.fake_position, fake)
        tiles += row
    atomic_write_bytes(out / "rows.png", media.grid_png(np.stack(tiles), cols=quiz.ROW, scale=2))
    key = {"model": str(model), "step": g.meta.get("step"), "rows": rows, "first_round": first,
           "fake_positions": [r.fake_position + 1 for r in rounds], "fake_seeds": [r.fake_seed for r in rounds]}
    atomic_write_json(out / "key.json", key)
    return {"png": str(out / "rows.png"), "key": str(out / "key.json")}


def score(out: Path, picks: str) -> dict:
    key = json.loads((out / "key.json").read_text())
    chosen = [int(p) for p in picks.replace(" ", "").split(",") if p]
    if len(chosen) != key["rows"] or not all(1 <= p <= quiz.ROW for p in chosen):
        raise SystemExit(f"give {key['rows']} picks, each a position 1-{quiz.ROW}, separated by commas")
    found = sum(p == f for p, f in zip(chosen, key["fake_positions"]))
    result = {"model": key["model"], "step": key.get("step"), "found": found, "rows": key["rows"],
              "fakes": key["fake_positions"], "first_round": key["first_round"],
              "date": datetime.date.today().isoformat()}
    record = Path(key["model"]).parent / QUIZ_FILE
    atomic_write_json(record, {"takes": read_json(record).get("takes", []) + [result]})
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=Path("quiz"))
    ap.add_argument("--rows", type=int, default=10)
    ap.add_argument("--first", type=int, default=900_000, help="the first round's seed (apart from the app's)")
    ap.add_argument("--score", type=Path, metavar="FOLDER", help="score your picks against FOLDER/key.json")
    ap.add_argument("picks", nargs="?", help="with --score: your picks, e.g. 3,5,1,...")
    a = ap.parse_args()
    if a.score:
        print(json.dumps(score(a.score, a.picks or (str(a.model) if a.model else "")), indent=2))
    elif a.model:
        print(json.dumps(write_quiz(a.model, a.out, a.rows, a.first), indent=2))
    else:
        ap.error("give a model file, or --score FOLDER PICKS")


if __name__ == "__main__":
    main()
