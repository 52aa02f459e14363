"""Does a detectability figure stop moving when the detector's step ceiling doubles? (issue 52's budget rule)

For each model's samples and each ladder rung (real stickers made slightly worse), the converging protocol
at every ceiling, three fits each, on the embedded stickers' judged half:

    .venv/bin/python scripts/detect_budget.py checkpoints/stylegan2-stickers64/model.safetensors \\
        --rungs blur_1px real --ceilings 2400,4800 --out budget.json

prints one row per (pair, ceiling): the figure ± its error, where each fit stopped and why, and which fits
never left chance; the JSON keeps every fit's validation curve.
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
    ap.add_argument("--ceilings", default="2400,4800", help="step ceilings, comma-separated")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--out", help="JSON with every fit's curve")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    base = detect.Protocol(converge=True, seeds=tuple(int(s) for s in a.seeds.split(",")))
    images = np.asarray(resolve_dataset("stickers", 64).images)
    judged, other = detect.real_halves(images, base)
    need = base.n_train + base.n_test
    pairs = {name: make(other) for name, make in detect._ladder_rungs().items() if name in a.rungs}
    for model in a.models:
        g = load_generator(model, device="cpu")
        pairs[Path(model).parent.name] = g.generate(np.concatenate([g.latents(EVAL_SEED + i, 1) for i in range(need)]))
    rows = []
    for name, fake in pairs.items():
        for ceiling in (int(c) for c in a.ceilings.split(",")):
            t0 = time.time()
            r = detect.detectability(judged, fake, replace(base, steps=ceiling), progress=f"{name} @ {ceiling}")
            rows.append({"pair": name, "ceiling": ceiling, "seconds": round(time.time() - t0), **r})
            stops = ", ".join(f"{f['steps']} ({f['reason']})" for f in r["fits"])
            print(f"{name:<24} ceiling {ceiling:>5}: {r['detectability']:.3f} ± {r['stderr']:.3f}  quiz {r['quiz']:.2f}"
                  f"  stopped at {stops}" + (f"  never learnt: {r['failed_fits']}" if r["failed_fits"] else "")
                  + f"  [{rows[-1]['seconds']} s]", flush=True)
    if a.out:
        atomic_write_json(a.out, {"protocol": base.key(), "rows": rows})


if __name__ == "__main__":
    main()
