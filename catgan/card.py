"""Model cards: card.json (for the app) and card.md (for people) from a model's metadata, eval and logs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from catgan import media
from catgan.audit import reconstruction, report as rep
from catgan.audit.modes import MIN_JUDGED, RARE_RATIO, gaps
from catgan.audit.quiz import detection, people_beside_machine
from catgan.catalogue import MODEL_FILE, list_models, read_json, stretches
from catgan.generator import load_generator
from catgan.io import atomic_write_bytes, atomic_write_json
from catgan.models import get_family
from catgan.runs import best_row, read_metrics, read_quality


RECON_FILE = "reconstructions.png"   # in samples/: a BEGAN's D reconstructing unseen stickers
RECON_CURVE_FILE = "reconstruction_curve.json"   # {how, rows}: a BEGAN's D trained alone, L1 against images
TRAIN_COMMANDS = {   # how each shipped model was trained: scripts/train_zoo.sh NAME
    name: f"scripts/train_zoo.sh {name}"
    for name in ("dcgan-stickers64", "began-stickers64", "pgwgan-stickers64", "stylegan2-stickers64")}


def write_card(folder: str | Path, machine: str = "") -> dict:
    """card.json (for the app) and card.md (for people) from the model's metadata, eval and logs.

    `machine` describes where it was trained, for models saved before runs recorded it themselves.
    """
    folder = Path(folder)
    g = load_generator(folder / MODEL_FILE, device="cpu", with_critic=True)
    meta, report = g.meta, read_json(folder / "eval.json")
    atomic_write_bytes(folder / "samples" / "final.png", media.grid_png(g.generate(g.latents(0, 64)), cols=8))
    atomic_write_bytes(folder / "samples" / STRIP_FILE, media.grid_png(g.generate(g.latents(0, 8)), cols=8))
    recon_l1 = reconstructions(folder, g)
    metrics = read_metrics(folder)
    every = max(1, len(metrics.get("step", [])) // 200)
    history = {k: v[::every] for k, v in metrics.items() if k != "time"}
    ips = [v for v in metrics.get("images_per_s", []) if v]
    steps, batch = meta.get("step", 0), meta["config"].get("batch", 0)
    parts = stretches(meta, machine)
    trained_on = ", then ".join(dict.fromkeys(where for _, where in parts))
    when_where = ", then ".join(f"{minutes:.0f} min on {where}" for minutes, where in parts)
    if len(parts) > 1:
        when_where = f"{sum(minutes for minutes, _ in parts):.0f} min in all: {when_where}"
    card = {"name": folder.name, "family": g.family, "preset": meta["config"].get("preset"),
            "resolution": g.resolution, "latent_dim": g.latent_dim, "config": meta["config"],
            "dataset": meta.get("dataset"), "steps": steps, "images_seen": steps * batch * meta.get("world_size", 1),
            "train_minutes": round(sum(minutes for minutes, _ in parts), 1), "bf16": meta.get("bf16"),
            "images_per_s_median": float(sorted(ips)[len(ips) // 2]) if ips else None, "machine": trained_on,
            "command": TRAIN_COMMANDS.get(folder.name, "catgan train ..."),
            "quality": rep.row(folder.name, report) if report.get("spaces") else {},
            "ladders": rep.ladders(report), "detect_ladder": rep.detect_ladder(report),
            "detectability": rep.machine_line(report), "labels": {k: v for k, v in report.get("labels", {}).items()
                                                       if k != "histograms"},
            "pair_gaps": gaps(report["detect"]["pairs"]) if report.get("detect", {}).get("pairs") else None,
            "memorisation": report.get("memorisation"), "pilots": read_json(folder / "pilots.json"),
            "blind_quiz": read_json(folder / "blind_quiz.json").get("takes", []),
            "curve": read_json(folder / "curve.json"), "history": history,
            "reconstruction_curve": read_json(folder / RECON_CURVE_FILE),
            "chosen": chosen_step(meta, read_quality(folder)),
            "quality_during_training": quality_table(read_quality(folder)),
            "summary": f"{g.family.upper()} · {steps:,} steps · {steps * batch / 1e6:.2f} M images · "
                       f"{when_where}"}
    atomic_write_json(folder / "card.json", card)
    scale, against = (("psi", "psi, the pull toward the mean w (the scale column)") if g.space == "w"
                      else ("scale", "the latent scale"))
    lines = [f"# {folder.name}", "", card["summary"], "",
             f"- family: {g.family}, preset `{card['preset']}`, {g.resolution} px, latent {g.latent_dim}",
             f"- DiffAugment: {meta['config'].get('diffaug') or 'off'}"
             + (f" ({meta['config']['diffaug_reason']})" if meta["config"].get("diffaug_reason") else ""),
             f"- dataset: {_dataset_line(card['dataset'])}",
             f"- trained: {steps:,} steps, {card['images_seen']:,} images, {when_where} "
             f"(median {_fmt(card['images_per_s_median'])} images/s)",
             *[f"- started from `{_short_path(p['model'])}` at step {p.get('step') or 0:,} (`--init-from`)" for p in meta.get("parents", [])],
             f"- retrain: `{card['command']}`", *_quiz_line(card["blind_quiz"], steps),
             *_people_line(card["blind_quiz"], report.get("detect", {}).get("quiz"), folder.name), "",
             *(["## How it was made", "", (folder / HISTORY_FILE).read_text().strip(), ""]
               if (folder / HISTORY_FILE).exists() else []),
             "## Quality", "",
             *_md_table(["figure", "value"], [[k, _fmt(v)] for k, v in card["quality"].items()]), "",
             *(["## Fake detectability", "", card["detectability"], "",
                *_md_table(["ladder rung", "detectability", "±"],
                           [[k, _fmt(v["detectability"]), _fmt(v["±"])] for k, v in card["detect_ladder"].items()]),
                "", "The most detectable samples and where the classifier looks: `detectable.png`.", ""]
               if card["detectability"] else []),
             *_pair_gaps(report.get("detect", {}).get("pairs")),
             *(["## What bounds it: D's reconstructions of unseen stickers", "",
                "BEGAN's G learns to draw what its discriminator, an autoencoder, reconstructs well. "
                f"`samples/{RECON_FILE}`: 16 stickers rendered with a seed the training set did not use (top) "
                f"over D's reconstructions (mean L1 {recon_l1:.3f} on [-1, 1]).", ""] if recon_l1 is not None else []),
             *_rows_section("D trained alone: its reconstruction curve", card["reconstruction_curve"]),
             *_rows_section(f"Truncation: detectability against {against}",
                            {"how": f"Recommended {scale}: {report['truncation']['recommended']:g} (Home and the "
                                    "explorer start there)." + rep.stale_protocol(report["truncation"]),
                             "rows": report["truncation"]["rows"]}
                            if report.get("truncation") else {}),
             "## Ladders (FD of real images, and made slightly worse) and rho", "",
             *_ladder_table(card["ladders"]), "",
             *_rows_section("Training curves", {"how": CURVES_HOW, "rows": training_curve(metrics, g.family, batch)}),
             *_rows_section("Phases", {"how": PHASES_HOW, "rows": phases(metrics, batch)}),
             *(["## Chosen step", "", card["chosen"], ""] if card["chosen"] else []),
             *_rows_section("Quality while it trained", card["quality_during_training"]),
             *_rows_section("Pilots", card["pilots"]), *_rows_section("Robust FD against images seen", card["curve"]),
             "Samples: `samples/final.png`; training snapshots: `samples/step_*.png`; losses: `metrics.jsonl`."]
    atomic_write_bytes(folder / "card.md", ("\n".join(lines) + "\n").encode())
    return card


def reconstructions(folder: Path, g, n: int = 16) -> float | None:
    """A BEGAN trained on rendered stickers: n unseen stickers over its D's reconstructions, as RECON_FILE;
    returns their mean L1 error (None for other models, or a model shipped without D)."""
    if not reconstruction.applies(g):
        return None
    reals, out, l1 = reconstruction.held_out(g, n)
    atomic_write_bytes(folder / "samples" / RECON_FILE, media.grid_png(np.concatenate([reals, out]), cols=n, scale=2))
    return l1


def _pair_gaps(pairs: list[dict] | None) -> list[str]:
    """The pose x item pairs the model draws rarely, and those the detector catches most often."""
    if not pairs:
        return []
    found = gaps(pairs)

    def rows(chosen):
        return [[f"{r['pose']} × {r['item']}", f"{r['real']:.1%}", _share(r["generated"]),
                 "" if r.get("caught") is None else f"{r['caught']:.0%} of {r['judged']}"] for r in chosen]

    head = ["pose × item", "real share", "generated share", "caught by the detector"]
    rare = rows(found["rare"]) or [["(none: every pair drawn at least half as often as in the data)", "", "", ""]]
    return ["## Pose × item pairs drawn rarely or badly", "",
            "Labelled by the sticker space, on the samples judged for detectability. Drawn rarely (under "
            f"{RARE_RATIO:.0%} of the pair's share of the data):", "",
            *_md_table(head, rare), "",
            f"Caught most often by the detector (pairs with {MIN_JUDGED}+ judged samples; "
            f"{_overall_caught(pairs):.0%} of all judged samples are caught):", "",
            *_md_table(head, rows(found["caught"])), ""]


def _share(x: float) -> str:
    return "under 0.1%" if 0 < x < 0.0005 else f"{x:.1%}"


def _overall_caught(pairs: list[dict]) -> float:
    judged = sum(r.get("judged") or 0 for r in pairs)
    return sum((r.get("caught") or 0) * (r.get("judged") or 0) for r in pairs) / max(judged, 1)


def _quiz_line(takes: list[dict], step: int) -> list[str]:
    """The latest blind quiz (scripts/blind_quiz.py) as a line for the card, if one was taken, and whether
    it was of another model in this folder (takes before the quiz kept the step cannot tell)."""
    if not takes:
        return []
    t = takes[-1]
    other = "" if t.get("step") in (None, step) else f", of the model at step {t['step']:,}: take it again"
    return [f"- blind quiz (rows of five training images and one sample, answers kept apart; "
            f"`scripts/blind_quiz.py`): the fake found in {t['found']} of {t['rows']} rows on {t['date']}{other}"]


def _people_line(takes: list[dict], machine_quiz: float | None, name: str) -> list[str]:
    """The detector's quiz beside the blind quizzes of this card's model and the app's Real-or-fake tallies."""
    lines = []
    if takes:
        t = takes[-1]
        said = people_beside_machine(machine_quiz, t["found"], t["rows"], who="the latest blind quiz")
        lines += [f"- {said}"] if said else []
    tally = detection(name)
    said = people_beside_machine(machine_quiz, tally["found"], tally["rounds"], who="Real or fake? players")
    return lines + ([f"- {said}"] if said else [])


