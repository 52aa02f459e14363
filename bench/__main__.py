"""Benchmarks: `python -m bench [--only NAME ...] [--json OUT]` prints name, value, unit, target, pass.

Figures are wall-clock on whatever machine runs this; run it on a quiet machine. Every run
names the CPU (model, PyTorch's capability, whether bf16 is native) and writes its rows to
bench/results/<capability>-<cpu model>.json, replacing rows of the same name and keeping the
rest, so results from different CPUs sit side by side and one group can be rerun alone.
Training runs in the precision `auto` picks on this machine.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from catgan.device import choose_precision, cpu_bf16_native, cpu_capability  # noqa: E402
from catgan.io import atomic_write_json  # noqa: E402
ROWS: list[dict] = []


def cpu_model() -> str:
    """The CPU's model name: two machines with the same capability (AVX512) can be different CPUs."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def row(name, value, unit, target=None, better="lower", note=""):
    ok = None if target is None else (value <= target if better == "lower" else value >= target)
    ROWS.append({"name": name, "value": round(float(value), 4), "unit": unit, "target": target,
                 "pass": ok, "note": note})
    mark = "" if ok is None else ("PASS" if ok else "FAIL")
    tgt = "" if target is None else f"{'<=' if better == 'lower' else '>='} {target}"
    print(f"{name:<52} {value:>12.4g} {unit:<10} {tgt:<12} {mark} {note}", flush=True)


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
    if cpu_bf16_native():
        a, b = a.bfloat16(), b.bfloat16()
        row("matmul 2048^2 bf16", 2 * 2048 ** 3 / timed(lambda: a @ b, repeat=10) / 1e9, "GFLOP/s")
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


def _flops(fn):
    """FLOPs of what fn runs, counted per operator with torch's own FLOP formulas. (FlopCounterMode's module
    tracking cannot follow a double backward such as StyleGAN2's R1: "A leaf node was passed to
    _will_engine_execute_node"; this counter tracks no modules, and agrees with it elsewhere.)"""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.total += formula(*args, **(kwargs or {}), out_val=out)
            return out

    with Count() as counter:
        fn()
    return counter.total


def _train_step_flops(fam, real):
    """FLOPs of one step; a lazy penalty (the growing WGAN-GP's, StyleGAN2's R1) averaged over its interval."""
    every = fam.cfg.get("gp_every", 1) if fam.name == "pgwgan" else fam.cfg.get("r1_every", 1) if fam.cfg.get("r1_gamma") else 1
    return sum(_flops(lambda: fam.train_step(real, torch.Generator().manual_seed(i), i)) for i in range(every)) / every


def _train_family(cls, preset, precision, batch=None):
    torch.manual_seed(0)
    cfg = cls.config(preset, resolution=64, batch=batch)
    fam = cls(cfg, "cpu", bf16=precision.bf16)
    fam.begin_step(10 ** 7)        # late in training: full 64 px stage, residuals faded out
    real = (torch.rand(cfg["batch"], 3, 64, 64) * 2 - 1).contiguous(memory_format=torch.channels_last)
    steps = [0]

    def step():
        steps[0] += 1
        fam.train_step(real, torch.Generator().manual_seed(steps[0]), steps[0])
    return fam, real, step


def bench_training(peak):
    from catgan.models import FAMILIES
    precision = choose_precision("auto", "cpu")
    print(f"training precision: {precision.name} ({precision.reason})")
    per_image = {}
    for name, cls in FAMILIES.items():
        for preset in [p for p in ("cpu", "paper") if p in cls.presets]:
            fam, real, step = _train_family(cls, preset, precision)
            # a lazy penalty's interval is timed whole (StyleGAN2's R1 every 16 steps)
            every = fam.cfg.get("r1_every", 1) if fam.cfg.get("r1_gamma") else 1
            t = timed(lambda: [step() for _ in range(every)], repeat=2 if every > 1 else 3, warmup=1) / every
            flops = _train_step_flops(fam, real)
            label = f"train {name} {preset} 64px {precision.name}"
            per_image[name, preset] = t / real.shape[0]
            row(label, real.shape[0] / t, "img/s", note=f"{flops / real.shape[0] / 1e9:.2f} GFLOP per image")
            row(f"{label}: achieved / fp32 peak", flops / t / 1e9 / peak, "fraction")
    row("train stylegan2 cpu / dcgan cpu: seconds per image", per_image["stylegan2", "cpu"] / per_image["dcgan", "cpu"],
        "ratio", 3.0, note="issue 42 sized the family for at most 3x")


