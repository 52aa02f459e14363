"""Fake detectability: the classifier two-sample test, its ladder, where it looks, and the kept best point."""
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from catgan.audit import degrade, detect, tells
from catgan.runs import best_row

TINY = detect.Protocol(steps=10, n_train=30, n_test=15, seeds=(0, 1))


@pytest.fixture(scope="module")
def stickers64(tmp_path_factory):
    from catgan.data.dataset import make_synthetic
    return make_synthetic(tmp_path_factory.mktemp("s64") / "s", n=1200, size=64, seed=5, progress=False)


def test_the_same_images_and_seeds_give_the_same_figure(tiny_data):
    images = np.asarray(tiny_data.images)
    real, fake = images[:45], degrade.blur(images[45:90], 1.0)
    a, b = detect.detectability(real, fake, TINY), detect.detectability(real, fake, TINY)
    assert a == b
    assert 0 <= a["detectability"] <= 1 and 0 <= a["auc"] <= 1 and a["stderr"] > 0 and len(a["folds"]) == 2
    assert detect.detectability(real, fake, replace(TINY, seeds=(5, 6))) != a


def test_held_out_reals_score_about_half_and_blurred_reals_high_and_the_ladder_is_ordered(stickers64):
    """On the embedded stickers at 64 px, a shortened protocol: real vs real near chance, then blur 0.5 px,
    then blur 1 px, which is easy to find (a generator that drew blurred reals would be caught)."""
    p = detect.Protocol(steps=150, n_train=400, n_test=200, seeds=(0,))
    lad = detect.ladder(np.asarray(stickers64.images), p, rungs=("real", "blur_0.5px", "blur_1px"))
    d = {k: v["detectability"] for k, v in lad.items()}
    assert abs(d["real"] - 0.5) < 0.08
    assert d["real"] < d["blur_0.5px"] < d["blur_1px"]
    assert d["blur_1px"] >= 0.8
    assert detect.on_ladder(d["blur_0.5px"] + 0.01, lad) == "between blur 0.5 px and blur 1 px"


def test_too_few_images_or_another_resolution_are_refused_by_name(tiny_data):
    images = np.asarray(tiny_data.images)
    with pytest.raises(ValueError, match="needs 45 images a side"):
        detect.detectability(images[:20], images[20:40], TINY)
    with pytest.raises(ValueError, match="resolution"):
        detect.detectability(images[:45], np.zeros((45, 16, 16, 3), np.uint8), TINY)


def test_heat_maps_sum_to_one_and_name_a_part(tiny_data):
    images = np.asarray(tiny_data.images)[:4]
    net = detect.fit(images, degrade.blur(images, 1.0), seed=0, p=detect.Protocol(steps=2))
    maps, colour = tells.heat(net, images)
    assert maps.shape == (4, 32, 32) and np.allclose(maps.sum((1, 2)), 1, atol=1e-4)
    assert ((0 <= colour) & (colour <= 1)).all()
    named = tells.name_tells(maps, images)
    assert all(t["tell"] in tells.PARTS and math.isclose(sum(t[f"heat {p}"] for p in tells.PARTS), 1, abs_tol=0.01)
               for t in named)
    over = tells.overlay(images[0], maps[0])
    assert over.shape == images[0].shape and over.dtype == np.uint8


def test_parts_find_the_outline_of_a_dark_square_on_white():
    im = np.full((1, 16, 16, 3), 255, np.uint8)
    im[0, 4:12, 4:12] = 40
    outline, inside, background = tells.parts(im)[0]
    assert outline[4, 8] and outline[3, 8] and not outline[8, 8]
    assert inside[8, 8] and background[0, 0] and not inside[0, 0]


def _q(step, fd, det=None, se=0.01):
    row = {"step": step, "images": step * 10, "fd": fd}
    if det is not None:
        row.update(detectability=det, detect_stderr=se)
    return row


def test_a_blurrier_point_with_a_lower_fd_is_not_kept_when_the_detector_finds_it():
    rows = [_q(1, 9.0, 0.95), _q(2, 6.0, 0.99), _q(3, 7.0, 0.94)]
    assert best_row(rows)["step"] == 3            # FD prefers step 2; its fakes are found more often
    within = [_q(1, 9.0, 0.95), _q(2, 6.0, 0.955)]
    assert best_row(within)["step"] == 2          # within a standard error the lower FD decides
    assert best_row([_q(1, 5.0), _q(2, 4.0)])["step"] == 2                     # runs from before it: FD


