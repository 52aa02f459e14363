import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

from catgan import load_generator
from catgan.checkpoint import CheckpointError, load_checkpoint, read_meta
from catgan.train.trainer import CHECKPOINT, train
from conftest import ROOT


@pytest.fixture(scope="module")
def good(tmp_path_factory, tiny_data):
    from catgan.train.trainer import TrainConfig
    from conftest import TINY
    out = tmp_path_factory.mktemp("ck")
    train(TrainConfig(model="dcgan", data=str(tiny_data.path), out=str(out), steps=1, resolution=32, batch=8,
                      threads=1, progress=False, overrides=dict(TINY["dcgan"])))
    return out / CHECKPOINT


def test_metadata_travels_inside_the_file(good):
    meta = read_meta(good)
    assert meta["family"] == "dcgan" and meta["resolution"] == 32 and meta["step"] == 1
    assert meta["dataset"]["count"] == 96 and "train_seconds" in meta


@pytest.mark.parametrize("case, message", [
    ("missing", "no such checkpoint"),
    ("empty", "empty file"),
    ("truncated", "truncated"),
    ("pickle", "not a safetensors file"),
    ("foreign", "not a catgan checkpoint"),
    ("folder", "is a folder"),
])
def test_bad_checkpoints_name_the_file_and_the_problem(case, message, good, tmp_path):
    p = tmp_path / "model.safetensors"
    if case == "empty":
        p.write_bytes(b"")
    elif case == "truncated":
        p.write_bytes(good.read_bytes()[:-5000])
    elif case == "pickle":
        torch.save({"w": torch.zeros(3)}, p)
    elif case == "foreign":
        save_file({"w": torch.zeros(3)}, str(p))
    elif case == "folder":
        p.mkdir()
    with pytest.raises(CheckpointError, match=message) as e:
        load_generator(p)
    assert str(p) in str(e.value)


def test_weights_that_do_not_fit_the_config_are_refused(good, tmp_path):
    tensors, meta = load_checkpoint(good)
    meta["config"]["ngf"] = 16                       # claims a bigger generator than the weights hold
    bad = tmp_path / "mismatch.safetensors"
    save_file(tensors, str(bad), metadata={"catgan": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="do not match a dcgan net"):
        load_generator(bad)
    meta["family"] = "vae"
    save_file(tensors, str(bad), metadata={"catgan": json.dumps(meta)})
    with pytest.raises(CheckpointError, match="unknown model family 'vae'"):
        load_generator(bad)


def test_cli_reports_errors_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "catgan", "sample", str(tmp_path / "nope.safetensors"),
                           "--out", str(tmp_path / "x.png")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert "catgan: error:" in done.stderr and "no such checkpoint" in done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "catgan", "prepare", "stickers", str(tmp_path / "none"),
                           "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "does not exist" in done.stderr