def bench_pgwgan_step():
    """The growing WGAN-GP's 64 px step (cpu preset), a plain one and one with the lazy penalty, and the
    images per second over one penalty interval: the rate its long runs train at."""
    from catgan.models.pgwgan import PGWGAN
    precision = choose_precision("auto", "cpu")
    fam, real, _ = _train_family(PGWGAN, "cpu", precision)
    every = fam.gp_every[-1]
    plain, penalty = (timed(lambda: fam.train_step(real, torch.Generator().manual_seed(s), s), repeat=3)
                      for s in (1, every))                         # step % every == 0: the penalty's
    label = f"train pgwgan cpu 64px {precision.name}"
    row(f"{label}: plain step", plain, "s", note=f"batch {real.shape[0]}")
    row(f"{label}: penalty step", penalty, "s", note=f"every {every}th step")
    row(f"{label}, over a penalty interval", real.shape[0] * every / ((every - 1) * plain + penalty), "img/s")


def bench_quality():
    """One quality point of the trainer's hook against the training it interrupts (default DCGAN preset)."""
    from catgan.data.dataset import DEFAULT_NAME, resolve_dataset
    from catgan.models import FAMILIES
    from catgan.train.quality import DEFAULT_EVAL_KIMG, QualityHook
    from catgan.train.trainer import _to_uint8
    precision = choose_precision("auto", "cpu")
    fam, real, step = _train_family(FAMILIES["dcgan"], "cpu", precision)
    ips = real.shape[0] / timed(step, repeat=3, warmup=1)
    net = fam.nets[fam.sample_net].eval()
    with tempfile.TemporaryDirectory() as d:
        hook = QualityHook(Path(d), resolve_dataset(DEFAULT_NAME, 64), fam.cfg["latent_dim"], DEFAULT_EVAL_KIMG)
        with torch.no_grad():
            sample = lambda z: _to_uint8(net(z))
            hook.measure(0, 0, sample)                  # the first point also loads the real reference
            t = timed(lambda: hook.measure(0, 0, sample), repeat=2, warmup=0)
    train_s = DEFAULT_EVAL_KIMG * 1000 / ips
    row(f"quality point: {hook.n} samples, {hook.space.key} space", t, "s")
    row(f"quality cost at a point every {DEFAULT_EVAL_KIMG} k images (dcgan cpu, {ips:.0f} img/s)",
        100 * t / (train_s + t), "% of time", 5)


def bench_web():
    """The default model as a static web page: folder size, and load to first batch in Debian's chromium."""
    import functools
    import http.server
    import threading
    from catgan.catalogue import MODEL_FILE, list_models
    from catgan.web.browser import launch
    from catgan.web.export import export_web
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as d:
        info = export_web(list_models()[0].folder / MODEL_FILE, Path(d) / "site")
        row("web page: folder size (default model)", info["bytes"] / 1e6, "MB", note=f"model.onnx "
            f"{info['model_bytes'] / 1e6:.1f} MB")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(Path(d) / "site"))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        times = []
        with sync_playwright() as p:
            browser = launch(p)
            for _ in range(3):
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
                page.wait_for_function("window.catganReady === true", timeout=60_000)
                times.append(page.evaluate("window.catganTimings.firstBatchMs") / 1000)
                page.close()
            browser.close()
        server.shutdown()
    row("web page: load to first batch of 16 (chromium, median of 3)", sorted(times)[1], "s", 3)


