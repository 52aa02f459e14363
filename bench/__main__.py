"""Benchmarks: `python -m bench [--only NAME ...] [--json OUT]` prints name, value, unit, target, pass.

Figures are wall-clock on whatever machine runs this; run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS: list[dict] = []


def row(name, value, unit, target=None, better="lower", note=""):
    ok = None if target is None else (value <= target if better == "lower" else value >= target)
    ROWS.append({"name": name, "value": round(float(value), 4), "unit": unit, "target": target,
                 "pass": ok, "note": note})
    mark = "" if ok is None else ("PASS" if ok else "FAIL")
    tgt = "" if target is None else f"{'<=' if better == 'lower' else '>='} {target}"
    print(f"{name:<48} {value:>12.4g} {unit:<10} {tgt:<12} {mark} {note}", flush=True)


def timed(fn, repeat=5, warmup=1):
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_matmul():
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    t = timed(lambda: a @ b, repeat=10)
    peak = 2 * 2048 ** 3 / t / 1e9
    row("matmul 2048^2 fp32", peak, "GFLOP/s")
    return peak


def bench_dataset():
    from catgan.data.dataset import make_synthetic, load_dataset
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        make_synthetic(Path(d) / "ds", n=5000, size=64, seed=0, progress=False)
        row("dataset: render 5000 stickers at 64 px", time.perf_counter() - t, "s", 30)
        t = time.perf_counter()
        ds = load_dataset(Path(d) / "ds")
        np.asarray(ds.images[::97]).sum()
        row("dataset: load 5000 from cache", time.perf_counter() - t, "s", 1)


def _train_step_flops(fam, real, gen):
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        fam.train_step(real, gen, 1)
    return fc.get_total_flops()


def bench_training(peak):
    from catgan.models import FAMILIES
    for name, cls in FAMILIES.items():
        for bf16 in (False, True):
            torch.manual_seed(0)
            cfg = cls.config("cpu", resolution=64)
            fam = cls(cfg, "cpu", bf16=bf16)
            fam.begin_step(10 ** 7)        # late in training: full 64 px stage, residuals faded out
            real = (torch.rand(cfg["batch"], 3, 64, 64) * 2 - 1).contiguous(memory_format=torch.channels_last)
            steps = [0]

            def step():
                steps[0] += 1
                fam.train_step(real, torch.Generator().manual_seed(steps[0]), steps[0])
            t = timed(step, repeat=4, warmup=2)
            flops = _train_step_flops(fam, real, torch.Generator().manual_seed(0))
            if name == "pgwgan" and cfg.get("gp_every", 1) > 1:   # average over lazy-penalty steps
                flops = (flops + (cfg["gp_every"] - 1) * _train_step_flops(fam, real, torch.Generator())) / cfg["gp_every"]
            tag = "bf16" if bf16 else "fp32"
            row(f"train {name} cpu preset 64px {tag}", cfg["batch"] / t, "img/s")
            row(f"train {name} {tag}: achieved / fp32 matmul peak", flops / t / 1e9 / peak, "fraction", 0.35, "higher")


def bench_generators():
    from catgan import load_generator
    from catgan.zoo import list_models
    for entry in [e for e in list_models() if e.kind == "shipped" and e.meta]:
        g = load_generator(entry.path, device="cpu")
        z1, z64 = g.latents(0, 1), g.latents(0, 64)
        row(f"generate 1 image: {entry.name}", timed(lambda: g.generate(z1), 20) * 1000, "ms", 10)
        row(f"generate 64 images: {entry.name}", timed(lambda: g.generate(z64), 5) * 1000, "ms", 100)


def bench_features():
    from catgan.audit import features as fe
    from catgan.data.dataset import default_dataset
    ds = default_dataset(64)
    x = np.array(ds.images[:256])
    for size in (64, 96, 128, 160, 224):
        t = timed(lambda: fe.features(x, size=size), repeat=1)
        f = fe.features(x[:128], size=size)
        fl = fe.features(x[:128, :, ::-1], size=size)
        d = ((fl[:, None] - f[None]) ** 2).sum(-1)
        acc = float((d.argmin(1) == np.arange(128)).mean())
        chosen = size == fe.INPUT_SIZE
        row(f"features at {size} px{' (chosen)' if chosen else ''}", len(x) / t, "img/s",
            100 if chosen else None, "higher", f"mirror finds original: {acc:.0%}")


def bench_neighbours():
    from catgan.audit.neighbors import build_index
    from catgan.data.dataset import default_dataset
    index = build_index(default_dataset(64), progress=False)
    q = np.array(default_dataset(64).images[:16])[:, :, ::-1]
    row("5-NN of 16 images among 10,000 (3 spaces)", timed(lambda: index.query(q, k=5), 3), "s", 0.5)


def bench_app():
    from streamlit.testing.v1 import AppTest

    def fresh(page):
        return AppTest.from_file(str(ROOT / page), default_timeout=120)
    t = time.perf_counter()
    fresh("app.py").run()
    row("app cold start to first samples (AppTest)", time.perf_counter() - t, "s", 10)
    at = fresh("pages/1_Latent_sliders.py").run()
    vals = iter(np.linspace(-2, 2, 40))
    idle = timed(lambda: at.slider(key="a").set_value(float(next(vals))).run(), repeat=10)
    row("slider change to new image", idle * 1000, "ms", 100)
    at = fresh("pages/2_Corners.py").run()
    at.slider(key="n").set_value(8).run()
    seeds = iter(range(100, 200))
    row("8x8 corners grid (new corner)", timed(lambda: at.number_input(key="tl_seed").set_value(next(seeds)).run(),
                                               repeat=5) * 1000, "ms", 300)
    at = fresh("pages/4_Morph.py").run()
    keys = iter(range(10, 100))          # 8 new keyframes x 15 frames, looping: 120 frames
    row("120-frame morph GIF ready", timed(lambda: at.text_input(key="seeds").set_value(
        ",".join(str(next(keys)) for _ in range(8))).run(), repeat=3) * 1000, "ms", 2000)
    return idle


def bench_app_during_training(idle):
    """A real cpu-preset training job in the background, while the slider is moved."""
    import subprocess
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([sys.executable, "-m", "catgan", "train", "--model", "dcgan", "--steps", "100000",
                                 "--out", f"{d}/run", "--bf16"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(20)
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file(str(ROOT / "pages/1_Latent_sliders.py"), default_timeout=120).run()
        vals = iter(np.linspace(-1.99, 1.97, 40))     # values the idle run never cached
        busy = timed(lambda: at.slider(key="a").set_value(float(next(vals))).run(), repeat=10)
        proc.terminate()
        proc.wait()
    row("slider change during training / idle", busy / idle, "ratio", 2.0)


GROUPS = ["dataset", "generators", "features", "neighbours", "training", "app"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", choices=GROUPS, help="run only these groups")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    a = ap.parse_args()
    only = set(a.only or GROUPS)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'name':<48} {'value':>12} {'unit':<10} {'target':<12}")
    peak = bench_matmul()
    simple = {"dataset": bench_dataset, "generators": bench_generators, "features": bench_features,
              "neighbours": bench_neighbours}
    for name in GROUPS:
        if name in only and name in simple:
            simple[name]()
    if "training" in only:
        bench_training(peak)
    if "app" in only:
        bench_app_during_training(bench_app())
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                            "rows": ROWS}, indent=2))


if __name__ == "__main__":
    main()
