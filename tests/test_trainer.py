import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from catgan import load_generator
from catgan.models import FAMILIES
from catgan.checkpoint import load_checkpoint, read_meta
from catgan.train.trainer import CHECKPOINT, TrainingFailed, read_status, train
from conftest import ROOT, train_args, wait_for


@pytest.mark.parametrize("model", list(FAMILIES))
def test_few_steps_write_everything(model, tiny_cfg):
    cfg = tiny_cfg(model, steps=4)
    result = train(cfg)
    out = Path(cfg.out)
    assert result["state"] == "finished" and result["step"] == 4
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    expected = {"began": {"L_real", "L_fake", "k_t", "M_global"},
                "pgwgan": {"critic_loss", "wasserstein", "drift", "resolution", "alpha"},
                "dcgan": {"D_x", "D_G_z", "loss_D", "loss_G"},
                "stylegan2": {"D_x", "D_G_z", "loss_D", "loss_G", "r1"}}[model]
    assert expected <= set(rows[-1]) and rows[-1]["images_per_s"] > 0
    assert rows[-1]["lr_G"] > 0 and rows[-1]["lr_D"] > 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_000000.png", "step_000002.png", "step_000004.png"]
    status = read_status(out)
    assert status["state"] == "finished" and status["step"] == 4 and status["total"] == 4
    g = load_generator(out / CHECKPOINT, device="cpu")
    assert (g.family, g.resolution) == (model, 32)
    z = g.latents(seed=1, n=3)
    batch = g.generate(z)
    assert batch.shape == (3, 32, 32, 3) and batch.dtype.name == "uint8"
    one = g.generate(z[1:2])          # eval mode: an image alone equals itself in a batch
    assert abs(one[0].astype(int) - batch[1].astype(int)).max() <= 1


def _weights(path):
    tensors, meta = load_checkpoint(path)
    return {k: v for k, v in tensors.items() if not k.startswith("opt_")}, meta


def _cli(cfg, steps):
    return [sys.executable, "-m", "catgan", *train_args(cfg, steps)]


