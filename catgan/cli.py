"""`catgan` sub-commands. Each is a thin wrapper over a function you can call from Python."""
from __future__ import annotations

import argparse
import io
import json
import sys

import numpy as np


def set_values(pairs):
    """`--set KEY=VALUE` pairs as a dict: each value read as JSON where it is JSON, else kept as text."""
    out = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def cmd_prepare(a):
    if a.source == "synthetic":
        from catgan.data.dataset import make_synthetic
        ds = make_synthetic(a.out, a.n, a.size, a.seed, originals=a.originals)
        return {"out": str(ds.path), "images": len(ds)}
    if a.source == "stickers":
        from catgan.data.stickers import prepare_stickers
        summary = prepare_stickers(a.src, a.out, a.size, variants=a.variants, seed=a.seed)
        if "warning" in summary:
            print(f"catgan: warning: {summary['warning']}", file=sys.stderr)
        return summary
    from catgan.data.catfaces import prepare_cat_faces
    summary = prepare_cat_faces(a.src, a.out, a.size, a.min_size)
    summary.pop("dropped_files")
    return summary


def cmd_train(a):
    from catgan.train.trainer import TrainConfig, train
    cfg = TrainConfig(model=a.model, data=a.data, out=a.out, preset=a.preset, steps=a.steps,
                      resolution=a.resolution, batch=a.batch, lr=a.lr, seed=a.seed, log_every=a.log_every,
                      sample_every=a.sample_every, checkpoint_every=a.checkpoint_every, max_minutes=a.minutes,
                      max_kimg=a.kimg,
                      precision="bf16" if a.bf16 else a.precision,
                      device=a.device, threads=a.threads, overrides=set_values(a.set),
                      eval_kimg=a.eval_kimg, eval_n=a.eval_n, eval_space=a.eval_space,
                      patience_kimg=a.patience_kimg, init_from=a.init_from, warmup_kimg=a.warmup_kimg,
                      keep_points=a.keep_points, cond=a.cond)
    return train(cfg)


def cmd_sweep(a, base: list[str]):
    from catgan.train import sweep
    vary = sweep.parse_vary(a.vary)
    probe = build_parser().parse_args(["train", *base, "--out", "-"])      # typos fail before any run starts
    if probe.out != "-" or "--threads" in base:
        raise ValueError("give the sweep's folder as the sweep's --out and threads as its --threads, not in the "
                         "train arguments")
    rows = sweep.run_sweep(a.out, base, vary, parallel=a.parallel, threads=a.threads,
                           log=lambda m: print(m, file=sys.stderr))
    print(sweep.table(rows))


def cmd_export(a):
    from catgan.export import export_run
    return {"model": str(export_run(a.run, a.out, last=a.last, step=a.step))}


def cmd_export_web(a):
    from catgan.web.export import export_web
    return export_web(a.model, a.out)


def cmd_sample(a):
    from catgan import load_generator
    from catgan.media import grid_png
    from catgan.io import atomic_write_bytes
    g = load_generator(a.checkpoint)
    if a.kind:
        g = g.with_kind(g.kind_of(a.kind))
    atomic_write_bytes(a.out, grid_png(g.generate(g.latents(a.seed, a.n)), cols=a.cols))
    return {"out": a.out}


def parse_seeds(text: str) -> list[int]:
    """"0-19" or "1,5,7" or "0-3,10" -> seeds."""
    seeds = []
    for part in text.replace(" ", "").split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ValueError(f"bad seeds {text!r}: use whole numbers and ranges, e.g. 0-19 or 1,5,7")
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    return seeds


def cmd_directions(a):
    from catgan import directions, load_generator
    return directions.cached(load_generator(a.checkpoint)).summary()


def cmd_edit(a):
    from pathlib import Path

    from catgan import directions, load_generator
    from catgan.io import atomic_write_bytes
    from catgan.media import png_bytes
    g = load_generator(a.checkpoint)
    found = directions.cached(g)
    direction = found.by_name(a.direction)
    amounts = [float(x) for x in a.amounts.split(",")]
    seeds = parse_seeds(a.seeds)
    z = np.stack([g.latents(s, 1)[0] + amount * direction.vector for s in seeds for amount in amounts])
    images = g.generate(z)
    out = Path(a.out)
    names = [f"seed{s}_{amount:g}.png" for s in seeds for amount in amounts]
    for name, image in zip(names, images):
        atomic_write_bytes(out / name, png_bytes(image))
    return {"direction": direction.summary(), "written": len(names), "out": str(out)}