def bench_tour():
    """A newcomer's first visit: the real app on the shipped models with an empty cache (the training set
    not yet rendered, no features), in chromium: Home's first cats, then each sidebar page's first content."""
    from catgan.web.browser import FIRST_CONTENT, launch, open_from_sidebar, serve_app, sidebar_labels
    from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright
    with tempfile.TemporaryDirectory() as d, serve_app({"CATGAN_CACHE": f"{d}/cache", "CATGAN_RUNS": f"{d}/runs"},
                                                        f"{d}/server.log") as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)
        t = time.perf_counter()
        page.goto(url)
        page.locator("[data-testid='stImage'] img").first.wait_for()
        row("tour (fresh cache): Home's first cats", time.perf_counter() - t, "s", 5)
        for name in sidebar_labels(page)[1:]:
            t = time.perf_counter()
            open_from_sidebar(page, name)
            try:
                page.get_by_test_id("stMainBlockContainer").locator(FIRST_CONTENT).first.wait_for(timeout=60_000)
                row(f"tour (fresh cache): {name}, first content", time.perf_counter() - t, "s", 10)
            except PlaywrightTimeout:
                row(f"tour (fresh cache): {name}, first content", math.inf, "s", 10, note="none within 60 s")
        browser.close()


def bench_peer(peak):
    """The classic PyTorch DCGAN example's loop beside catgan's DCGAN of the same architecture and batch."""
    from bench.peer_dcgan import PeerLoop
    from catgan.models import get_family
    real = torch.rand(64, 3, 64, 64) * 2 - 1
    peer = PeerLoop()
    flops = _flops(lambda: peer.step(real))
    t_peer = timed(lambda: peer.step(real), repeat=4, warmup=2)
    row("peer: PyTorch DCGAN example, fp32", 64 / t_peer, "img/s", note=f"{flops / 64 / 1e9:.2f} GFLOP per image")
    row("peer: achieved / fp32 peak", flops / t_peer / 1e9 / peak, "fraction")
    auto = choose_precision("auto", "cpu")
    for precision in [choose_precision("fp32", "cpu")] + ([auto] if auto.bf16 else []):
        fam, r, step = _train_family(get_family("dcgan"), "paper", precision, batch=64)
        t = timed(step, repeat=4, warmup=2)
        f = _train_step_flops(fam, r)
        tag = precision.name
        row(f"catgan dcgan (peer's architecture), {tag}", 64 / t, "img/s", note=f"{f / 64 / 1e9:.2f} GFLOP per image")
        if tag == "fp32":
            row("catgan fp32: achieved / fp32 peak", f / t / 1e9 / peak, "fraction", 0.8, "higher",
                "target set for AVX2 machines")
        row(f"catgan {tag} / peer fp32", t_peer / t, "ratio", 2.0 if tag == "bf16" else None, "higher")


def _morph_gif(g):
    from catgan import latent, media
    path = latent.morph_path([g.latents(s, 1)[0] for s in range(10, 18)], 15, loop=True)
    return media.gif_bytes(media.upscale_batch(g.generate(path), 2), 15, True)


def bench_generators():
    from catgan import load_generator
    from catgan.generator import prepare_for_sampling
    from catgan.models import FAMILIES
    from catgan.catalogue import list_models
    for name, cls in FAMILIES.items():              # a fresh net of each preset: timing needs no weights
        cfg = cls.config("cpu", resolution=64)
        torch.manual_seed(0)
        fam = cls(cfg, "cpu")
        fam.begin_step(10 ** 7)
        net, kw = prepare_for_sampling(fam.nets[fam.sample_net], torch.device("cpu")), fam.sample_kwargs()
        z = torch.randn(64, cfg["latent_dim"])
        with torch.inference_mode():
            gflop = _flops(lambda: net(z[:1], **kw)) / 1e9
            row(f"{name} cpu preset: 8x8 grid (64 images)", timed(lambda: net(z, **kw), 5) * 1000, "ms", 150,
                note=f"{gflop:.3f} GFLOP per image")
    for entry in [e for e in list_models() if e.kind == "shipped" and e.meta]:
        g = load_generator(entry.path, device="cpu")
        z1, z64 = g.latents(0, 1), g.latents(0, 64)
        row(f"{entry.name}: 1 image", timed(lambda: g.generate(z1), 20) * 1000, "ms", 10)
        row(f"{entry.name}: 8x8 grid (64 images)", timed(lambda: g.generate(z64), 5) * 1000, "ms", 150)
        zt, kw = torch.from_numpy(z64), g.meta.get("sample_kwargs", {})
        with torch.inference_mode():      # beside the fresh net above: is a loaded model's net itself slower?
            row(f"{entry.name}: 8x8 grid, the net alone", timed(lambda: g.net(zt, **kw), 5) * 1000, "ms",
                note=f"{_flops(lambda: g.net(zt[:1], **kw)) / 1e9:.3f} GFLOP per image")
        row(f"{entry.name}: 120-frame morph GIF", timed(lambda: _morph_gif(g), 2) * 1000, "ms", 2000)


