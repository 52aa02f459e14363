"""The sticker space: robust to invisible nuisances, still sensitive to what a person sees."""
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from catgan.audit import degrade, sticker_space
from catgan.audit.metrics import fid
from catgan.audit.spaces import SPACES, rho
from catgan.data.dataset import render_stickers


@pytest.fixture(scope="module")
def stickers():
    images, labels = render_stickers(2000, 64, seed=0, progress=False)     # the evaluation set's seed
    return images, {k: np.asarray(v) for k, v in labels.items()}


@pytest.fixture(scope="module")
def feats(stickers):
    return sticker_space.features(stickers[0])


def test_invisible_nuisances_move_features_far_less_than_neighbours_differ(stickers, feats):
    r = rho(SPACES["sticker"], stickers[0][:500], feats, k=5)
    assert set(r) == {"noise_3", "blur_0.8", "jpeg_90"}
    assert all(v < 0.3 for v in r.values()), r


def test_ladder_is_ordered_and_noise_stays_near_the_floor(stickers, feats):
    ref, other = feats[:1000], stickers[0][1000:]
    real = fid(ref, feats[1000:])
    noise = fid(ref, sticker_space.features(degrade.noise(other, 3.0)))
    blur1 = fid(ref, sticker_space.features(degrade.blur(other, 1.0)))
    blur2 = fid(ref, sticker_space.features(degrade.blur(other, 2.0)))
    assert real < blur1 < blur2
    assert noise <= 1.5 * real


def test_heads_read_the_labels_of_real_stickers(stickers):
    images, labels = stickers
    pred = sticker_space.classify(images[:500])
    for a in sticker_space.ATTRIBUTES:
        assert (pred[a] == labels[a][:500]).mean() > 0.9, a


def test_retraining_is_deterministic(tmp_path):
    a = sticker_space.train_space(tmp_path / "a.safetensors", n=256, epochs=1, progress=False)
    b = sticker_space.train_space(tmp_path / "b.safetensors", n=256, epochs=1, progress=False)
    assert a["steps"] == b["steps"] == 2
    wa, wb = load_file(tmp_path / "a.safetensors"), load_file(tmp_path / "b.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_degradations_keep_shape_and_type():
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    for fn in (*degrade.NUISANCES.values(), *degrade.LADDER.values()):
        y = fn(x)
        assert y.shape == x.shape and y.dtype == np.uint8 and not np.array_equal(y, x)
    assert np.array_equal(degrade.blur(x, 0), x)


def test_features_and_labels_in_one_pass_match_the_separate_calls(tiny_data):
    import numpy as np
    from catgan.audit import sticker_space
    images = np.asarray(tiny_data.images[:20])
    feats, labels = sticker_space.features_and_labels(images, batch=8)
    assert np.allclose(feats, sticker_space.features(images), atol=1e-5)
    assert all(np.array_equal(labels[a], v) for a, v in sticker_space.classify(images, batch=8).items())
    assert labels["pose"].shape == (20,)
