import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from catgan.web.browser import CHROMIUM, launch  # noqa: E402

# Tiny nets for fast tests: every family at 32 px with a handful of channels.
TINY = {
    "dcgan": {"ngf": 8, "ndf": 8},
    "began": {"g_channels": [16, 8, 8], "d_channels": 8, "hidden": 16, "vanish_steps": 4},
    "pgwgan": {"channels": [16, 16, 8, 8], "phase_kimg": 0.016, "gp_every": 2},   # 2 steps of 8 a phase
    "stylegan2": {"channels": [16, 16, 8, 8, 8], "latent_dim": 16, "mapping_layers": 2, "r1_every": 2},
}


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory):
    os.environ["CATGAN_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    from catgan.data.dataset import make_synthetic
    return make_synthetic(tmp_path_factory.mktemp("data") / "tiny", n=96, size=32, seed=3, progress=False)


@pytest.fixture
def tiny_cfg(tiny_data, tmp_path):
    from catgan.train.trainer import TrainConfig

    def make(model, steps=4, out="run", **kw):
        base = dict(model=model, data=str(tiny_data.path), out=str(tmp_path / out), steps=steps, resolution=32,
                    batch=8, log_every=1, sample_every=2, checkpoint_every=2, threads=1, progress=False,
                    overrides=dict(TINY[model]))
        base.update(kw)
        return TrainConfig(**base)
    return make


def train_args(cfg, steps):
    """`catgan train` arguments for a tiny config: the app's own builder plus test-speed settings."""
    from catgan.runs import train_args as build
    return build(cfg.model, cfg.data, cfg.out, steps, resolution=32, batch=8, overrides=cfg.overrides,
                 sample_every=1000) + ["--threads", "1", "--log-every", "1", "--checkpoint-every", "2"]


def wait_for(cond, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module (skips where either is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (requirements-dev.txt)")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