def cmd_invert(a):
    from pathlib import Path

    from catgan import invert, latent_store, load_generator
    from catgan.data.images import open_image
    from catgan.io import atomic_write_bytes
    from catgan.media import png_bytes
    g = load_generator(a.checkpoint)
    found = invert.invert(g, invert.target_from_image(g, open_image(a.image)), steps=a.steps)
    out = Path(a.out)
    atomic_write_bytes(out / "reconstruction.png", png_bytes(found.image))
    buf = io.BytesIO()
    np.save(buf, found.z, allow_pickle=False)
    atomic_write_bytes(out / "latent.npy", buf.getvalue())
    key = latent_store.put(found.z, {"model": str(g.path), "source": Path(a.image).name, **found.summary()})
    return {**found.summary(), "latent_id": key, "out": str(out)}


def build_parser() -> argparse.ArgumentParser:
    from catgan.models import FAMILIES
    p = argparse.ArgumentParser(prog="catgan", description="Train, explore and audit cat-generating GANs.")
    sub = p.add_subparsers(dest="command", required=True)

    pr = sub.add_parser("prepare", help="make a dataset folder (images.npy + dataset.json)")
    psub = pr.add_subparsers(dest="source", required=True)
    s = psub.add_parser("synthetic", help="render procedural sticker cats")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, default=10_000)
    s.add_argument("--size", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--originals", type=int, default=None,
                   help="render only this many unique stickers and augment them up to --n")
    s = psub.add_parser("stickers", help="a folder of sticker images")
    s.add_argument("src")
    s.add_argument("--out", required=True)
    s.add_argument("--size", type=int, default=64)
    s.add_argument("--variants", type=int, default=8, help="augmented copies per original")
    s.add_argument("--seed", type=int, default=0)
    s = psub.add_parser("cat-faces", help="the CAT dataset (CAT_00..CAT_06 with .cat landmarks)")
    s.add_argument("src")
    s.add_argument("--out", required=True)
    s.add_argument("--size", type=int, default=128)
    s.add_argument("--min-size", type=int, default=128)
    pr.set_defaults(fn=cmd_prepare)

    t = sub.add_parser("train", help="train a GAN into a run folder (resumes if the folder has a checkpoint)")
    t.add_argument("--model", choices=list(FAMILIES), required=True)
    t.add_argument("--data", default="stickers", help="a prepared dataset folder, or 'stickers' (embedded)")
    t.add_argument("--out", required=True)
    t.add_argument("--preset", default="cpu", help="cpu (sized for a 2-core CPU), paper (the seeds' sizes), "
                   "or a family's own, e.g. classic for dcgan")
    t.add_argument("--steps", type=int, default=4000)
    t.add_argument("--minutes", type=float, help="stop after this much training time (pilots at equal CPU time)")
    t.add_argument("--kimg", type=float, help="stop after this many thousand images (pilots at equal images)")
    t.add_argument("--resolution", type=int, default=64)
    t.add_argument("--batch", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--log-every", type=int, default=10)
    t.add_argument("--sample-every", type=int, default=250)
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="auto (default): bf16 autocast only where this machine runs it natively, else fp32")
    t.add_argument("--bf16", action="store_true", help="the same as --precision bf16 (kept for old scripts)")
    t.add_argument("--device")
    t.add_argument("--threads", type=int)
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a family config value")
    t.add_argument("--eval-kimg", type=float, help="a quality point (robust FD, coverage) every this many "
                   "thousand images; default about 15 per run, 0 turns it off")
    t.add_argument("--eval-n", type=int, help="samples per quality point (default 1000 sticker, 300 efficientnet)")
    t.add_argument("--eval-space", choices=["sticker", "efficientnet"],
                   help="the feature space of quality points (default: the dataset's robust one)")
    t.add_argument("--patience-kimg", type=float, help="stop once the best point is this many thousand images old")
    t.add_argument("--keep-points", action="store_true", help="keep every quality point's weights in points/ "
                                                                "(to judge them later, e.g. catgan detect)")
    t.add_argument("--init-from", metavar="MODEL", help="start a new run from a model's weights (G, G_ema and D: "
                   "a run's checkpoint or best, or a shipped model) with fresh optimisers; its step and "
                   "schedules carry on, its architecture is kept (a growing WGAN's may widen), --set changes the rest")
    t.add_argument("--cond", choices=["labels"], help="condition G and D on the dataset's labels (the stickers' "
                   "pose, item, coat and eyes): a kind of cat on demand")
    t.add_argument("--warmup-kimg", type=float, help="after --init-from, ramp the learning rates up from 0 over "
                   "this many thousand images (default 20; 0: none), so fresh optimisers do not undo the weights")
    t.set_defaults(fn=cmd_train)

    sw = sub.add_parser("sweep", help="train every combination of --vary values, k at a time; resumes when rerun",
                        epilog="every other argument is a `catgan train` argument shared by all runs")
    sw.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2",
                    help="a train option (lr, batch, seed, ...) or a family config key, with its values")
    sw.add_argument("--out", required=True, help="the sweep folder: sweep.json, summary.json, one folder per run")
    sw.add_argument("--parallel", type=int, default=2, help="runs at a time (default 2)")
    sw.add_argument("--threads", type=int, help="threads per run (default: CPU cores / parallel)")
    sw.set_defaults(fn=cmd_sweep)

    e = sub.add_parser("export", help="a finished run -> a shippable model folder")
    e.add_argument("run")
    e.add_argument("--out", required=True)
    e.add_argument("--last", action="store_true", help="the last checkpoint, not the best quality point")
    e.add_argument("--step", type=int, help="the quality point kept at this step (a run trained --keep-points)")
    e.set_defaults(fn=cmd_export)

    w = sub.add_parser("export-web", help="a model as a static web page that generates in the browser")
    w.add_argument("model", help="a model file (checkpoints/NAME/model.safetensors, a run's best.safetensors)")
    w.add_argument("--out", required=True, help="the folder to write (replaced whole when the export succeeds)")
    w.set_defaults(fn=cmd_export_web)

    s = sub.add_parser("sample", help="a PNG grid of samples from a checkpoint")
    s.add_argument("checkpoint")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n", type=int, default=16)
    s.add_argument("--cols", type=int, default=4)
    s.add_argument("--kind", help="a conditional model's kind of cat, e.g. pose=sleeping,item=cup (the rest: "
                                  "the data's mix)")
    s.set_defaults(fn=cmd_sample)

    d = sub.add_parser("directions", help="a model's latent directions (named and principal) as JSON")
    d.add_argument("checkpoint")
    d.set_defaults(fn=cmd_directions)

    ed = sub.add_parser("edit", help="move seeds along a direction; writes DIR/seed{S}_{AMOUNT}.png")
    ed.add_argument("checkpoint")
    ed.add_argument("--seeds", default="0-7", help="e.g. 0-19 or 1,5,7")
    ed.add_argument("--direction", required=True, help="a name from `catgan directions`, e.g. 'coat: orange'")
    ed.add_argument("--amounts", default="-3,0,3")
    ed.add_argument("--out", required=True)
    ed.set_defaults(fn=cmd_edit)

    iv = sub.add_parser("invert", help="find the latent of your own image; writes reconstruction.png, latent.npy")
    iv.add_argument("checkpoint")
    iv.add_argument("image")
    iv.add_argument("--out", required=True)
    iv.add_argument("--steps", type=int, default=200)
    iv.set_defaults(fn=cmd_invert)

    from catgan.audit.cli import add_audit_commands
    add_audit_commands(sub)
    return p


def _glue_negative_lists(argv: list[str]) -> list[str]:
    """`--amounts -3,0,3` reads to argparse as an unknown option; glue it as `--amounts=-3,0,3`."""
    out = []
    for arg in argv:
        if out and out[-1] == "--amounts" and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"--amounts={arg}"
        else:
            out.append(arg)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = _glue_negative_lists(argv)
    if argv[:1] == ["sweep"]:
        args, base = build_parser().parse_known_args(argv)
    else:
        args, base = build_parser().parse_args(argv), None
    try:
        result = args.fn(args, base) if base is not None else args.fn(args)
    except (ValueError, FileNotFoundError, NotADirectoryError, RuntimeError) as e:
        print(f"catgan: error: {e}", file=sys.stderr)
        return 2
    if result is not None:
        print(json.dumps(result, indent=2, default=str))
    return 0
