"""`catgan eval`: every quality number for one model, saved beside it as eval.json.

The real images split once (seed 0) into a reference half and an other half. In each
feature space, the model's n samples are compared with the reference; so are, for the
degradation ladder, the other half as it is (the floor) and made slightly worse (noise
3/255, blur 1 px, blur 2 px). A model's FD then reads against the ladder: "between blur 1
and blur 2". The ladder and rho do not depend on the model and are cached per dataset.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from catgan.audit import degrade, detect, spectrum, sticker_space, tells, truncation
from catgan.audit.failures import seed_labels, seed_latents
from catgan.audit.metrics import fid, kid, prdc
from catgan.audit.modes import label_agreement, label_measures, pair_table, within_pair_diversity
from catgan.audit.neighbors import build_index, memorisation_rate
from catgan.audit.spaces import FeatureSpace, dataset_features, dataset_key, rho, spaces_for
from catgan.data.dataset import Dataset, cache_root, dataset_for, resolve_dataset
from catgan.generator import load_generator
from catgan.io import atomic_write_bytes, atomic_write_json
from catgan.media import grid_png

EVAL_FILE = "eval.json"
EVAL_SEED = 1_000_000       # generated samples use seeds EVAL_SEED, EVAL_SEED + 1, ...
K = 5                       # neighbours for precision, recall, density, coverage and rho
RHO_N = 1000                # real images the nuisance diagnostic moves
DETECTABLE_FILE = "detectable.png"    # the most detectable samples beside their heat maps
DETECTABLE_K = 8


def split(ds: Dataset, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint reference and other halves of the real data, n each."""
    if n < 10:
        raise ValueError(f"--n {n} is too small for meaningful metrics; use at least 10")
    if 2 * n > len(ds):
        raise ValueError(f"--n {n} needs {2 * n} real images (a reference and an other half) but {ds.path} "
                         f"holds {len(ds)}; use --n {len(ds) // 2} or less")
    order = np.random.default_rng(0).permutation(len(ds))
    return order[:n], order[n:2 * n]


def space_metrics(real: np.ndarray, fake: np.ndarray, kid_subsets: int = 100) -> dict:
    mean, std = kid(real, fake, subsets=kid_subsets)
    return {"fd": fid(real, fake), "kid": mean, "kid_std": std, **prdc(real, fake, k=K)}


def floor_and_ladder(ds: Dataset, space: FeatureSpace, n: int, progress: bool = True) -> dict:
    """The space's ladder (FD of real, noise 3, blur 1, blur 2 against the reference) and rho; cached."""
    ref, other = split(ds, n)
    path = cache_root() / "features" / f"ladder-{space.key}-{dataset_key(ds, space)}-{len(ref)}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        pass
    feats = dataset_features(ds, space, progress=progress)
    other_images = np.asarray(ds.images)[np.sort(other)]
    ladder = {"real": fid(feats[ref], feats[other])}
    for name, degrade_fn in tqdm(degrade.LADDER.items(), desc=f"ladder ({space.key})", disable=not progress,
                                 leave=False):
        ladder[name] = fid(feats[ref], space.features(degrade_fn(other_images)))
    out = {"ladder": ladder, "rho": rho(space, other_images[:RHO_N], feats[ref], k=K),
           "real_vs_real": space_metrics(feats[ref], feats[other])}
    atomic_write_json(path, out)
    return out


def detail(ds: Dataset, images: np.ndarray, n: int) -> dict:
    """The spectrum's hf and spectral_rms of the samples against the reference half, and of the ladder's
    rungs (the other half as it is and made worse) for scale."""
    ref, other = split(ds, n)
    real = spectrum.radial_log_power(np.asarray(ds.images)[np.sort(ref)])
    other_images = np.asarray(ds.images)[np.sort(other)]
    rungs = {"real": other_images, **{k: f(other_images) for k, f in degrade.LADDER.items()}}
    return {**spectrum.spectral_gap(real, spectrum.radial_log_power(images)),
            "ladder": {k: spectrum.spectral_gap(real, spectrum.radial_log_power(v))["hf"] for k, v in rungs.items()}}


SHIPPED_LADDERS = Path(__file__).resolve().parent / "ladders"