def test_a_judged_first_point_does_not_hold_off_later_unjudged_points_unless_they_are_blurrier():
    run = [_q(1, 40.0, 0.99), _q(2, 30.0), _q(3, 18.0)]
    assert best_row(run)["step"] == 3                      # detection is rare in a long run: FD decides
    run[2]["hf"] = -0.2                                    # ...but not for a point the spectrum calls blurred
    assert best_row(run)["step"] == 2
    assert best_row([_q(1, 5.0), _q(2, 9.0, 0.97)])["step"] == 1   # a judged point with a worse FD too


def test_quality_rows_carry_detectability_within_its_time_budget(tiny_cfg, monkeypatch):
    from catgan.train import quality
    from catgan.train.trainer import Trainer
    monkeypatch.setattr(quality, "DETECT", detect.Protocol(steps=5, n_train=30, n_test=15, seeds=(0,)))
    cfg = tiny_cfg("dcgan", steps=8, eval_kimg=0.016, eval_n=16)
    Trainer(cfg).run()
    rows = quality.read_quality(cfg.out)
    assert len(rows) == 4
    assert 0 <= rows[0]["detectability"] <= 1 and rows[0]["detect_stderr"] > 0 and rows[0]["detect_seconds"] > 0
    # the first point is always judged; in a run of a second or two a second detection would spend far more
    # than DETECT_BUDGET of its training time, so no other point is
    assert [r for r in rows if "detectability" in r] == rows[:1]


def test_detect_model_writes_its_figure_ladder_and_heat_maps(tiny_cfg, tmp_path):
    from catgan.audit.evaluate import DETECTABLE_FILE, detect_model
    from catgan.train.trainer import CHECKPOINT, Trainer
    cfg = tiny_cfg("dcgan", steps=2)
    Trainer(cfg).run()
    model = tmp_path / "run" / CHECKPOINT
    out = detect_model(model, progress=False, p=TINY)
    assert {"detectability", "auc", "stderr", "ladder", "on_ladder", "most_detectable"} <= set(out)
    assert set(out["ladder"]) == {"real", "blur_0.5px", "blur_1px", "noise_3", "jpeg_90"}
    assert all(t["seed"] >= 1_000_000 and t["tell"] in tells.PARTS for t in out["most_detectable"])
    judged = sum(r["judged"] for r in out["pairs"])        # each sample some fit held out, in one pair or another
    assert TINY.n_test <= judged <= len(TINY.seeds) * TINY.n_test
    assert abs(sum(r["real"] for r in out["pairs"]) - 1) < 1e-3
    report = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert report["detect"]["detectability"] == out["detectability"] and out["saved"].startswith("written into")
    assert (tmp_path / "run" / DETECTABLE_FILE).read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "run" / "eval.json").write_text(json.dumps({**report, "step": 99, "detect": {}}))
    again = detect_model(model, progress=False, p=TINY)                  # a report of another model is kept
    assert "not written" in again["saved"] and "reports step 99" in again["saved"]
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["detect"] == {}


def test_the_recommended_scale_is_the_least_detectable_that_keeps_the_combinations():
    from catgan.audit.truncation import recommend
    rows = [{"scale": 0.5, "detectability": 0.80, "stderr": 0.01, "mode_coverage": 0.70},   # loses combinations
            {"scale": 0.7, "detectability": 0.90, "stderr": 0.01, "mode_coverage": 0.90},
            {"scale": 0.85, "detectability": 0.92, "stderr": 0.01, "mode_coverage": 0.91},
            {"scale": 1.0, "detectability": 0.95, "stderr": 0.01, "mode_coverage": 0.91}]
    assert recommend(rows) == 0.7
    rows[2]["detectability"] = 0.905                    # within a standard error: the lesser truncation
    assert recommend(rows) == 0.85
    assert recommend([{k: v for k, v in r.items() if k != "mode_coverage"} for r in rows]) == 0.5   # no labels


def test_keep_points_saves_every_quality_point_and_a_resume_keeps_the_flag(tiny_cfg):
    from catgan import load_generator
    from catgan.catalogue import kept_points
    from catgan.runs import resume_args
    from catgan.train.trainer import Trainer
    cfg = tiny_cfg("dcgan", steps=6, eval_kimg=0.016, eval_n=16, keep_points=True)
    Trainer(cfg).run()
    kept = kept_points(cfg.out)
    assert [p.name for p in kept] == ["step_0000002.safetensors", "step_0000004.safetensors",
                                      "step_0000006.safetensors"]
    assert load_generator(kept[0]).meta["best"]["step"] == 2
    assert "--keep-points" in resume_args(Path(cfg.out))
    with pytest.raises(ValueError, match="keeps no points: train it with --keep-points"):
        kept_points(Path(cfg.out) / "samples")


