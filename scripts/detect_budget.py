"""Does a detectability figure stop moving when the detector's step ceiling doubles? (issue 52's budget rule)

For each model's samples and each ladder rung (real stickers made slightly worse), the converging protocol
at every ceiling, three fits each, on the embedded stickers' judged half:

    .venv/bin/python scripts/detect_budget.py checkpoints/stylegan2-stickers64/model.safetensors \\
        --rungs blur_1px real --ceilings 3000,6000 --out budget.json

prints one row per fit and per (pair, ceiling) the figure ± its error, where each fit stopped and why, and
which fits never left chance; the JSON (written after every ceiling) keeps every fit's validation curve.
A fit's schedule does not depend on its ceiling, so a fit that stopped by its own rule below a ceiling is
reused at the next one, and only fits that met the ceiling run again.
"""
import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from catgan import load_generator  # noqa: E402
from catgan.audit import detect  # noqa: E402
from catgan.audit.evaluate import EVAL_SEED  # noqa: E402
from catgan.data.dataset import resolve_dataset  # noqa: E402
from catgan.io import atomic_write_json  # noqa: E402

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="model files whose samples are judged")
    ap.add_argument("--rungs", nargs="*", default=["blur_1px"], choices=list(detect.LADDER_NAMES))
    ap.add_argument("--ceilings", default="3000,6000", help="step ceilings, comma-separated")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--out", help="JSON with every fit's curve")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    base = detect.Protocol.converging(seeds=tuple(int(s) for s in a.seeds.split(",")))
    images = np.asarray(resolve_dataset("stickers", 64).images)
    judged, other = detect.real_halves(images, base)
    need = base.n_train + base.n_test
    pairs = {name: make(other) for name, make in detect._ladder_rungs().items() if name in a.rungs}
    for model in a.models:
        g = load_generator(model, device="cpu")
        pairs[Path(model).parent.name] = g.generate(np.concatenate([g.latents(EVAL_SEED + i, 1) for i in range(need)]))
    rows = []
    for name, fake in pairs.items():
        fits = {}                       # seed -> the last fit run for it: (ceiling, its result)
        for ceiling in sorted(int(c) for c in a.ceilings.split(",")):
            for seed in base.seeds:
                # the schedule does not depend on the ceiling: a fit that stopped by its own rule under a
                # lower ceiling is this ceiling's fit too, so only fits that met the ceiling run again
                if seed not in fits or fits[seed][1]["fits"][0]["reason"] == "ceiling":
                    t0 = time.time()
                    r = detect.detectability(judged, fake, replace(base, steps=ceiling, seeds=(seed,)),
                                             progress=f"{name} @ {ceiling}, fit {seed}")
                    fits[seed] = (ceiling, {**r, "seconds": round(time.time() - t0)})
                ran, r = fits[seed]
                f = r["fits"][0]
                rows.append({"pair": name, "ceiling": ceiling, "seed": seed, "ran_at": ran,
                             "accuracy": r["folds"][0], "quiz": r["quiz"], "seconds": r["seconds"], "fit": f})
                print(f"{name:<24} ceiling {ceiling:>5} fit {seed}: {r['folds'][0]:.3f}  quiz {r['quiz']:.2f}  "
                      f"stopped at {f['steps']} ({f['reason']}{'' if f['learnt'] else ', never learnt'})"
                      f"{'' if ran == ceiling else f', the fit run at {ran}'}  [{r['seconds']} s]", flush=True)
            here = [x for x in rows if x["pair"] == name and x["ceiling"] == ceiling]
            learnt = [x["accuracy"] for x in here if x["fit"]["learnt"]]
            read = learnt or [x["accuracy"] for x in here]
            err = np.std(read, ddof=1) / np.sqrt(len(read)) if len(read) > 1 else detect.FIT_SD
            print(f"{name:<24} ceiling {ceiling:>5}: {np.mean(read):.3f} ± {err:.3f} over "
                  + (f"the {len(learnt)} fits that learnt" if learnt else f"{len(read)} fits, none of which learnt"),
                  flush=True)
            if a.out:
                atomic_write_json(a.out, {"protocol": base.key(), "rows": rows})

if __name__ == "__main__":
    main()
