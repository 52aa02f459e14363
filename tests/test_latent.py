import numpy as np
import pytest

from catgan import latent


def test_three_numbers_are_reproducible_and_linear():
    a = latent.from_three([1, 0, 0], 100)
    assert np.array_equal(a, latent.from_three([1, 0, 0], 100))
    assert np.allclose(latent.from_three([2, -1, 0.5], 100), 2 * a - latent.from_three([0, 1, 0], 100)
                       + 0.5 * latent.from_three([0, 0, 1], 100), atol=1e-5)
    assert np.allclose(latent.from_three([0, 0, 0], 100, base=np.ones(100)), 1.0)


def test_corner_grid_hits_the_corners_and_the_centre():
    c = [np.full(4, v, np.float32) for v in (0.0, 1.0, 2.0, 3.0)]
    g = latent.corner_grid(c, 3)
    assert g.shape == (9, 4)
    assert np.allclose(g[0], 0) and np.allclose(g[2], 1) and np.allclose(g[6], 2) and np.allclose(g[8], 3)
    assert np.allclose(g[4], 1.5)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    mid = latent.slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx(np.linalg.norm(a), rel=1e-6)
    assert np.linalg.norm(latent.lerp(a, b, 0.5)) < np.linalg.norm(a)
    with pytest.raises(ValueError, match="linear' or 'spherical"):
        latent.interpolate(a, b, 0.5, "cubic")


def test_morph_path_lengths_and_loop():
    keys = [np.zeros(3), np.ones(3), 2 * np.ones(3)]
    assert latent.morph_path(keys, 10, loop=True).shape == (30, 3)
    path = latent.morph_path(keys, 10, loop=False)
    assert path.shape == (21, 3) and np.allclose(path[-1], 2)
    with pytest.raises(ValueError, match="two keyframes"):
        latent.morph_path(keys[:1], 5, loop=False)


def test_arithmetic():
    assert np.allclose(latent.arithmetic(np.ones(3), np.full(3, 2.0), np.full(3, 5.0)), 4.0)