def test_the_pair_table_gives_shares_and_the_detectors_catches_per_pose_and_item():
    from catgan.audit.detect import Fold, caught
    from catgan.audit.modes import gaps, pair_table
    names = {"pose": ["sit", "lie"], "item": ["none", "fish"]}
    real_pose, real_item = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])        # four pairs, 1/4 each
    fake_pose, fake_item = np.array([0] * 30 + [1] * 10), np.array([0] * 20 + [1] * 10 + [0] * 10)  # no lie×fish
    folds = [Fold(None, 0, 0, np.zeros(1), np.array([-1.0] * 20 + [1.0] * 10), np.arange(30)),     # sit: caught
             Fold(None, 0, 0, np.zeros(1), np.array([-1.0] * 10 + [1.0] * 10), np.arange(10, 30))]
    got = caught(folds, 40)
    assert got[:10].tolist() == [1.0] * 10 and got[10:20].tolist() == [1.0] * 10 and got[20:30].tolist() == [0.0] * 10
    assert (got[30:] == -1).all()                                             # never held out
    rows = pair_table(real_pose, real_item, fake_pose, fake_item, names, got)
    assert [(r["pose"], r["item"], r["generated"]) for r in rows][0] == ("lie", "fish", 0.0)   # rarest first
    by = {(r["pose"], r["item"]): r for r in rows}
    assert by["sit", "none"]["ratio"] == 2.0 and by["sit", "none"]["caught"] == 1.0
    assert by["sit", "none"]["judged"] == 20
    assert by["sit", "fish"]["caught"] == 0.0 and by["lie", "none"]["judged"] == 0
    found = gaps(rows)
    assert [(r["pose"], r["item"]) for r in found["rare"]] == [("lie", "fish")]
    assert [(r["pose"], r["item"]) for r in found["caught"]] == [("sit", "none")]     # fish: 10 judged, too few


def test_the_detectors_quiz_is_chance_for_alike_scores_and_certain_when_every_fake_scores_lowest():
    from catgan.audit.detect import quiz_rate
    rng = np.random.default_rng(0)
    assert abs(quiz_rate(rng.normal(size=20000), rng.normal(size=20000)) - 1 / 6) < 0.01
    assert quiz_rate(np.array([1.0, 2.0, 3.0]), np.array([0.0, -1.0])) == 1.0
    assert quiz_rate(np.array([1.0, 2.0, 3.0]), np.array([3.0])) == 0.0             # a tie goes against it
    assert quiz_rate(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.5])) == 0.5 ** 5    # half the reals above it


