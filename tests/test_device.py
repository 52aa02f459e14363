import pytest
import torch

from catgan import device as dev
from catgan.runs import train_args


@pytest.fixture
def cpu_kind(monkeypatch):
    """Pretend to be a CPU of a given kind: (capability, native bf16)."""
    def set_kind(capability, native):
        monkeypatch.setattr(dev, "cpu_capability", lambda: capability)
        monkeypatch.setattr(dev, "cpu_bf16_native", lambda: native)
    return set_kind


def test_auto_picks_fp32_on_avx2_and_bf16_where_native(cpu_kind):
    cpu_kind("AVX2", False)
    p = dev.choose_precision("auto", "cpu")
    assert (p.name, p.bf16, p.warning) == ("fp32", False, None)
    assert "AVX2" in p.reason and "not native" in p.reason
    cpu_kind("AVX512", True)
    p = dev.choose_precision("auto", "cpu")
    assert (p.name, p.bf16, p.warning) == ("bf16", True, None)
    assert "AVX512" in p.reason and "native" in p.reason


def test_forced_bf16_is_honoured_but_warned_where_emulated(cpu_kind):
    cpu_kind("AVX2", False)
    p = dev.choose_precision("bf16", "cpu")
    assert p.name == "bf16" and "emulated" in p.warning and "--precision auto" in p.warning
    cpu_kind("AVX512", True)
    assert dev.choose_precision("bf16", "cpu").warning is None
    assert dev.choose_precision("fp32", "cpu").name == "fp32"


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        dev.choose_precision("fp16", "cpu")


def test_mps_never_gets_bf16(cpu_kind):
    cpu_kind("AVX512", True)
    assert not dev.bf16_native(torch.device("mps"))


def test_trainer_records_what_auto_chose(cpu_kind, tiny_cfg):
    from catgan.checkpoint import read_meta
    from catgan.train.trainer import CHECKPOINT, read_status, train
    cpu_kind("AVX2", False)
    cfg = tiny_cfg("dcgan", steps=2)
    train(cfg)
    status, meta = read_status(cfg.out), read_meta(f"{cfg.out}/{CHECKPOINT}")
    assert status["precision"] == "fp32" and status["cpu_capability"] == "AVX2"
    assert meta["bf16"] is False and meta["machine"]["precision"] == "fp32"
    assert "not native" in meta["machine"]["precision_reason"]


def test_old_bf16_flag_and_configs_still_mean_bf16(tmp_path):
    from catgan.cli import build_parser
    a = build_parser().parse_args(["train", "--model", "dcgan", "--out", str(tmp_path), "--bf16"])
    assert a.bf16 and a.precision == "auto"          # cmd_train maps the flag to precision="bf16"
    old = train_args("dcgan", "stickers", tmp_path, 10, bf16=True)    # a config.json from before --precision
    assert old[old.index("--precision") + 1] == "bf16"
    assert train_args("dcgan", "stickers", tmp_path, 10)[-1] == "auto"
