"""Quality measured while training: points, the best snapshot, resume, early stop, and old run folders."""
import json
import math
from pathlib import Path

import numpy as np
import torch
import pytest

from catgan.runs import QUALITY, best_row, read_quality, sample_grids
from catgan.train.quality import BEST, QualityHook


def _rows(fds):
    return [{"step": 10 * (i + 1), "images": 640 * (i + 1), "fd": fd} for i, fd in enumerate(fds)]


def test_the_best_point_is_the_lowest_finite_fd_and_the_earliest_of_equals():
    assert best_row(_rows([9.0, 4.0, 6.0, 4.0, 5.0]))["step"] == 20
    assert best_row(_rows([math.nan, 7.0, math.inf, 3.0, math.nan]))["step"] == 40
    assert best_row(_rows([math.nan])) is None
    assert best_row([]) is None


def test_a_point_is_due_each_time_the_images_seen_cross_a_multiple(tiny_data, tmp_path):
    hook = QualityHook(tmp_path, tiny_data, latent_dim=8, every_kimg=0.1, n=16)
    due = [s for s in range(1, 40) if hook.due(s * 8, (s - 1) * 8)]
    assert due == [13, 25, 38]                      # 104, 200, 304 images: past 100, 200, 300
    assert not QualityHook(tmp_path, tiny_data, 8, every_kimg=0, n=16).due(800, 0)


def test_patience_stops_only_once_the_best_is_old_enough(tiny_data, tmp_path):
    hook = QualityHook(tmp_path, tiny_data, latent_dim=8, every_kimg=1, n=16)
    hook.rows = [{"step": 1, "images": 1000, "fd": 5.0}, {"step": 2, "images": 2000, "fd": 6.0}]
    assert not hook.stale(2000, patience_kimg=2)
    assert hook.stale(3000, patience_kimg=2)
    assert not hook.stale(10_000, patience_kimg=None)


def test_a_half_written_or_foreign_line_is_skipped(tmp_path):
    (tmp_path / QUALITY).write_text('{"step": 2, "images": 16, "fd": 3.5}\n["x"]\n{"step": 4, "images": 32, "f')
    assert [r["step"] for r in read_quality(tmp_path)] == [2]
    assert read_quality(tmp_path / "missing") == []


def test_a_short_run_logs_points_and_keeps_its_best_snapshot(tiny_cfg):
    from catgan import load_generator
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=12, eval_kimg=0.016, eval_n=48)       # a point every 2 steps of 8 images
    Trainer(cfg).run()
    rows = read_quality(cfg.out)
    assert [r["step"] for r in rows] == [2, 4, 6, 8, 10, 12]
    for r in rows:
        assert r["space"] == "sticker" and r["n"] == 48 and r["images"] == r["step"] * 8
        assert np.isfinite(r["fd"]) and 0 <= r["coverage"] <= 1 and 0 <= r["mode_coverage"] <= 1
        assert r["hf"] < 0                  # a 12-step generator's samples are far blurrier than stickers
    best = best_row(rows)
    assert [r["step"] for r in rows if r["best"]][-1] == best["step"]
    g = load_generator(f"{cfg.out}/{BEST}")
    assert g.meta["step"] == best["step"] and g.meta["best"]["fd"] == best["fd"]
    assert g.generate(g.latents(0, 2)).shape == (2, 32, 32, 3)
    assert (Path(cfg.out) / "samples" / f"step_{best['step']:06d}.png").exists()


def test_resume_keeps_the_history_and_forgets_points_after_the_checkpoint(tiny_cfg):
    from catgan.train.trainer import Trainer
    Trainer(tiny_cfg("dcgan", steps=4, eval_kimg=0.016, eval_n=48)).run()
    cfg = tiny_cfg("dcgan", steps=8, eval_kimg=0.016, eval_n=48)
    with open(f"{cfg.out}/{QUALITY}", "a") as f:             # a point from a run killed after its checkpoint
        f.write(json.dumps({"step": 6, "images": 48, "fd": -1.0}) + "\n")
    Trainer(cfg).run()
    rows = read_quality(cfg.out)
    assert [r["step"] for r in rows] == [2, 4, 6, 8]
    assert all(r["fd"] >= 0 for r in rows)


def test_patience_ends_a_run_early_and_says_why(tiny_cfg):
    from catgan.train.trainer import Trainer, read_status
    result = Trainer(tiny_cfg("dcgan", steps=400, eval_kimg=0.016, eval_n=48, patience_kimg=0.048)).run()
    rows = read_quality(tiny_cfg("dcgan").out)
    assert result["step"] < 400 and result["stop_reason"].startswith("no better FD")
    assert rows[-1]["images"] - best_row(rows)["images"] >= 48
    assert read_status(tiny_cfg("dcgan").out)["state"] == "finished"


