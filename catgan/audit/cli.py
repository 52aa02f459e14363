"""Audit sub-commands (neighbors, eval), registered into the main parser."""
from __future__ import annotations


def _threads(a) -> None:
    """--threads: two audits side by side with one thread each, instead of both oversubscribing the cores."""
    if a.threads:
        import torch
        torch.set_num_threads(a.threads)


def cmd_neighbors(a):
    from catgan import load_generator
    from catgan.audit.failures import seed_latents
    from catgan.audit.neighbors import build_index
    from catgan.data.dataset import resolve_dataset
    from catgan.data.dataset import dataset_for
    g = load_generator(a.checkpoint)
    index = build_index(resolve_dataset(a.data, g.resolution) if a.data else dataset_for(g.meta))
    images = g.generate(seed_latents(g, range(a.seed, a.seed + a.n)))
    out = []
    for i, result in enumerate(index.query(images, k=a.k)):
        out.append({"seed": a.seed + i, **{space: {"verdict": nb.verdict, "neighbours": [
            {"index": m.index, "distance": round(m.distance, 4), **({"flipped": True} if m.flipped else {})}
            for m in nb.matches]} for space, nb in result.items()}})
    return out


def cmd_eval(a):
    from catgan.audit.evaluate import evaluate
    _threads(a)
    report = evaluate(a.checkpoint, a.data, a.n, out=a.json, spaces=a.spaces)
    report.get("labels", {}).pop("histograms", None)
    return report


def cmd_detect(a):
    from catgan.audit.detect import Protocol
    from catgan.audit.evaluate import detect_model
    _threads(a)
    r = detect_model(a.checkpoint, a.data, a.eval_json, p=Protocol(precision=a.precision))
    if a.json:
        return r
    print(f"{a.checkpoint}: detectability {r['detectability']:.3f} ± {r['stderr']:.3f} (AUC {r['auc']:.3f}), "
          f"{r['on_ladder']}")
    print("ladder: " + ", ".join(f"{k} {v:.3f}" for k, v in r["ladder"].items()))
    print("most detectable seeds: " + ", ".join(f"{t['seed']} ({t['tell']})" for t in r["most_detectable"]))
    print(f"figure {r['saved']}")
    return None


def cmd_truncation(a):
    from catgan.audit.evaluate import truncation_model
    _threads(a)
    return truncation_model(a.checkpoint, a.data, a.eval_json)


def cmd_train_space(a):
    from catgan.audit.sticker_space import train_space
    from catgan.audit.sticker_space import WEIGHTS
    return train_space(a.out or WEIGHTS, n=a.n, epochs=a.epochs, seed=a.seed)


def add_audit_commands(sub):
    s = sub.add_parser("neighbors", help="nearest training images of generated samples (memorisation check)")
    s.add_argument("checkpoint")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n", type=int, default=1, help="how many consecutive seeds")
    s.add_argument("--k", type=int, default=5)
    s.add_argument("--data", help="dataset folder or 'stickers' (default: the one the model was trained on)")
    s.set_defaults(fn=cmd_neighbors)

    e = sub.add_parser("eval", help="per feature space: FD with its degradation ladder, KID, precision/recall, "
                                     "density/coverage, rho; label coverage; memorisation")
    e.add_argument("checkpoint")
    e.add_argument("--n", type=int, default=5000)
    e.add_argument("--data", help="dataset folder or 'stickers' (default: the one the model was trained on)")
    e.add_argument("--json", help="where to write the report (default: eval.json beside the model)")
    e.add_argument("--spaces", nargs="+", choices=["sticker", "efficientnet"],
                   help="only these feature spaces (default: every space that applies to the dataset)")
    e.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    e.set_defaults(fn=cmd_eval)

    d = sub.add_parser("detect", help="fake detectability: how well a fresh classifier tells the model's samples "
                                       "from real images, with its ladder and the most detectable samples")
    d.add_argument("checkpoint")
    d.add_argument("--data", help="dataset folder or 'stickers' (default: the one the model was trained on)")
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    d.add_argument("--eval-json", help="the eval report to add it to (default: eval.json beside the model)")
    d.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    d.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="the detector's arithmetic; auto (default): bf16 where native (about 2x a fit; the same "
                        "figures within their errors), else fp32")
    d.set_defaults(fn=cmd_detect)

    tr = sub.add_parser("truncation", help="detectability and pose×item coverage against the latent scale, and "
                                           "the scale the model recommends (Home and the explorer start there)")
    tr.add_argument("checkpoint")
    tr.add_argument("--data", help="dataset folder or 'stickers' (default: the one the model was trained on)")
    tr.add_argument("--eval-json", help="the eval report to add it to (default: eval.json beside the model)")
    tr.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    tr.set_defaults(fn=cmd_truncation)

    t = sub.add_parser("train-space", help="retrain the sticker space (the noise-robust feature space) from scratch")
    t.add_argument("--out", default=None, help="where to write the weights (default: the shipped file)")
    t.add_argument("--n", type=int, default=24_000, help="freshly rendered training stickers")
    t.add_argument("--epochs", type=int, default=4)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(fn=cmd_train_space)