def bench_features():
    from catgan.audit import features as fe
    from catgan.audit.spaces import SPACES, dataset_features, rho
    from catgan.data.dataset import default_dataset
    ds = default_dataset(64)
    x = np.array(ds.images[:256])
    for size in (96, 128, 160):
        t = timed(lambda: fe.features(x, size=size), repeat=1)
        f = fe.features(x[:128], size=size)
        fl = fe.features(x[:128, :, ::-1], size=size)
        d = ((fl[:, None] - f[None]) ** 2).sum(-1)
        acc = float((d.argmin(1) == np.arange(128)).mean())
        chosen = size == fe.INPUT_SIZE
        row(f"efficientnet features at {size} px{' (chosen)' if chosen else ''}", len(x) / t, "img/s",
            100 if chosen else None, "higher", f"mirror finds original: {acc:.0%}")
    for key, space in SPACES.items():
        t = timed(lambda: space.features(x), repeat=1)
        row(f"{key} space features", len(x) / t, "img/s", better="higher")
        reference = dataset_features(ds, space, progress=False)[:5000]
        for nuisance, value in rho(space, np.array(ds.images[5000:6000]), reference).items():
            row(f"{key} space rho {nuisance}", value, "ratio", 0.3 if key == "sticker" else None,
                note="feature shift / median 5-NN radius of 5,000 real stickers")


def bench_neighbours():
    """The Nearest neighbours page's first use on the default dataset: features of 10,000 images, then the index."""
    from catgan.audit.neighbors import build_index
    from catgan.audit.spaces import features_path, spaces_for
    from catgan.data.dataset import default_dataset
    ds = default_dataset(64)
    features_path(ds, spaces_for(ds)[0]).unlink(missing_ok=True)     # the first use on a new machine
    t = time.perf_counter()
    index = build_index(ds, progress=False)
    row("nearest neighbours: first use (cold feature cache)", time.perf_counter() - t, "s", 30)
    t = time.perf_counter()
    build_index(ds, progress=False)
    row("nearest neighbours: later starts (features cached)", time.perf_counter() - t, "s", 5)
    q = np.array(ds.images[:16])[:, :, ::-1]
    row("5-NN of 16 images among 10,000 (3 spaces)", timed(lambda: index.query(q, k=5), 3), "s", 0.5)


def bench_app():
    from streamlit.testing.v1 import AppTest

    def fresh(page):
        return AppTest.from_file(str(ROOT / page), default_timeout=120)
    t = time.perf_counter()
    fresh("app.py").run()
    row("app cold start to first samples (AppTest)", time.perf_counter() - t, "s", 10)
    at = fresh("views/Latent_sliders.py").run()
    vals = iter(np.linspace(-2, 2, 40))
    idle = timed(lambda: at.slider(key="a").set_value(float(next(vals))).run(), repeat=10)
    row("slider change to new image", idle * 1000, "ms", 100)
    at = fresh("views/Corners.py").run()
    at.slider(key="grid").set_value(8).run()
    seeds = iter(range(100, 200))
    row("8x8 corners grid (new corner)", timed(lambda: at.number_input(key="tl_seed").set_value(next(seeds)).run(),
                                               repeat=5) * 1000, "ms", 300)
    at = fresh("views/Morph.py").run()
    keys = iter(range(10, 100))          # 8 new keyframes x 15 frames, looping: 120 frames
    row("120-frame morph GIF ready", timed(lambda: at.text_input(key="seeds").set_value(
        ",".join(str(next(keys)) for _ in range(8))).run(), repeat=3) * 1000, "ms", 2000)
    return idle