def test_a_dataset_without_labels_is_measured_in_the_general_space(tiny_data, tmp_path):
    from catgan.audit.spaces import spaces_for
    from catgan.data.dataset import write_dataset
    ds = write_dataset(tmp_path / "photos", np.asarray(tiny_data.images), {})      # no source, no labels
    assert [s.key for s in spaces_for(ds)] == ["efficientnet"]
    hook = QualityHook(tmp_path, ds, latent_dim=8, every_kimg=1, n=8)
    row = hook.measure(1, 1000, lambda z: np.asarray(ds.images)[:len(z)])
    assert row["space"] == "efficientnet" and "mode_coverage" not in row and row["best"]


def test_a_run_folder_from_before_quality_points_still_lists_by_its_checkpoint(tiny_cfg, tmp_path):
    from catgan.catalogue import list_models, run_weights
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=2, eval_kimg=0, out="runs/old")
    Trainer(cfg).run()
    assert not (tmp_path / "runs" / "old" / QUALITY).exists()
    [entry] = [e for e in list_models(tmp_path / "none", tmp_path / "runs") if e.kind == "run"]
    assert entry.path.name == "checkpoint.safetensors" and entry.meta["step"] == 2
    assert run_weights(tmp_path / "runs" / "old").name == "checkpoint.safetensors"


def test_export_takes_the_best_point_unless_asked_for_the_last(tiny_cfg, tmp_path):
    from catgan.export import export_run
    from catgan.checkpoint import read_meta
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=8, eval_kimg=0.016, eval_n=48)
    Trainer(cfg).run()
    best = best_row(read_quality(cfg.out))
    assert read_meta(export_run(cfg.out, tmp_path / "best"))["step"] == best["step"]
    assert read_meta(export_run(cfg.out, tmp_path / "last", last=True))["step"] == 8
    assert (tmp_path / "best" / QUALITY).exists()


def test_shipped_sample_grids_are_thinned_to_log_spaced_steps_keeping_the_first_the_last_and_the_best():
    from catgan.runs import thinned_steps
    steps = list(range(0, 65_000, 250))
    kept = thinned_steps(steps, keep={40_250}, limit=40)
    assert len(kept) <= 40 and {0, 40_250, 64_750} <= set(kept) and set(kept) <= set(steps)
    gaps = np.diff(kept)
    assert gaps[:5].max() < gaps[-5:].min()          # dense early, where training changes most
    assert thinned_steps([0, 5, 9], limit=40) == [0, 5, 9]


def test_an_export_ships_at_most_max_grids_sample_grids(tiny_cfg, tmp_path, monkeypatch):
    from catgan import export
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=12, sample_every=1)
    Trainer(cfg).run()
    monkeypatch.setattr(export, "MAX_GRIDS", 4)
    export.export_run(cfg.out, tmp_path / "model", last=True)
    steps = [s for s, _ in sample_grids(tmp_path / "model")]
    assert len(steps) == 4 and steps[0] == 0 and steps[-1] == 12


def test_export_takes_a_kept_point_by_its_step_and_names_the_steps_kept(tiny_cfg, tmp_path):
    from catgan.card import write_card
    from catgan.export import export_run
    from catgan.checkpoint import load_checkpoint
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=8, eval_kimg=0.016, eval_n=48, keep_points=True)
    Trainer(cfg).run()
    best = best_row(read_quality(cfg.out))["step"]
    other = next(r["step"] for r in read_quality(cfg.out) if r["step"] != best)
    tensors, meta = load_checkpoint(export_run(cfg.out, tmp_path / "point", step=other))
    assert meta["step"] == other and not any(k.startswith("opt_") for k in tensors)
    assert max(sample_grids(cfg.out))[0] > other      # the run went on; the export's grids end at `other`
    assert max(s for s, _ in sample_grids(tmp_path / "point")) <= other
    chosen = write_card(tmp_path / "point", "test machine")["chosen"]
    assert chosen.startswith(f"Step {other:,}") and "exported with --step" in chosen and f"step {best:,}" in chosen
    with pytest.raises(ValueError, match=f"kept no point at step 3.*{other}"):
        export_run(cfg.out, tmp_path / "none", step=3)
    with pytest.raises(ValueError, match="one of --last and --step"):
        export_run(cfg.out, tmp_path / "none", step=other, last=True)