def test_a_figure_measured_under_another_protocol_says_so_and_todays_does_not():
    from dataclasses import replace
    from catgan.audit.report import machine_line
    now = detect.Protocol()
    figure = {"detectability": 0.77, "stderr": 0.04, "on_ladder": "between blur 0.5 px and blur 1 px", "quiz": 0.6}
    assert "older detector protocol" not in machine_line({"detect": {**figure, "protocol": now.key()}})
    assert "older detector protocol" not in machine_line({"detect": {**figure, "protocol": now.one_fit().key()}})
    old = replace(now, steps=now.steps // 4).key()
    line = machine_line({"detect": {**figure, "protocol": old}})
    assert f"older detector protocol ({old}; today's is {now.key()})" in line and "rerun `catgan detect`" in line


def test_the_embedded_stickers_ladder_ships_and_no_fit_recomputes_it(monkeypatch, tmp_path):
    """Its 15 fits depend only on the renderer and the protocol: read, not measured, for the embedded set and
    any other the renderer made at 64 px; another protocol (or a set of other images) is measured and cached."""
    from catgan.audit import evaluate
    from catgan.data.dataset import resolve_dataset
    ds = resolve_dataset("stickers", 64)
    monkeypatch.setattr(detect, "ladder", lambda *a, **k: pytest.fail("the shipped ladder was measured again"))
    rungs = evaluate.detect_ladder(ds, detect.Protocol(), progress=False)
    assert set(rungs) == set(detect.LADDER_NAMES)
    assert 0.45 < rungs["real"]["detectability"] < 0.55 < rungs["blur_1px"]["detectability"]
    assert all(r["stderr"] > 0 for r in rungs.values())
    other = replace(detect.Protocol(), steps=10)
    assert evaluate.shipped_ladder(ds, other) is None
    from catgan.data.dataset import make_synthetic
    renders = make_synthetic(tmp_path / "renders", n=8, size=64, seed=11, progress=False)
    assert evaluate.shipped_ladder(renders, detect.Protocol()) == rungs
    assert evaluate.shipped_ladder(make_synthetic(tmp_path / "small", n=8, size=32, seed=11, progress=False),
                                   detect.Protocol()) is None                  # no 32 px ladder ships


def test_fits_show_progress_on_stderr_and_leave_stdout_to_json(capsys):
    rng = np.random.default_rng(0)
    real, fake = (rng.integers(0, 256, (45, 16, 16, 3), dtype=np.uint8) for _ in range(2))
    quiet = detect.detectability(real, fake, TINY)
    shown = detect.detectability(real, fake, TINY, progress="detector fits")
    out, err = capsys.readouterr()
    assert out == "" and "detector fits" in err and "20/20" in err          # two fits of ten steps
    assert shown == quiet                                                    # watching changes nothing


def test_bf16_and_fp32_detectors_share_a_protocol_and_agree_within_their_errors(tmp_path):
    """bf16 autocast is how the detector runs where it is native; it must not move a figure: on real vs
    real and on a 1 px blur (32 px stickers, a short protocol), the two precisions agree within their errors."""
    from catgan.data.dataset import make_synthetic
    images = np.asarray(make_synthetic(tmp_path / "s", n=600, size=32, seed=5, progress=False).images)
    p = detect.Protocol(steps=100, n_train=200, n_test=100, seeds=(0, 1))
    fp32, bf16 = replace(p, precision="fp32"), replace(p, precision="bf16")
    assert fp32.key() == bf16.key() == p.key()
    real, other = images[:300], images[300:]
    for fake in (other, degrade.blur(other, 1.0)):
        a, b = detect.detectability(real, fake, fp32), detect.detectability(real, fake, bf16)
        assert (a["precision"], b["precision"]) == ("fp32", "bf16")
        assert abs(a["detectability"] - b["detectability"]) <= 3 * math.hypot(a["stderr"], b["stderr"]), (a, b)
    assert b["detectability"] > 0.75                                    # and the bf16 fit does learn
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        replace(p, precision="fp16").bf16()


def _stickers(tmp_path, n=700, size=16):
    from catgan.data.dataset import make_synthetic
    return np.asarray(make_synthetic(tmp_path / "s", n=n, size=size, seed=5, progress=False).images)


def test_a_converging_fit_stops_once_it_has_learnt_and_reads_as_a_fit_run_to_its_ceiling(tmp_path):
    """Real stickers against a strong blur: learnt within a few hundred steps, so the rule stops well before
    the ceiling, with the figure a fit run to the ceiling gives (within its error); the curve is kept."""
    images = _stickers(tmp_path)
    real, fake = images[:350], degrade.blur(images[350:], 1.5)
    p = detect.Protocol(converge=True, steps=1000, n_train=200, n_test=100, seeds=(0,))
    got = detect.detectability(real, fake, p)
    assert all(f["reason"] == "converged" and f["steps"] < p.steps / 2 for f in got["fits"]), got["fits"]
    assert all(f["learnt"] and f["curve"] for f in got["fits"]) and got["failed_fits"] == []
    full = detect.detectability(real, fake, replace(p, converge=False, steps=max(f["steps"] for f in got["fits"]) * 2))
    assert abs(got["detectability"] - full["detectability"]) <= 3 * math.hypot(got["stderr"], full["stderr"])
    assert got["detectability"] > 0.8
    assert p.key() != replace(p, converge=False).key()          # figures of the two rules are never mixed


def test_a_converging_fit_of_real_against_real_stays_at_chance_up_to_its_ceiling(tmp_path):
    images = _stickers(tmp_path)
    p = detect.Protocol(converge=True, steps=300, n_train=200, n_test=100, seeds=(0, 1))
    got = detect.detectability(images[:350], images[350:], p)
    assert abs(got["detectability"] - 0.5) < 0.1 and got["failed_fits"] == []     # none learnt: chance stands
    assert all(f["reason"] == "ceiling" and f["steps"] == p.steps and not f["learnt"] for f in got["fits"])


def test_a_fit_that_never_learnt_beside_one_that_did_is_named_and_left_out(monkeypatch):
    """Not averaged in silence: the fit stuck at chance is listed, and the figure is the fits that learnt."""
    rng = np.random.default_rng(0)

    def fold(real, fake, seed, p, bar=None, should_stop=None):
        stuck = seed == 1
        log = detect.FitLog(steps=[100, 200], val_loss=[0.69, 0.69 if stuck else 0.3],
                            val_acc=[0.5, 0.51 if stuck else 0.9], stopped_at=200, val_images=800)
        rs, fs = rng.normal(0 if stuck else 2, 1, 50), rng.normal(0 if stuck else -2, 1, 50)
        acc = ((rs > 0).sum() + (fs <= 0).sum()) / 100
        return detect.Fold(None, float(acc), 0.5, rs, fs, np.arange(50), log)
    monkeypatch.setattr(detect, "one_fold", fold)
    p = detect.Protocol(converge=True, n_train=10, n_test=5, seeds=(0, 1, 2))
    images = np.zeros((15, 8, 8, 3), np.uint8)
    got = detect.detectability(images, images, p)
    assert got["failed_fits"] == [1] and len(got["folds"]) == 3
    assert got["detectability"] > 0.9 and [f["learnt"] for f in got["fits"]] == [True, False, True]


def test_a_fit_checks_for_stop_between_its_steps():
    rng = np.random.default_rng(0)
    real, fake = (rng.integers(0, 256, (60, 16, 16, 3), dtype=np.uint8) for _ in range(2))
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3
    with pytest.raises(detect.FitStopped, match="stopped at step 3"):
        detect.fit(real, fake, 0, detect.Protocol(steps=1000), should_stop=stop)


def test_stop_while_a_quality_point_fits_its_detector_stops_within_seconds_and_keeps_the_checkpoint(
        tiny_cfg, monkeypatch):
    """Stop (SIGTERM, or the Training page's button) sets the flag the fit checks between its steps: the point
    is dropped, the checkpoint saved, the run "stopped" in seconds, not after the fit's minutes."""
    import threading
    import time
    from catgan.train import quality
    from catgan.train.trainer import CHECKPOINT, Trainer, read_status
    monkeypatch.setattr(quality, "DETECT", detect.Protocol(steps=1_000_000, n_train=30, n_test=15, seeds=(0,)))
    started = threading.Event()
    real_fit = detect.fit

    def watched_fit(*a, **k):
        started.set()
        return real_fit(*a, **k)
    monkeypatch.setattr(detect, "fit", watched_fit)
    t = Trainer(tiny_cfg("dcgan", steps=50, eval_kimg=0.016, eval_n=16))
    stopped_at = []

    def press_stop():
        started.wait(120)
        time.sleep(1)
        stopped_at.append(time.time())
        t.stop_requested = True            # what the SIGTERM handler does
    threading.Thread(target=press_stop, daemon=True).start()
    result = t.run()
    assert time.time() - stopped_at[0] < 10
    assert result["state"] == "stopped" and read_status(t.out)["state"] == "stopped"
    assert (t.out / CHECKPOINT).exists() and not (t.out / quality.QUALITY).exists()


def test_the_stopping_rule_waits_for_a_late_take_off_and_stops_on_a_smoothed_plateau():
    """The validation losses one fit on the default's samples logged (every 100 steps, 3,200 images a side):
    near ln 2 for 1,800 steps, then falling, still improving at 2,600, where a rule on single judgements had
    stopped it. Then a plateau (made up, around 0.645): two halvings, then it stops, with step 2,700's
    weights, the best smoothed loss. (An infinite first best once kept step 100's weights for good.)"""
    logged = [0.6908, 0.6912, 0.6905, 0.6894, 0.6893, 0.6914, 0.6894, 0.6944, 0.7027, 0.691, 0.6867, 0.6851,
              0.6883, 0.6887, 0.6791, 0.7035, 0.6906, 0.6788, 0.6578, 0.6765, 0.6525, 0.6344, 0.673, 0.678,
              0.6375, 0.6341]
    plateau = [0.640, 0.645, 0.642, 0.650, 0.641, 0.646, 0.648, 0.644, 0.650, 0.652, 0.649, 0.651, 0.655]
    images = torch.zeros(10, 3, 8, 8)
    rule = detect._Validation(images, images, torch.Generator().manual_seed(0), detect.Protocol.converging())
    net, log = torch.nn.Linear(1, 1), detect.FitLog()
    stopped = []
    for i, loss in enumerate(logged + plateau):
        step = 100 * (i + 1)
        torch.nn.init.constant_(net.weight, step)                 # the weights say which step they are from
        if rule.should_stop(loss, net, log):
            stopped.append(step)
            break
        if step == 1800:
            assert not rule.took_off and rule.halvings == 0
    assert stopped == [3900] and log.reason == "converged" and rule.halvings == 2
    assert float(rule.best_state["weight"]) == 2700