def bench_app_during_training(idle):
    """A real cpu-preset training job in the background, while the slider is moved."""
    import subprocess
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([sys.executable, "-m", "catgan", "train", "--model", "dcgan", "--steps", "100000",
                                 "--out", f"{d}/run"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(20)
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file(str(ROOT / "views/Latent_sliders.py"), default_timeout=120).run()
        vals = iter(np.linspace(-1.99, 1.97, 40))     # values the idle run never cached
        busy = timed(lambda: at.slider(key="a").set_value(float(next(vals))).run(), repeat=10)
        proc.terminate()
        proc.wait()
    row("slider change during training / idle", busy / idle, "ratio", 2.0)


# Environment variables that make an AVX-512 machine behave like an AVX2-only one (PyTorch's own kernels,
# oneDNN and MKL), e.g. `ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2`.
ISA_LIMITS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
def _fit_seconds(threads: int, steps: int) -> float:
    """One detector fit of `steps` on the embedded stickers against their 1 px blur, on `threads` threads
    (at module level, so that a subprocess can import it)."""
    from catgan.audit import detect
    from catgan.audit.degrade import blur
    from catgan.data.dataset import DEFAULT_NAME, resolve_dataset
    torch.set_num_threads(threads)
    p = replace(detect.Protocol(), steps=steps, seeds=(0,))
    real, other = detect.real_halves(np.asarray(resolve_dataset(DEFAULT_NAME, 64).images), p)
    t0 = time.perf_counter()
    detect.one_fold(real, blur(other, 1.0), 0, p)
    return time.perf_counter() - t0


def bench_detect():
    """Fake detectability's cost: seconds a fit in fp32 and in bf16 autocast (where native), beside the FLOP
    count; a model's figure (its seeds); and how often the trainer's hook can afford a point within its budget."""
    from catgan.audit import detect
    from catgan.audit.degrade import blur
    from catgan.data.dataset import DEFAULT_NAME, resolve_dataset
    from catgan.models import FAMILIES
    from catgan.pixels import from_uint8
    from catgan.train.quality import DETECT_BUDGET
    p = detect.Protocol()
    real, other = detect.real_halves(np.asarray(resolve_dataset(DEFAULT_NAME, 64).images), p)
    fake = blur(other, 1.0)
    net, x = detect.Detector(), from_uint8(real[:detect.BATCH])
    step_flops = _flops(lambda: net(x).sum().backward())
    row("detectability: FLOPs of one fit (forward and backward)", step_flops * p.steps / 1e12, "TFLOP",
        note=f"{p.steps} steps of {detect.BATCH} at 64 px")

    def seconds_a_fit(precision: str) -> float:
        """A fit's steps timed over 100 and 300 (the rest, batch norm's recalibration, once)."""
        t = []
        for steps in (100, 300):
            q = replace(p, steps=steps, seeds=(0,), precision=precision)
            t0 = time.perf_counter()
            detect.one_fold(real, fake, 0, q)
            t.append(time.perf_counter() - t0)
        per_step = (t[1] - t[0]) / 200
        return t[0] - 100 * per_step + p.steps * per_step

    fp32 = seconds_a_fit("fp32")
    row("detectability: one fit, fp32", fp32, "s", note=f"{step_flops * p.steps / fp32 / 1e9:.0f} GFLOP/s")
    one = fp32
    if cpu_bf16_native():
        bf16 = seconds_a_fit("bf16")
        row("detectability: one fit, bf16 autocast", bf16, "s", note=f"{step_flops * p.steps / bf16 / 1e9:.0f} GFLOP/s")
        row("detectability: fp32 / bf16", fp32 / bf16, "ratio", better="higher")
        one = bf16
    row(f"detectability: a model's figure ({len(p.seeds)} fits, this machine's precision)", one * len(p.seeds), "s",
        target=300 if cpu_bf16_native() else 900, note="one fit times seeds; the issue's 5 min (bf16) / 15 min (AVX2)")
    cores = os.cpu_count() or 1
    if cores >= 2:
        import subprocess
        steps = 300
        t0 = time.perf_counter()
        for _ in range(2):
            _fit_seconds(cores, steps)
        after = time.perf_counter() - t0
        code = f"from bench.__main__ import _fit_seconds; print(_fit_seconds({cores // 2}, {steps}))"
        procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                  cwd=Path(__file__).resolve().parent.parent) for _ in range(2)]
        side = max(float(proc.communicate()[0].split()[-1]) for proc in procs)
        row(f"detectability: two fits side by side ({cores // 2} thread(s) each) / one after the other ({cores})",
            side / after, "ratio", target=1.0, note=f"{steps} steps each: as two audits with --threads")
    fam, batch, step = _train_family(FAMILIES["dcgan"], "cpu", choose_precision("auto", "cpu"))
    ips = batch.shape[0] / timed(step, repeat=3, warmup=1)
    row(f"quality hook: images between detectability points at {DETECT_BUDGET:.0%} (dcgan cpu, {ips:.0f} img/s)",
        ips * one / DETECT_BUDGET / 1000, "k images", note="the hook's budget rule, from one fit's cost")