def test_the_card_of_an_exported_run_says_which_step_was_chosen_and_why(tiny_cfg, tmp_path):
    from catgan.card import write_card
    from catgan.export import export_run
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=8, eval_kimg=0.016, eval_n=48)
    Trainer(cfg).run()
    best = best_row(read_quality(cfg.out))
    export_run(cfg.out, tmp_path / "model")
    card = write_card(tmp_path / "model", "test machine")
    assert card["chosen"].startswith(f"Step {best['step']:,}") and "the lowest FD" in card["chosen"]
    assert [r["best"] for r in card["quality_during_training"]["rows"]].count("*") == 1
    text = (tmp_path / "model" / "card.md").read_text()
    assert "## Chosen step" in text and "## Quality while it trained" in text and "sticker space" in text
    export_run(cfg.out, tmp_path / "last", last=True)
    assert "the last checkpoint" in write_card(tmp_path / "last", "test machine")["chosen"]


def test_a_model_trained_on_from_a_shipped_one_keeps_its_lineage_when_exported_over_it(tiny_cfg, tmp_path):
    """--init-from a shipped model, then exported into that model's folder: the metadata names the parent
    (step, minutes), the logs run from the parent's first step to the fork's last without repeats, and the
    card counts both stretches of training."""
    import json
    import shutil
    from catgan.card import write_card
    from catgan.catalogue import lineage
    from catgan.export import export_run
    from catgan.checkpoint import read_meta
    from catgan.train.trainer import Trainer
    shipped = tmp_path / "shipped"
    source = tiny_cfg("dcgan", out="source", steps=4)
    Trainer(source).run()
    export_run(source.out, shipped)
    parent = read_meta(shipped / "model.safetensors")
    fork = tiny_cfg("dcgan", out="fork", steps=7, init_from=str(shipped / "model.safetensors"))
    Trainer(fork).run()
    meta = read_meta(export_run(fork.out, shipped, last=True))
    [p] = meta["parents"]
    assert p["model"] == str(shipped / "model.safetensors") and p["step"] == 4
    assert p["train_seconds"] == parent["train_seconds"] and meta["step"] == 7
    steps = [json.loads(line)["step"] for line in (shipped / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 8))
    card = write_card(shipped, "test machine")
    assert card["train_minutes"] == round((parent["train_seconds"] + meta["train_seconds"]) / 60, 1)
    assert f"{card['train_minutes']:.0f} min on" in card["summary"]        # one machine kind: one stretch
    assert "`--init-from`" in (shipped / "card.md").read_text()
    fork.steps = 9                 # on after its export replaced the file it started from: the same parent
    Trainer(fork).run()
    meta = read_meta(export_run(fork.out, shipped, last=True))
    assert [p["step"] for p in meta["parents"]] == [4] and meta["step"] == 9
    steps = [json.loads(line)["step"] for line in (shipped / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 10))
    copied = shutil.copy(Path(fork.out) / "checkpoint.safetensors", tmp_path / "copied.safetensors")
    assert [p.get("step") for p in lineage(copied)] == [4, 9]      # a checkpoint copied out keeps its parent


def test_a_lineage_on_one_kind_of_machine_reads_as_one_stretch_and_totals_every_ancestor():
    from catgan.catalogue import lineage_minutes, stretches
    amx = {"device": "cpu", "cpu_capability": "AVX512", "precision": "bf16"}
    avx2 = {"device": "cpu", "cpu_capability": "AVX2", "precision": "fp32"}
    meta = {"parents": [{"train_seconds": 600, "machine": amx}, {"train_seconds": 300, "machine": amx},
                        {"train_seconds": 120, "machine": avx2}], "train_seconds": 60, "machine": amx}
    assert stretches(meta) == [(15.0, "cpu AVX512, bf16"), (2.0, "cpu AVX2, fp32"), (1.0, "cpu AVX512, bf16")]
    assert lineage_minutes(meta) == 18.0


def test_an_exported_logs_run_across_every_ancestor_up_to_where_each_next_run_took_over(tmp_path):
    """A branch of a branch (each `--init-from` a kept point): the export's log holds the first run's rows
    before the second's first step, the second's before the third's, then the third's; no half-written line."""
    from catgan.export import _joined_log, _run_folder
    logs = []
    for name, steps in (("first", range(1, 10)), ("second", range(5, 8)), ("third", range(7, 12))):
        (tmp_path / name / "points").mkdir(parents=True)
        logs.append(tmp_path / name / "metrics.jsonl")
        logs[-1].write_text("".join(f'{{"step": {s}, "run": "{name}"}}\n' for s in steps) + '{"step": 9')
    assert _run_folder(tmp_path / "second" / "points" / "step_0000006.safetensors") == tmp_path / "second"
    assert _run_folder(tmp_path / "shipped" / "model.safetensors") == tmp_path / "shipped"
    rows = [json.loads(line) for line in _joined_log(logs + [tmp_path / "absent.jsonl"]).splitlines()]
    assert [(r["step"], r["run"][0]) for r in rows] == [(1, "f"), (2, "f"), (3, "f"), (4, "f"), (5, "s"),
                                                        (6, "s"), (7, "t"), (8, "t"), (9, "t"), (10, "t"),
                                                        (11, "t")]


