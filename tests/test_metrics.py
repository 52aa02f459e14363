import numpy as np
import pytest

from catgan.audit.metrics import fid, kid, prdc


def test_fid_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    d = 6
    mu = np.linspace(-1, 1, d)
    s = np.linspace(0.5, 2.0, d)
    a = rng.standard_normal((40_000, d))
    b = rng.standard_normal((40_000, d)) * s + mu
    # N(0, I) vs N(mu, diag(s^2)): |mu|^2 + sum(1 + s^2 - 2 s)
    expected = (mu ** 2).sum() + (1 + s ** 2 - 2 * s).sum()
    assert fid(a, b) == pytest.approx(expected, rel=0.03)
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_matches_a_direct_double_loop():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((12, 4)), rng.standard_normal((12, 4)) + 0.5
    m, d = 12, 4

    def k(a, b):
        return (a @ b / d + 1) ** 3
    direct = (sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
              + sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
              - 2 * sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m))
    mean, std = kid(x, y, subsets=3, subset_size=12)
    assert mean == pytest.approx(direct, rel=1e-9) and std == pytest.approx(0.0, abs=1e-12)


def test_prdc_on_identical_and_disjoint_sets():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 5))
    same = prdc(x, x.copy())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["density"] == pytest.approx(4 / 3)       # each ball holds its own copy plus k=3 neighbours
    fresh = prdc(x, rng.standard_normal((300, 5)))
    assert fresh["density"] == pytest.approx(1.0, abs=0.2) and fresh["precision"] > 0.8
    far = prdc(x, x + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_separates_fidelity_from_diversity():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((600, 2))
    collapsed = rng.standard_normal((600, 2)) * 0.1           # realistic but not diverse
    m = prdc(real, collapsed)
    assert m["precision"] > 0.9 and m["recall"] < 0.3 and m["coverage"] < 0.3


def test_coverage_and_density_of_a_perfect_model_match_their_closed_forms():
    """Fakes from the real distribution: coverage = 1 - prod_{j=1..k} (N-j)/(N+M-j), density = 1 (k = 5)."""
    rng = np.random.default_rng(4)
    n = m = 400
    k = 5
    expected = 1 - np.prod([(n - j) / (n + m - j) for j in range(1, k + 1)])
    cov, dens = [], []
    for _ in range(8):
        real, fake = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
        r = prdc(real, fake, k=k)
        cov.append(r["coverage"])
        dens.append(r["density"])
    assert np.mean(cov) == pytest.approx(expected, abs=0.02)          # about 1 - 2^-5 = 0.97
    assert np.mean(dens) == pytest.approx(1.0, abs=0.08)


def test_fd_of_a_shifted_copy_is_the_squared_shift():
    x = np.random.default_rng(5).standard_normal((2000, 8))
    c = np.linspace(-0.5, 0.5, 8)
    assert fid(x, x + c) == pytest.approx((c ** 2).sum(), rel=1e-6)


def test_kid_of_two_real_halves_is_about_zero():
    rng = np.random.default_rng(6)
    mean, std = kid(rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16)), subsets=20, subset_size=500)
    assert abs(mean) < 3 * std + 1e-3
    shifted, _ = kid(rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16)) + 0.5, subsets=20,
                     subset_size=500)
    assert shifted > 10 * abs(mean)


def test_the_spectrum_sees_blur_and_noise_that_real_images_lack():
    from catgan.audit import degrade
    from catgan.audit.spectrum import radial_log_power, spectral_gap
    from catgan.data import render
    stickers = np.stack([render.render_one(3, i, 64)[0] for i in range(256)])
    real, other = radial_log_power(stickers[:128]), radial_log_power(stickers[128:])
    assert abs(spectral_gap(real, other)["hf"]) < 0.1
    soft, softer = (spectral_gap(real, radial_log_power(degrade.blur(stickers[128:], s))) for s in (0.5, 1.0))
    assert softer["hf"] < soft["hf"] < -0.2, "more blur, less high-frequency power"
    assert spectral_gap(real, radial_log_power(degrade.noise(stickers[128:], 12)))["hf"] > 0.1
    assert softer["spectral_rms"] > soft["spectral_rms"] > spectral_gap(real, other)["spectral_rms"]


def test_the_spectrum_refuses_images_that_are_not_square_batches():
    from catgan.audit.spectrum import radial_log_power
    with pytest.raises(ValueError, match="square"):
        radial_log_power(np.zeros((2, 64, 32, 3), np.uint8))