def shipped_ladder(ds: Dataset, p: detect.Protocol) -> dict | None:
    """The renderer's ladder under this protocol as it ships (audit/ladders/), for any set the renderer made
    at that resolution (the embedded stickers, a 100,000-render set): it depends on the renderer and the
    protocol, not on which of its stickers are judged, and costs 15 detector fits to measure."""
    if ds.info.get("source") != "synthetic":
        return None
    name = f"stickers-r{ds.info.get('renderer_version')}-{ds.resolution}px-{p.key()}.json"
    try:
        shipped = json.loads((SHIPPED_LADDERS / name).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return shipped["rungs"] if shipped.get("protocol") == p.key() else None


def detect_ladder(ds: Dataset, p: detect.Protocol = detect.Protocol(), progress: bool = True) -> dict:
    """The dataset's detectability ladder (detect.ladder): shipped for the embedded stickers, else cached
    per dataset and protocol."""
    shipped = shipped_ladder(ds, p)
    if shipped is not None:
        return shipped
    path = cache_root() / "features" / f"detect-ladder-{ds.fingerprint}-{p.key()}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        pass
    out = detect.ladder(np.asarray(ds.images), p, progress=progress)
    atomic_write_json(path, out)
    return out


def detect_report(ds: Dataset, images: np.ndarray, png: Path | None = None, progress: bool = True,
                  p: detect.Protocol = detect.Protocol(), fake_labels: dict | None = None) -> dict:
    """How detectable a model's samples (seeds EVAL_SEED, EVAL_SEED + 1, ...) are, read against the
    ladder; its most detectable held-out samples with what gives them away, their heat maps as a PNG
    (row 1 the samples, row 2 where the detector looks) when `png` is given. On a labelled dataset, the
    pose x item pairs, from `fake_labels` (the sticker space's labels of `images`) where already made."""
    judged, _ = detect.real_halves(np.asarray(ds.images), p)
    need = p.n_train + p.n_test
    if len(images) < need:
        raise ValueError(f"detectability needs {need} samples; got {len(images)} (use --n {need} or more)")
    result = detect.detectability(judged, images[:need], p, keep_folds=True,
                                  progress="detector fits, the model's samples" if progress else None)
    folds = result.pop("_folds")
    ladder = detect_ladder(ds, p, progress)
    fold = folds[0]
    worst = np.argsort(fold.fake_scores)[:DETECTABLE_K]          # the most confidently fake, held out
    index = fold.fake_index[worst]
    maps, colour = tells.heat(fold.net, images[index])
    named = tells.name_tells(maps, images[index])
    result.update(ladder={k: v["detectability"] for k, v in ladder.items()},
                  ladder_stderr={k: v["stderr"] for k, v in ladder.items()},
                  on_ladder=detect.on_ladder(result["detectability"], ladder),
                  most_detectable=[{"seed": EVAL_SEED + int(i), "logit": round(float(fold.fake_scores[w]), 2),
                                    **t, "colour": round(float(c), 3)}
                                   for i, w, t, c in zip(index, worst, named, colour)],
                  tells={part: sum(t["tell"] == part for t in named) for part in tells.PARTS})
    if ds.labels:              # which pose x item pairs it draws rarely, and which the detector catches
        fake = fake_labels or sticker_space.classify(images[:need])
        fake = {k: np.asarray(v)[:need] for k, v in fake.items()}
        result["pairs"] = pair_table(ds.labels["pose"], ds.labels["item"], fake["pose"], fake["item"],
                                     ds.label_names, detect.caught(folds, need))
    if png is not None:
        overlays = np.stack([tells.overlay(im, m) for im, m in zip(images[index], maps)])
        atomic_write_bytes(png, grid_png(np.concatenate([images[index], overlays]), cols=len(index), scale=2))
    return result


def model_and_data(checkpoint: str | Path, data: str | None):
    """The generator, and the dataset it is judged against: `data` if given, else the one it trained on."""
    g = load_generator(checkpoint)
    return g, resolve_dataset(data, g.resolution) if data else dataset_for(g.meta)


def detect_model(checkpoint: str | Path, data: str | None = None, out: str | Path | None = None,
                 progress: bool = True, p: detect.Protocol = detect.Protocol()) -> dict:
    """`catgan detect`: the model's detectability, written into its eval.json (the rest kept) and
    its heat maps beside it."""
    g, ds = model_and_data(checkpoint, data)
    images = generate(g, p.n_train + p.n_test, progress)
    target = Path(out) if out else Path(checkpoint).parent / EVAL_FILE
    result = detect_report(ds, images, target.parent / DETECTABLE_FILE, progress, p)
    saved = _merge(target, g, ds, checkpoint, "detect", result)
    return {"model": str(checkpoint), "step": g.meta.get("step"), **result, "saved": saved}


def truncation_model(checkpoint: str | Path, data: str | None = None, out: str | Path | None = None,
                     progress: bool = True, p: detect.Protocol = truncation.PROTOCOL) -> dict:
    """`catgan truncation`: detectability and pose x item coverage against the latent scale, and the scale
    the model recommends; written into its eval.json (the rest kept)."""
    g, ds = model_and_data(checkpoint, data)
    z = seed_latents(g, range(EVAL_SEED, EVAL_SEED + p.n_train + p.n_test))
    result = truncation.sweep(g.generate, z, ds, p=p, progress=progress, centre=_centres(g, len(z)))
    target = Path(out) if out else Path(checkpoint).parent / EVAL_FILE
    saved = _merge(target, g, ds, checkpoint, "truncation", result)
    return {"model": str(checkpoint), "step": g.meta.get("step"), **result, "saved": saved}


def _merge(target: Path, g, ds: Dataset, checkpoint, key: str, value: dict) -> str:
    """One section into a model's eval report, unless the report is of another step (two models mixed);
    says which."""
    try:
        report = json.loads(target.read_text())
    except (OSError, json.JSONDecodeError):
        report = {"model": str(checkpoint), "family": g.family, "step": g.meta.get("step"), "dataset": str(ds.path)}
    if report.get("step") != g.meta.get("step"):
        return (f"not written into {target}: it reports step {report.get('step')}, this model is at step "
                f"{g.meta.get('step')} (run `catgan eval` to renew it, or pass --eval-json elsewhere)")
    report[key] = value
    atomic_write_json(target, report)
    return f"written into {target}"


def _centres(g, n: int) -> np.ndarray | float:
    """Where the truncation sweep pulls the first n evaluation seeds' latents: 0, or for a conditional model
    each seed's own label's mean latent."""
    if g.labels is None:
        return 0.0
    labels = seed_labels(g, range(EVAL_SEED, EVAL_SEED + n))
    return g.label_centres(np.stack([labels[a] for a in g.labels.names], axis=1))


def generate(g, n: int, progress: bool = True) -> np.ndarray:
    batches = [g.generate(seed_latents(g, range(EVAL_SEED + i, EVAL_SEED + min(i + 256, n))))
               for i in tqdm(range(0, n, 256), desc="generating", disable=not progress, leave=False)]
    return np.concatenate(batches)


def evaluate(checkpoint: str | Path, data: str | None = None, n: int = 5000, memorisation_n: int = 1000,
             out: str | Path | None = None, progress: bool = True, spaces: list[str] | None = None,
             protocol: detect.Protocol = detect.Protocol()) -> dict:
    """Every figure for one model; `spaces` limits the feature spaces (e.g. ["sticker"] for a quick pilot).
    Detectability needs the protocol's samples and twice its reals; with fewer it is left out, saying why."""
    t0 = time.time()
    g, ds = model_and_data(checkpoint, data)
    ref, _ = split(ds, n)
    images = generate(g, n, progress)
    report = {"model": str(checkpoint), "family": g.family, "step": g.meta.get("step"), "dataset": str(ds.path),
              "n_real": len(ref), "n_fake": n, "spaces": {}}
    features = {}                 # space -> (real, generated) features
    for space in [s for s in spaces_for(ds) if not spaces or s.key in spaces]:
        real = dataset_features(ds, space, progress=progress)[ref]
        features[space.key] = real, space.features(images, progress=progress)
        report["spaces"][space.key] = {"space": space.description, **space_metrics(*features[space.key]),
                                       **floor_and_ladder(ds, space, n, progress)}
    report["detail"] = detail(ds, images, n)
    target = Path(out) if out else Path(checkpoint).parent / EVAL_FILE
    need = protocol.n_train + protocol.n_test
    fake_labels = sticker_space.classify(images) if ds.labels else None     # for pairs and label measures
    if n >= need and len(ds) >= 2 * need:
        report["detect"] = detect_report(ds, images, target.parent / DETECTABLE_FILE, progress, protocol,
                                         fake_labels)
        report["truncation"] = truncation.sweep(g.generate, seed_latents(g, range(EVAL_SEED, EVAL_SEED + need)), ds,
                                                p=protocol.one_fit(), centre=_centres(g, need))
    else:
        report["detect"] = {"skipped": f"detectability needs {need} samples and {2 * need} real images; "
                                       f"this eval drew {n} of {len(ds)} (run it with --n {need} or more)"}
    if ds.labels and "sticker" in report["spaces"]:
        report["labels"] = label_measures(ds, images, check=ref[:RHO_N], fake_labels=fake_labels)
        real_f, fake_f = features["sticker"]
        report["labels"]["within_pair"] = within_pair_diversity(
            real_f, np.asarray(ds.labels["pose"])[ref], np.asarray(ds.labels["item"])[ref],
            fake_f, fake_labels["pose"], fake_labels["item"], ds.label_names)
        if g.labels is not None and set(g.labels.names) <= set(fake_labels):     # drawn as asked?
            asked = seed_labels(g, range(EVAL_SEED, EVAL_SEED + n))
            report["labels"]["agreement"] = label_agreement(asked, {a: fake_labels[a] for a in asked})
    index = build_index(ds, progress=progress)
    report["memorisation"] = memorisation_rate(index, images[:memorisation_n])
    report["seconds"] = round(time.time() - t0, 1)
    atomic_write_json(target, report)
    return report