def test_an_exported_branch_carries_its_ancestors_sample_grids_up_to_where_it_took_over(tiny_cfg, tmp_path):
    from catgan.export import export_run
    from catgan.train.trainer import Trainer
    first = tiny_cfg("dcgan", out="first", steps=8, sample_every=2, eval_kimg=0.016, eval_n=8, keep_points=True)
    Trainer(first).run()
    point = sorted((Path(first.out) / "points").glob("step_*.safetensors"))[0]
    branch = tiny_cfg("dcgan", out="branch", steps=9, sample_every=2, init_from=str(point))
    Trainer(branch).run()
    took_over = sample_grids(branch.out)[0][0]
    assert took_over < 8                             # the first run's later grids must be left out
    export_run(branch.out, tmp_path / "shipped", last=True)
    shipped = [s for s, _ in sample_grids(tmp_path / "shipped")]
    before = [s for s, _ in sample_grids(first.out) if s < took_over]
    assert shipped == before + [s for s, _ in sample_grids(branch.out)]
    assert shipped[0] == 0


def test_too_few_samples_for_a_point_is_refused_before_training(tiny_cfg):
    from catgan.train.trainer import Trainer
    with pytest.raises(ValueError, match="at least 8"):
        Trainer(tiny_cfg("dcgan", eval_kimg=0.016, eval_n=3))


def test_a_run_with_a_best_point_lists_it_and_its_last_checkpoint(tiny_cfg, tmp_path):
    from catgan.catalogue import list_models
    from catgan.train.trainer import Trainer
    Trainer(tiny_cfg("dcgan", steps=4, eval_kimg=0.016, eval_n=48, out="runs/sw/a")).run()
    best_step = best_row(read_quality(tmp_path / "runs" / "sw" / "a"))["step"]
    Trainer(tiny_cfg("dcgan", steps=8, eval_kimg=0, out="runs/sw/a")).run()       # on, without points
    Trainer(tiny_cfg("dcgan", steps=2, eval_kimg=0.016, eval_n=48, out="runs/sw/b")).run()   # best = last
    (tmp_path / "runs" / "sw" / "sweep.json").write_text("{}")
    runs = {e.name: e for e in list_models(tmp_path / "none", tmp_path / "runs") if e.kind == "run"}
    assert set(runs) == {"run/sw/a", "run/sw/a@last", "run/sw/b"}
    assert runs["run/sw/a"].path.name == BEST and runs["run/sw/a"].meta["step"] == best_step
    assert runs["run/sw/a@last"].meta["step"] == 8 and runs["run/sw/b"].path.name == BEST


def test_a_began_run_logs_its_d_reconstruction_of_unseen_stickers_and_training_is_unchanged(tiny_cfg):
    """BEGAN's own convergence measure at every point; measuring it (D briefly in eval mode) leaves the
    weights exactly as a run without points has them."""
    from catgan.checkpoint import load_checkpoint
    from catgan.train.trainer import CHECKPOINT, Trainer
    cfg = tiny_cfg("began", out="with", steps=4, eval_kimg=0.016, eval_n=16)
    Trainer(cfg).run()
    rows = read_quality(cfg.out)
    assert [r["step"] for r in rows] == [2, 4] and all(0 < r["d_recon_l1"] < 2 for r in rows)
    plain = tiny_cfg("began", out="without", steps=4, eval_kimg=0)
    Trainer(plain).run()
    a, _ = load_checkpoint(Path(cfg.out) / CHECKPOINT)
    b, _ = load_checkpoint(Path(plain.out) / CHECKPOINT)
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith("opt_"))
    dcgan = tiny_cfg("dcgan", out="dcgan", steps=2, eval_kimg=0.016, eval_n=16)
    Trainer(dcgan).run()
    assert "d_recon_l1" not in read_quality(dcgan.out)[0]


def test_a_conditional_point_reads_its_labels_back(tiny_data):
    from catgan.train.quality import reference, score
    ref = reference(tiny_data, 64)
    images = np.asarray(tiny_data.images[:64])
    asked = {a: np.asarray(tiny_data.labels[a][:64]) for a in ("pose", "item", "coat", "eyes")}
    right = score(ref, images, asked)["agreement"]                       # real stickers, asked their own labels
    wrong = score(ref, images, {a: np.roll(v, 7) for a, v in asked.items()})["agreement"]
    assert right > 0.8 and wrong < right - 0.2, (right, wrong)
    assert "agreement" not in score(ref, images)