@pytest.mark.parametrize("model", list(FAMILIES))
def test_sigkill_then_resume_matches_an_uninterrupted_run(model, tiny_cfg):
    killed = tiny_cfg(model, out="killed", sample_every=1000)
    proc = subprocess.Popen(_cli(killed, 10_000), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = Path(killed.out) / CHECKPOINT
    wait_for(lambda: ck.exists() and read_meta(ck)["step"] >= 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    k = read_meta(ck)["step"]
    total = k + 5
    killed.steps = total
    train(killed)                                            # resumes from step k
    clean = tiny_cfg(model, out="clean", steps=total, sample_every=1000)
    train(clean)
    a, meta_a = _weights(Path(killed.out) / CHECKPOINT)
    b, meta_b = _weights(Path(clean.out) / CHECKPOINT)
    assert meta_a["step"] == meta_b["step"] == total
    assert a.keys() == b.keys()
    assert all(torch.equal(a[key], b[key]) for key in a), "resumed weights must equal uninterrupted ones"
    assert meta_a["state"] == meta_b["state"]
    steps = [json.loads(line)["step"] for line in (Path(killed.out) / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == total, "no step logged twice after a resume"


def test_sigterm_saves_then_stops(tiny_cfg):
    cfg = tiny_cfg("dcgan", out="term")
    proc = subprocess.Popen(_cli(cfg, 100_000), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: (read_status(cfg.out) or {}).get("step", 0) >= 3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    status = read_status(cfg.out)
    assert status["state"] == "stopped"
    assert read_meta(Path(cfg.out) / CHECKPOINT)["step"] == status["step"] >= 3


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_cfg, monkeypatch):
    fam = FAMILIES["dcgan"]
    real_step = fam.train_step

    def poisoned(self, real, gen, step, labels=None):
        m = real_step(self, real, gen, step, labels)
        return {**m, "loss_D": float("nan")} if step == 3 else m
    monkeypatch.setattr(fam, "train_step", poisoned)
    cfg = tiny_cfg("dcgan", out="nan", steps=10)
    with pytest.raises(TrainingFailed, match="loss_D became nan at step 3"):
        train(cfg)
    status = read_status(cfg.out)
    assert status["state"] == "failed" and "loss_D" in status["error"] and "step 3" in status["error"]
    assert read_meta(Path(cfg.out) / CHECKPOINT)["step"] == 2


def test_a_second_trainer_on_the_same_run_is_refused(tiny_cfg):
    from filelock import FileLock
    from catgan.train.trainer import RunBusy
    cfg = tiny_cfg("dcgan", out="busy")
    Path(cfg.out).mkdir(parents=True)
    with FileLock(str(Path(cfg.out) / "run.lock")):
        with pytest.raises(RunBusy, match="already being trained"):
            train(cfg)


def test_resuming_a_run_of_another_family_is_refused(tiny_cfg):
    train(tiny_cfg("dcgan", out="mixed", steps=2))
    with pytest.raises(ValueError, match="holds a dcgan run"):
        train(tiny_cfg("began", out="mixed", steps=2))


@pytest.mark.parametrize("model", list(FAMILIES))
def test_ddp_with_two_cpu_processes(model, tiny_cfg):
    cfg = tiny_cfg(model, out=f"ddp-{model}")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "catgan", *_cli(cfg, 4)[3:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    meta = read_meta(Path(cfg.out) / CHECKPOINT)
    assert meta["world_size"] == 2 and meta["step"] == 4
    assert read_status(cfg.out)["state"] == "finished"


@pytest.mark.parametrize("model", list(FAMILIES))
def test_a_run_started_from_another_models_weights(model, tiny_cfg, tmp_path):
    """--init-from: the weights (G from G_ema where the file keeps no raw G), the step and the family's state
    carry over, the optimisers start fresh, --set changes what leaves the architecture alone."""
    from catgan.export import export_run
    from catgan.checkpoint import CheckpointError
    from conftest import TINY
    source = tiny_cfg(model, out="source", steps=4)
    train(source)
    slim = export_run(source.out, tmp_path / "shipped")               # a shipped model: sampling net and D
    src, src_meta = _weights(Path(source.out) / CHECKPOINT)
    for origin in (Path(source.out) / CHECKPOINT, slim):
        fork = tiny_cfg(model, out=f"fork-{origin.stem}", steps=4, init_from=str(origin),
                        overrides={**TINY[model], "lr": 1e-5})
        train(fork)                                                   # already at step 4: nothing to train
        tensors, meta = load_checkpoint(Path(fork.out) / CHECKPOINT)
        assert meta["step"] == 4 and meta["config"]["lr"] == 1e-5 and meta["state"] == src_meta["state"]
        assert not [k for k in tensors if "exp_avg" in k]             # fresh optimisers
        kept_g = origin.name == CHECKPOINT                            # the slim file has no raw G
        for key in [k for k in src if k.split(".", 1)[0] in ("G", "G_ema", "D")]:
            net, rest = key.split(".", 1)
            want = src[key] if net != "G" or kept_g else src[f"{src_meta['sample_net']}.{rest}"]
            assert torch.equal(tensors[key], want), (origin.name, key)
        fork.steps = 6
        assert train(fork)["step"] == 6                               # and it trains on
    with pytest.raises(CheckpointError, match="do not fit"):
        train(tiny_cfg(model, out="wider", steps=4, init_from=str(slim),
                       overrides={**TINY[model], **{"dcgan": {"ngf": 12}, "began": {"hidden": 24},
                                                    "pgwgan": {"channels": [24, 16, 8, 8]},
                                                    "stylegan2": {"channels": [24, 16, 8, 8, 8]}}[model]}))
    if model == "pgwgan":                  # its levels above 4x4 may widen (see test_models)
        wide = tiny_cfg(model, out="wide", steps=6, init_from=str(slim),
                        overrides={**TINY[model], "channels": [16, 16, 12, 12]})
        assert train(wide)["step"] == 6
        assert read_meta(Path(wide.out) / CHECKPOINT)["config"]["channels"] == [16, 16, 12, 12]
    with pytest.raises(ValueError, match="past --steps 3"):       # before it makes a folder
        train(tiny_cfg(model, out="short", steps=3, init_from=str(slim)))
    assert not (tmp_path / "short").exists()
    other = next(m for m in FAMILIES if m != model)
    with pytest.raises(ValueError, match=f"is a {model} model"):
        train(tiny_cfg(other, out="other", steps=4, init_from=str(slim)))


def test_a_run_continued_from_weights_ramps_its_learning_rates_up(tiny_cfg, tmp_path):
    """--init-from: fresh Adam moments on trained weights take full-size steps at once, so the rates ramp
    up over --warmup-kimg; the ramp's start is saved, so a resumed run carries it on."""
    source = tiny_cfg("dcgan", out="source", steps=2)
    train(source)
    fork = tiny_cfg("dcgan", out="fork", steps=4, init_from=str(Path(source.out) / CHECKPOINT), warmup_kimg=0.032)
    train(fork)                                   # steps 2 and 3: 8 and 16 of 32 images into the ramp
    assert read_meta(Path(fork.out) / CHECKPOINT)["warmup_from"] == 2
    fork.steps = 7
    train(fork)                                   # resumed: 24, 32 of 32, then the schedule's own rate
    rows = [json.loads(line) for line in (Path(fork.out) / "metrics.jsonl").read_text().splitlines()]
    lr = rows[-1]["lr_G"]
    assert [r["step"] for r in rows] == [3, 4, 5, 6, 7]
    assert [round(r["lr_G"] / lr, 3) for r in rows] == [0.25, 0.5, 0.75, 1.0, 1.0]
    plain = tiny_cfg("dcgan", out="plain", steps=3)
    train(plain)
    assert read_meta(Path(plain.out) / CHECKPOINT)["warmup_from"] is None