GROUPS = ["dataset", "generators", "features", "neighbours", "training", "pgwgan_step", "quality", "detect", "peer",
          "app", "web", "tour"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", choices=GROUPS, help="run only these groups")
    ap.add_argument("--json", help="where to write the rows (default: bench/results/<cpu capability>.json)")
    a = ap.parse_args()
    only = set(a.only or GROUPS)
    limits = {k: os.environ[k] for k in ISA_LIMITS if k in os.environ}
    machine = {"cpu_model": cpu_model(), "cpu_capability": cpu_capability(), "bf16_native": cpu_bf16_native(), "cores": os.cpu_count(),
               "threads": torch.get_num_threads(), "torch": torch.__version__, "platform": platform.platform(),
               "isa_limited_by": limits}
    print(f"machine: {machine['cpu_model']}, CPU capability {machine['cpu_capability']}, bf16 native: {machine['bf16_native']}, "
          f"{machine['cores']} cores, {machine['threads']} threads, torch {machine['torch']}"
          + (f"; instruction set limited by {limits} (an emulation of a smaller CPU)" if limits else ""))
    print(f"{'name':<52} {'value':>12} {'unit':<10} {'target':<12}")
    peak = bench_matmul()
    runners = {"dataset": bench_dataset, "generators": bench_generators, "features": bench_features,
               "neighbours": bench_neighbours, "training": lambda: bench_training(peak),
               "pgwgan_step": bench_pgwgan_step, "quality": bench_quality, "detect": bench_detect,
               "peer": lambda: bench_peer(peak),
               "app": lambda: bench_app_during_training(bench_app()), "web": bench_web, "tour": bench_tour}
    failed = []
    for name in GROUPS:
        if name in only:
            try:
                runners[name]()
            except Exception as e:           # the other groups' rows still count, and are written
                failed.append(name)
                print(f"group {name} failed: {type(e).__name__}: {e}", file=sys.stderr)
    kind = f"{machine['cpu_capability']}-{re.sub(r'[^A-Za-z0-9]+', '-', machine['cpu_model']).strip('-')}" + (
        "-emulated" if limits else "")
    out = Path(a.json) if a.json else ROOT / "bench" / "results" / f"{kind}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = {r["name"] for r in ROWS}             # a run of some groups keeps the file's other rows
    kept = [r for r in json.loads(out.read_text())["rows"] if r["name"] not in fresh] if out.exists() else []
    atomic_write_json(out, {"machine": machine, "rows": kept + ROWS})
    print(f"{len(ROWS)} rows written to {out} ({len(kept)} earlier rows kept)")
    if failed:
        sys.exit(f"groups that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