def chosen_step(meta: dict, quality: list[dict]) -> str:
    """Which step the model is, and why: the best quality point, or the last checkpoint."""
    if not quality:
        return ""
    best, last = best_row(quality), quality[-1]
    space = f"{last['space']} space, {last['n']} samples a point"
    if meta.get("best") and best and meta["step"] == best["step"]:
        return (f"Step {best['step']:,} ({best['images'] / 1e6:.3f} M images): the lowest FD ({best['fd']:.2f}) "
                f"of {len(quality)} quality points measured while it trained ({space}); the run went on to step "
                f"{last['step']:,}, where FD was {last['fd']:.2f}.")
    if meta.get("best") and best and meta["step"] == meta["best"].get("step"):
        return (f"Step {meta['step']:,} ({meta['best']['images'] / 1e6:.3f} M images): a kept quality point "
                f"(exported with --step; FD {meta['best']['fd']:.2f}, {space}); the run's best point was "
                f"step {best['step']:,} (FD {best['fd']:.2f}), and it went on to step {last['step']:,}.")
    return (f"Step {meta['step']:,}: the last checkpoint (exported with --last); the best quality point was "
            f"step {best['step']:,} with FD {best['fd']:.2f} ({space}).") if best else ""


def quality_table(quality: list[dict], rows: int = 12) -> dict:
    """The quality points, thinned to about `rows`, always keeping the best and the last."""
    if not quality:
        return {}
    best = best_row(quality)
    every = max(1, len(quality) // rows)
    keep = [r for i, r in enumerate(quality) if i % every == 0 or r is best or i == len(quality) - 1]
    return {"how": f"Measured by the trainer every few thousand images ({quality[-1]['space']} space, "
                   f"{quality[-1]['n']} samples a point: noisier than the final eval's 5,000); * marks the best.",
            "rows": [{"step": r["step"], "M images": round(r["images"] / 1e6, 3), "fd": r["fd"],
                      "coverage": r.get("coverage"), "pose×item coverage": r.get("mode_coverage"),
                      "detectability (1 fit)": r.get("detectability"),
                      **({"D recon L1 (unseen)": r["d_recon_l1"]} if "d_recon_l1" in r else {}),
                      "best": "*" if r is best else ""} for r in keep]}


STRIP_FILE = "strip.png"         # seeds 0-7 in a row: the README's table shows it
HISTORY_FILE = "history.md"      # how the model was made, in words, kept by hand beside the card
CURVES_HOW = "Logged values averaged over ten equal stretches of training (the full log is metrics.jsonl)."
PHASES_HOW = "Each resolution's fade-in (alpha < 1) and stable part, from the log: steps, images and speed."


def training_curve(metrics: dict, family: str, batch: int, rows: int = 10) -> list[dict]:
    """The family's balance figures (k_t and M_global, Wasserstein and penalty, ...) at `rows` points."""
    steps = metrics.get("step", [])
    keys = [k for k in get_family(family).curve_keys if k in metrics]
    out = []
    for part in range(rows):
        lo, hi = len(steps) * part // rows, len(steps) * (part + 1) // rows
        if hi <= lo:
            continue
        row = {"step": steps[hi - 1], "M images": round(steps[hi - 1] * batch / 1e6, 3)}
        for k in keys:
            if k == "resolution":                    # a state, not a figure: where the stretch ends
                row[k] = metrics[k][hi - 1]
                continue
            vals = [v for v in metrics[k][lo:hi] if v is not None]
            row[k] = float(f"{sum(vals) / len(vals):.4g}") if vals else None   # 4 significant digits: lr 5e-5 too
        out.append(row)
    return out


def phases(metrics: dict, batch: int) -> list[dict]:
    """A growing GAN's phases as logged; empty for families that do not grow."""
    if "resolution" not in metrics:
        return []
    out, prev_step = [], 0
    for step, res, alpha, ips in zip(metrics["step"], metrics["resolution"], metrics.get("alpha", []),
                                     metrics["images_per_s"]):
        name = f"{res} px " + ("fade-in" if alpha is not None and alpha < 1 else "stable")
        if not out or out[-1]["phase"] != name:
            out.append({"phase": name, "from step": prev_step, "steps": 0, "_ips": []})
        out[-1]["steps"] += step - prev_step
        out[-1]["_ips"].append(ips)
        prev_step = step
    for row in out:
        ips = sorted(row.pop("_ips"))
        row["k images"], row["median img/s"] = round(row["steps"] * batch / 1000), ips[len(ips) // 2]
    return out


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def _rows_section(title: str, table: dict) -> list[str]:
    """A card section from {"how": ..., "rows": [...]} beside the model (pilots.json, curve.json)."""
    if not table.get("rows"):
        return []
    head = list(table["rows"][0])
    return [f"## {title}", "", table.get("how", ""), "",
            *_md_table(head, [[_fmt(r.get(k)) for k in head] for r in table["rows"]]), ""]


def _ladder_table(ladders: dict) -> list[str]:
    if not ladders:
        return ["(not evaluated)"]
    cols = list(next(iter(ladders.values())))[1:]
    return _md_table(["space", *cols], [[k, *(_fmt(v.get(c)) for c in cols)] for k, v in ladders.items()])


def quality_markdown() -> str:
    """The README's table of shipped models in the robust space, then each space's ladder."""
    cols = ["detectability", "detector's quiz", "on the ladder", "sticker fd", "pose×item coverage", "KL(real‖gen)",
            "sticker coverage", "sticker density", "detail hf", "memorised", "efficientnet fd"]
    rows, ladders = [], {}
    for e in [m for m in list_models() if m.kind == "shipped"]:
        report = read_json(e.folder / "eval.json")
        if not report.get("spaces"):
            continue
        card, r = e.card(), rep.row(e.name, report)
        rows.append([e.name, f"{card.get('steps', 0):,}", _fmt(card.get("images_seen", 0) / 1e6),
                     str(card.get("train_minutes", "")), card.get("machine", ""), *(_fmt(r.get(c)) for c in cols)])
        ladders = ladders or rep.ladders(report)
    return "\n".join(_md_table(["model", "steps", "M images", "train min", "trained on", *cols], rows)
                     + [""] + _ladder_table(ladders))


def _dataset_line(info: dict) -> str:
    """The training set as anyone can recreate it, not as a path on the machine that trained."""
    if info.get("name"):
        return f"{info['name']} ({info.get('count')} images)"
    seed = info.get("seed")
    if seed is None:                   # runs from before it was recorded: read it where the set still is
        seed = read_json(Path(info.get("path", "")) / "dataset.json").get("seed")
    if info.get("source") == "synthetic" and seed is not None:
        return (f"{info['count']:,} synthetic sticker renders "
                f"(`catgan prepare synthetic --out DIR --n {info['count']} --seed {seed}`)")
    return f"{Path(info.get('path', '?')).name} ({info.get('count')} images, {info.get('source') or 'prepared'})"


def _short_path(path: str) -> str:
    """A parent model named by its run folder, without the machine's home directory."""
    posix = Path(path).as_posix()
    if "/runs/" in posix:
        return "runs/" + posix.rsplit("/runs/", 1)[1]
    return Path(path).name if Path(path).is_absolute() else path
