import numpy as np
import pytest

from catgan.audit import features as feats
from catgan.audit.spaces import dataset_features
from catgan.data.dataset import DatasetError, default_dataset, load_dataset, make_synthetic, write_dataset


def test_default_dataset_is_built_once_then_loaded(monkeypatch, tmp_path):
    monkeypatch.setenv("CATGAN_CACHE", str(tmp_path))
    a = default_dataset(32, n=20, progress=False)
    stamp = (a.path / "images.npy").stat().st_mtime_ns
    b = default_dataset(32, n=20, progress=False)
    assert (b.path / "images.npy").stat().st_mtime_ns == stamp and np.array_equal(a.images, b.images)
    assert isinstance(b.images, np.memmap)
    assert b.info["source"] == "synthetic" and len(b.labels["pose"]) == 20


def test_feature_cache_follows_the_content(monkeypatch, tmp_path):
    monkeypatch.setenv("CATGAN_CACHE", str(tmp_path / "cache"))
    ds = make_synthetic(tmp_path / "ds", n=6, size=32, seed=1, progress=False)
    f1 = dataset_features(ds, "efficientnet", progress=False)
    assert list((tmp_path / "cache" / "features").glob("*.npy"))
    assert np.array_equal(dataset_features(ds, "efficientnet", progress=False), f1)      # from the cache
    ds2 = make_synthetic(tmp_path / "ds", n=6, size=32, seed=2, progress=False)  # rewritten in place
    f2 = dataset_features(ds2, "efficientnet", progress=False)
    assert not np.allclose(f1, f2)
    assert np.allclose(f2, feats.features(np.asarray(ds2.images)), atol=1e-4)


def test_damaged_or_wrong_folders_are_explained(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="not a prepared dataset"):
        load_dataset(tmp_path / "empty")
    ds = make_synthetic(tmp_path / "ds", n=4, size=16, progress=False)
    (ds.path / "images.npy").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="damaged"):
        load_dataset(ds.path)
    with pytest.raises(DatasetError, match="empty dataset"):
        write_dataset(tmp_path / "e", np.zeros((0, 8, 8, 3), np.uint8), {})
    with pytest.raises(DatasetError, match="uint8 N x H x W x 3"):
        write_dataset(tmp_path / "f", np.zeros((2, 8, 8), np.float32), {})


def test_eval_refuses_more_samples_than_the_dataset_has(tiny_cfg):
    from catgan.audit.evaluate import evaluate
    from catgan.train.trainer import CHECKPOINT, train
    cfg = tiny_cfg("dcgan", steps=1)
    train(cfg)
    with pytest.raises(ValueError, match="holds 96; use --n 48"):
        evaluate(f"{cfg.out}/{CHECKPOINT}", n=500, progress=False)


def test_eval_writes_a_full_report_beside_the_model(tiny_cfg):
    import json
    from pathlib import Path
    from catgan.audit.evaluate import evaluate
    from catgan.train.trainer import CHECKPOINT, train
    cfg = tiny_cfg("began", steps=2)
    train(cfg)
    report = evaluate(f"{cfg.out}/{CHECKPOINT}", n=40, memorisation_n=20, progress=False)
    saved = json.loads((Path(cfg.out) / "eval.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert list(saved["spaces"]) == ["sticker", "efficientnet"]        # the robust space first on stickers
    for space in saved["spaces"].values():
        assert space["fd"] > 0 and {"kid", "kid_std", "precision", "recall", "density", "coverage"} <= set(space)
        assert set(space["ladder"]) == {"real", "noise_3", "blur_1", "blur_2"}
        assert set(space["rho"]) == {"noise_3", "blur_0.8", "jpeg_90"}
    assert saved["spaces"]["efficientnet"]["space"].startswith("efficientnet-lite0")
    detail = saved["detail"]                 # the spectrum's ladder: blur takes high frequencies away
    assert detail["ladder"]["blur_2"] < detail["ladder"]["blur_1"] < detail["ladder"]["real"]
    assert detail["hf"] < 0 and detail["spectral_rms"] > 0      # a 2-step BEGAN draws smooth smudges
    labels = saved["labels"]
    assert 0 <= labels["mode_coverage"] <= 1 and labels["modes"] > 1 and labels["kl_real_to_generated"] >= 0
    assert set(labels["histograms"]) == {"pose", "item", "coat", "eyes"}
    assert saved["memorisation"]["n"] == 20


def test_eval_of_a_conditional_model_reads_its_labels_back(tiny_cfg):
    from catgan.audit.evaluate import evaluate
    from catgan.audit.report import row
    from catgan.train.trainer import CHECKPOINT, train
    cfg = tiny_cfg("dcgan", steps=2, cond="labels")
    train(cfg)
    report = evaluate(f"{cfg.out}/{CHECKPOINT}", n=40, memorisation_n=20, progress=False, spaces=["sticker"])
    agreement = report["labels"]["agreement"]
    assert set(agreement) == {"pose", "item", "coat", "eyes", "all"}
    assert all(0 <= v["agreement"] <= 1 and 0 <= v["if_ignored"] <= 1 for k, v in agreement.items() if k != "all")
    assert 0 <= row("tiny", report)["label agreement"] <= 1
